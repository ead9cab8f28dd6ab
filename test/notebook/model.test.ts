import { test } from 'node:test';
import assert from 'node:assert/strict';
import { modelFromConfig, compiledModelFromConfig } from '../../src/notebook/model.js';
import { NOTEBOOK_CONFIG } from '../../src/notebook/space.js';

test("NOTEBOOK_CONFIG builds the notebook's model: 830,849 parameters, layers in the notebook's order", () => {
  const m = modelFromConfig(NOTEBOOK_CONFIG, 150);
  assert.equal(m.countParams(), 830849);
  assert.deepEqual(m.layers.map((l) => l.constructor.name), [
    'Conv2D', 'MaxPooling2D', 'Conv2D', 'MaxPooling2D', 'Conv2D', 'MaxPooling2D', 'Conv2D', 'MaxPooling2D',
    'Flatten', 'Dropout', 'Dense', 'Dense',
  ]);
  m.dispose();
});

test('sweep options change the network: batch norm, augmentation, kernel size, blocks, optimizer', () => {
  const m = compiledModelFromConfig({ ...NOTEBOOK_CONFIG, filters: 8, convBlocks: 2, kernelSize: 5, batchNorm: true, augmentation: true, dropout: 0, optimizer: 'rmsprop' }, 32);
  const names = m.layers.map((l) => l.constructor.name);
  assert.deepEqual(names, ['RandomFlip', 'RandomZoom', 'Conv2D', 'BatchNormalization', 'Activation', 'MaxPooling2D', 'Conv2D', 'BatchNormalization', 'Activation', 'MaxPooling2D', 'Flatten', 'Dense', 'Dense']);
  assert.equal(m.optimizer!.constructor.name, 'RMSprop');
  // conv 5x5: 8 then 16 filters.
  assert.deepEqual(m.layers[2].getWeights()[0].shape, [5, 5, 3, 8]);
  assert.deepEqual(m.layers[6].getWeights()[0].shape, [5, 5, 8, 16]);
  m.dispose();
});
