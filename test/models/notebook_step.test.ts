/**
 * The notebook's model against PyTorch (test/fixtures/models/make_fixtures.py): same weights and
 * batch (generated from an integer hash on both sides), compared on the forward output, the
 * binary cross-entropy, every gradient (at sampled indices, plus sums) and the weights after one
 * Adam step with Keras's rule.
 *
 * Tolerances (float32 with different summation orders): predictions and loss 1e-5 relative;
 * gradients 2e-3 of the tensor's largest sampled gradient; updated weights 2e-6 absolute
 * (an Adam step moves each weight by about lr = 1e-3).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { tensor, scope } from '../../src/tensor/index.js';
import { valueAndGrad } from '../../src/autograd/index.js';
import { optimizers } from '../../src/optimizers/index.js';
import { BinaryCrossentropy } from '../../src/models/index.js';
import { notebookModel, hashTensor } from './helpers.js';

interface W { shape: number[]; seed: number; index: number[]; grad: number[]; grad_sum: number; grad_abs_sum: number; updated: number[] }
const fx = JSON.parse(readFileSync(new URL('../fixtures/models/notebook_step.json', import.meta.url), 'utf8')) as {
  batch: number; labels: number[]; predictions: number[]; loss: number; weights: W[];
};

function fixtureWeights() {
  return fx.weights.map((w) => {
    if (w.shape.length === 1) return hashTensor(w.shape, w.seed, (u) => (2 * u - 1) * 0.1);
    const fanIn = w.shape.length === 4 ? w.shape[0] * w.shape[1] * w.shape[2] : w.shape[0];
    const fanOut = w.shape.length === 4 ? w.shape[0] * w.shape[1] * w.shape[3] : w.shape[1];
    const limit = Math.sqrt(6 / (fanIn + fanOut));
    return hashTensor(w.shape, w.seed, (u) => (2 * u - 1) * limit);
  });
}

test('notebook model: forward, loss, gradients and one Adam step equal PyTorch with the same weights and batch', () => {
  const model = notebookModel(0);
  model.setWeights(fixtureWeights());
  const x = hashTensor([fx.batch, 150, 150, 3], 1000, (u) => u);
  const y = tensor(fx.labels, [fx.batch]);

  const pred = model.predictOnBatch(x).dataSync();
  fx.predictions.forEach((p, i) => assert.ok(Math.abs(pred[i] - p) <= 1e-5 * Math.abs(p), `prediction ${i}: ${pred[i]} vs ${p}`));

  scope(() => {
    const vars = model.trainableWeights;
    const { value, grads } = valueAndGrad(() => new BinaryCrossentropy().call(y, model.call(x, { training: true })), vars.map((v) => v.value));
    assert.ok(Math.abs(value.dataSync()[0] - fx.loss) <= 1e-5 * fx.loss, `loss ${value.dataSync()[0]} vs ${fx.loss}`);
    fx.weights.forEach((w, k) => {
      const g = grads[k].dataSync();
      const scale = Math.max(...w.grad.map(Math.abs), 1e-12);
      w.index.forEach((i, j) => assert.ok(Math.abs(g[i] - w.grad[j]) <= 2e-3 * scale, `${vars[k].path}[${i}]: ${g[i]} vs ${w.grad[j]}`));
      const abs = g.reduce((s, v) => s + Math.abs(v), 0);
      assert.ok(Math.abs(abs - w.grad_abs_sum) <= 1e-3 * w.grad_abs_sum, `${vars[k].path}: sum |g| ${abs} vs ${w.grad_abs_sum}`);
    });
  });

  model.compile({ optimizer: new optimizers.Adam({ learningRate: 1e-3 }), loss: 'binary_crossentropy' });
  const loss = model.trainOnBatch(x, y) as number;
  assert.ok(Math.abs(loss - fx.loss) <= 1e-5 * fx.loss);
  const ws = model.weights;
  fx.weights.forEach((w, k) => {
    const v = ws[k].value.dataSync();
    w.index.forEach((i, j) => assert.ok(Math.abs(v[i] - w.updated[j]) <= 2e-6, `${ws[k].path}[${i}] after Adam: ${v[i]} vs ${w.updated[j]}`));
  });
  assert.equal(model.optimizer!.iterations, 1);
  model.dispose();
});
