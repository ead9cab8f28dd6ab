/** Merge layers: values by hand, gradients by finite differences, Keras 3 configs, shape errors. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tensor } from '../../src/tensor/index.js';
import { layers, clearSession, deserializeLayer, Input } from '../../src/layers/index.js';
import { randTensor, assertClose, gradCheck } from '../helpers.js';

const a = () => tensor([[1, -2, 3], [0.5, 4, -1]]);
const b = () => tensor([[2, 1, -3], [1.5, -4, 2]]);
const c = () => tensor([[0, 5, 1], [-1, 1, 1]]);

test('merge layers compute what Keras computes (hand-checked values)', () => {
  clearSession();
  const cases: [string, number[]][] = [
    ['Add', [3, 4, 1, 1, 1, 2]],
    ['Subtract', [-1, -3, 6, -1, 8, -3]],
    ['Multiply', [0, -10, -9, -0.75, -16, -2]],
    ['Average', [1, 4 / 3, 1 / 3, 1 / 3, 1 / 3, 2 / 3]],
    ['Maximum', [2, 5, 3, 1.5, 4, 2]],
    ['Minimum', [0, -2, -3, -1, -4, -1]],
  ];
  for (const [cls, want] of cases) {
    const layer = deserializeLayer({ class_name: cls, config: {} });
    const ins = cls === 'Subtract' ? [a(), b()] : [a(), b(), c()];
    assertClose(layer.apply(ins), tensor(want, [2, 3]), 1e-6, 1e-6, cls);
  }
  const cat = new layers.Concatenate().apply([a(), tensor([[9], [8]])]);
  assert.deepEqual(cat.shape, [2, 4]);
  assert.deepEqual(Array.from(cat.dataSync()), [1, -2, 3, 9, 0.5, 4, -1, 8]);
  const cat1 = new layers.Concatenate({ axis: 1 }).apply([tensor([1, 2, 3, 4], [1, 2, 2]), tensor([5, 6], [1, 1, 2])]);
  assert.deepEqual(Array.from(cat1.dataSync()), [1, 2, 3, 4, 5, 6]);
});

test('merge layer gradients match finite differences', () => {
  clearSession();
  const x = randTensor([2, 3, 4], 1), y = randTensor([2, 3, 4], 2), z = randTensor([2, 3, 4], 3);
  for (const cls of ['Add', 'Multiply', 'Average', 'Maximum', 'Minimum']) {
    const layer = deserializeLayer({ class_name: cls, config: {} });
    gradCheck((p, q, r) => layer.apply([p, q, r]), [x, y, z]);
  }
  const sub = new layers.Subtract();
  gradCheck((p, q) => sub.apply([p, q]), [x, y]);
  const cat = new layers.Concatenate({ axis: -1 });
  gradCheck((p, q) => cat.apply([p, q]), [x, randTensor([2, 3, 2], 4)]);
  const cat1 = new layers.Concatenate({ axis: 1 });
  gradCheck((p, q) => cat1.apply([p, q]), [x, randTensor([2, 1, 4], 5)]);
});

test('merge layers: Keras 3 configs round-trip; build_config lists the input shapes; shape errors name the layer', () => {
  clearSession();
  const add = new layers.Add();
  const s = add.serialize();
  assert.deepEqual(s.config, { name: 'add', trainable: true, dtype: { module: 'keras', class_name: 'DTypePolicy', config: { name: 'float32' }, registered_name: null } });
  const cat = new layers.Concatenate({ axis: 1, name: 'cat' });
  assert.deepEqual({ ...cat.getConfig(), dtype: undefined }, { name: 'cat', trainable: true, dtype: undefined, axis: 1 });
  const back = deserializeLayer({ class_name: 'Concatenate', config: cat.getConfig() });
  assert.deepEqual(back.getConfig(), cat.getConfig());
  const i1 = Input({ shape: [4, 2] }), i2 = Input({ shape: [4, 3] });
  const out = new layers.Concatenate({ name: 'c2' });
  assert.deepEqual(out.apply([i1, i2]).shape, [null, 4, 5]);
  assert.deepEqual(out.serialize().build_config, { input_shape: [[null, 4, 2], [null, 4, 3]] });
  assert.throws(() => new layers.Concatenate({ axis: 1 }).apply([i1, i2]), /Concatenate "concatenate": the inputs must match except along axis 1/);
  assert.throws(() => new layers.Subtract().apply([i1, i1, i1]), /Subtract "subtract" needs exactly 2 inputs, got 3/);
  assert.throws(() => new layers.Multiply().apply([a(), tensor([1, 2], [2, 1])]), /Multiply "multiply": the inputs must have the same shape/);
  assert.throws(() => new layers.Concatenate({ axis: 0 }), /not the batch axis/);
  assert.throws(() => add.call(a()), /merges a list of tensors/);
});
