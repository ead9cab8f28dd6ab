import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tensor } from '../../src/tensor/index.js';
import { getLoss, getMetric, BinaryCrossentropy, CategoricalCrossentropy } from '../../src/models/index.js';

const bce = (y: number, p: number) => -(y * Math.log(p) + (1 - y) * Math.log(1 - p));

test('binary_crossentropy: Keras clipping at 1e-7, from logits, label smoothing, config dicts', () => {
  const l = getLoss('binary_crossentropy').call(tensor([0, 1, 1]), tensor([[0.2], [0.9], [1]])).dataSync()[0];
  assert.ok(Math.abs(l - (bce(0, 0.2) + bce(1, 0.9) + bce(1, 1 - 1e-7)) / 3) < 1e-6);
  const z = [-1.5, 0.3];
  const lg = new BinaryCrossentropy({ fromLogits: true }).call(tensor([1, 0]), tensor([[z[0]], [z[1]]])).dataSync()[0];
  const s = (x: number) => 1 / (1 + Math.exp(-x));
  assert.ok(Math.abs(lg - (bce(1, s(z[0])) + bce(0, s(z[1]))) / 2) < 1e-6);
  const ls = getLoss({ class_name: 'BinaryCrossentropy', config: { from_logits: false, label_smoothing: 0.2, axis: -1, reduction: 'sum_over_batch_size', name: 'binary_crossentropy' } });
  const v = ls.call(tensor([1]), tensor([[0.7]])).dataSync()[0];
  assert.ok(Math.abs(v - bce(0.9, 0.7)) < 1e-6);
  const cc = new CategoricalCrossentropy({ labelSmoothing: 0.3 }).call(tensor([[0, 1]]), tensor([[0.25, 0.75]])).dataSync()[0];
  assert.ok(Math.abs(cc - -(0.15 * Math.log(0.25) + 0.85 * Math.log(0.75))) < 1e-6);
  assert.equal(getMetric({ class_name: 'BinaryAccuracy', config: { name: 'acc2' } }).name, 'acc2');
});
