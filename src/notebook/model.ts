/** The networks the notebook and the sweep train, built from a `TrialConfig`. */
import { layers } from '../layers/index.js';
import { Sequential } from '../models/index.js';
import { Adam, AdamW, RMSprop, SGD, type Optimizer } from '../optimizers/index.js';
import { filtersPerBlock, NOTEBOOK_CONFIG, type TrialConfig } from './space.js';

/**
 * Conv2D (same padding, relu) [+ BatchNormalization] + MaxPooling2D per block, Flatten, [Dropout],
 * Dense(denseUnits, relu), then Dense(1, sigmoid) for two classes, or Dense(K, softmax) for K >= 3
 * (what a Keras user switches to with `class_mode='categorical'`). With `NOTEBOOK_CONFIG` at 150x150
 * and two classes this is the notebook's model: 830,849 parameters.
 */
export function modelFromConfig(config: TrialConfig = NOTEBOOK_CONFIG, targetSize = 150, seed?: number, numClasses = 2): Sequential {
  if (!Number.isInteger(numClasses) || numClasses < 2) throw new RangeError(`modelFromConfig: numClasses must be an integer >= 2, got ${numClasses}`);
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
  model.add(numClasses === 2 ? new layers.Dense(1, { activation: 'sigmoid' }) : new layers.Dense(numClasses, { activation: 'softmax' }));
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

/** How labels are fed for `numClasses`: 0/1 for two classes, one-hot for more (Keras's `class_mode`). */
export function classModeFor(numClasses: number): 'binary' | 'categorical' { return numClasses > 2 ? 'categorical' : 'binary'; }

/**
 * Builds and compiles with accuracy: binary cross-entropy for two classes, categorical
 * cross-entropy (one-hot labels, `classModeFor`) for three or more.
 */
export function compiledModelFromConfig(config: TrialConfig = NOTEBOOK_CONFIG, targetSize = 150, seed?: number, numClasses = 2): Sequential {
  const model = modelFromConfig(config, targetSize, seed, numClasses);
  const loss = classModeFor(numClasses) === 'binary' ? 'binary_crossentropy' : 'categorical_crossentropy';
  model.compile({ optimizer: optimizerFromConfig(config), loss, metrics: ['accuracy'] });
  return model;
}
