/** The networks the notebook and the sweep train, built from a `TrialConfig`. */
import { layers } from '../layers/index.js';
import { Sequential } from '../models/index.js';
import { Adam, AdamW, RMSprop, SGD, type Optimizer } from '../optimizers/index.js';
import { filtersPerBlock, NOTEBOOK_CONFIG, type TrialConfig } from './space.js';

/**
 * Conv2D (same padding, relu) [+ BatchNormalization] + MaxPooling2D per block, Flatten, [Dropout],
 * Dense(denseUnits, relu), Dense(1, sigmoid). With `NOTEBOOK_CONFIG` at 150x150 this is the
 * notebook's model: 830,849 parameters.
 */
export function modelFromConfig(config: TrialConfig = NOTEBOOK_CONFIG, targetSize = 150, seed?: number): Sequential {
  const model = new Sequential();
  const input = { inputShape: [targetSize, targetSize, 3] };
  if (config.augmentation) {
    model.add(new layers.RandomFlip('horizontal', { ...input, seed }));
    model.add(new layers.RandomZoom(0.1, null, { seed }));
  }
  filtersPerBlock(config).forEach((f, i) => {
    const first = i === 0 && !config.augmentation ? input : {};
    model.add(new layers.Conv2D(f, [config.kernelSize, config.kernelSize], { activation: config.batchNorm ? 'linear' : 'relu', padding: 'same', ...first }));
    if (config.batchNorm) {
      model.add(new layers.BatchNormalization());
      model.add(new layers.Activation('relu'));
    }
    model.add(new layers.MaxPooling2D([2, 2]));
  });
  model.add(new layers.Flatten());
  if (config.dropout > 0) model.add(new layers.Dropout(config.dropout, { seed }));
  model.add(new layers.Dense(config.denseUnits, { activation: 'relu' }));
  model.add(new layers.Dense(1, { activation: 'sigmoid' }));
  return model;
}

/** The optimizer a configuration names, at its learning rate. */
export function optimizerFromConfig(config: TrialConfig): Optimizer {
  const learningRate = config.learningRate;
  switch (config.optimizer) {
    case 'adam': return new Adam({ learningRate });
    case 'adamw': return new AdamW({ learningRate });
    case 'rmsprop': return new RMSprop({ learningRate });
    case 'sgd': return new SGD({ learningRate, momentum: 0.9 });
    default: throw new Error(`unknown optimizer '${config.optimizer}'`);
  }
}

/** Builds and compiles (binary cross-entropy, accuracy). */
export function compiledModelFromConfig(config: TrialConfig = NOTEBOOK_CONFIG, targetSize = 150, seed?: number): Sequential {
  const model = modelFromConfig(config, targetSize, seed);
  model.compile({ optimizer: optimizerFromConfig(config), loss: 'binary_crossentropy', metrics: ['accuracy'] });
  return model;
}
