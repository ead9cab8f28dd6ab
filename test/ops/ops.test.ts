import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { tensor, zeros, scope, Rng, heap } from '../../src/tensor/index.js';
import { setBackend } from '../../src/backend/index.js';
import { wasmAvailable } from '../../src/backend/wasm/index.js';
import * as ops from '../../src/ops/index.js';
import { valueAndGrad } from '../../src/autograd/index.js';
import { randTensor, assertClose, gradCheck } from '../helpers.js';

const backends = ['reference', ...(wasmAvailable() ? ['wasm'] : [])];

for (const name of backends) {
  describe(`ops on the ${name} backend`, () => {
    test('setup', () => { setBackend(name); });

    test('broadcasting add/mul/div and scalars', () => {
      setBackend(name);
      const a = tensor([[1, 2, 3], [4, 5, 6]]);
      const b = tensor([10, 20, 30]);
      assert.deepEqual(ops.add(a, b).toArray(), [[11, 22, 33], [14, 25, 36]]);
      assert.deepEqual(ops.mul(a, tensor([[2], [3]])).toArray(), [[2, 4, 6], [12, 15, 18]]);
      assert.deepEqual(ops.sub(1, a).toArray(), [[0, -1, -2], [-3, -4, -5]]);
      assert.deepEqual(ops.div(a, 2).toArray(), [[0.5, 1, 1.5], [2, 2.5, 3]]);
      assert.throws(() => ops.add(a, tensor([1, 2])), /add: shapes \(2, 3\) and \(2,\) cannot be broadcast/);
    });

    test('reductions over axes', () => {
      setBackend(name);
      const x = tensor([[[1, 2], [3, 4]], [[5, 6], [7, 8]]]);
      assert.deepEqual(ops.sum(x).toArray(), 36);
      assert.deepEqual(ops.sum(x, 0).toArray(), [[6, 8], [10, 12]]);
      assert.deepEqual(ops.mean(x, [0, 2]).toArray(), [3.5, 5.5]);
      assert.deepEqual(ops.max(x, -1, true).toArray(), [[[2], [4]], [[6], [8]]]);
      assert.throws(() => ops.sum(x, 3), /axis 3 is out of range/);
    });

    test('matmul with transposes', () => {
      setBackend(name);
      const a = tensor([[1, 2], [3, 4], [5, 6]]);
      const b = tensor([[1, 0, 2], [0, 1, 3]]);
      assert.deepEqual(ops.matmul(a, b).toArray(), [[1, 2, 8], [3, 4, 18], [5, 6, 28]]);
      assert.deepEqual(ops.matmul(b, a, { transA: true, transB: true }).toArray(), [[1, 3, 5], [2, 4, 6], [8, 18, 28]]);
      assert.throws(() => ops.matmul(a, a), /inner dimensions differ/);
    });

    test('conv2d valid and same, with bias and relu', () => {
      setBackend(name);
      const x = tensor([1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 3, 3, 1]);
      const w = tensor([1, 0, 0, -1], [2, 2, 1, 1]);
      assert.deepEqual(ops.conv2d(x, w).toArray(), [[[[-4], [-4]], [[-4], [-4]]]]);
      const y = ops.conv2d(x, w, { padding: 'same', bias: tensor([5]), activation: 'relu' });
      // TF pads 'same' with the extra row/column at the bottom/right.
      assert.deepEqual(y.reshape([3, 3]).toArray(), [[1, 1, 8], [1, 1, 11], [12, 13, 14]]);
      assert.throws(() => ops.conv2d(x, tensor(new Float32Array(8), [2, 2, 2, 1])), /has 1 channels but the kernel/);
    });

    test('pooling shapes follow Keras (the notebook map)', () => {
      setBackend(name);
      let x = zeros([1, 306, 461, 1]);
      const shapes: number[][] = [];
      for (let i = 0; i < 3; i++) { x = ops.maxPool2d(x, { poolSize: 2 }); shapes.push(x.shape.slice()); }
      assert.deepEqual(shapes, [[1, 153, 230, 1], [1, 76, 115, 1], [1, 38, 57, 1]]);
      const m = tensor([1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 3, 3, 1]);
      assert.deepEqual(ops.maxPool2d(m, { poolSize: 2, padding: 'same' }).reshape([2, 2]).toArray(), [[5, 6], [8, 9]]);
      assert.deepEqual(ops.avgPool2d(m, { poolSize: 2, padding: 'same' }).reshape([2, 2]).toArray(), [[3, 4.5], [7.5, 9]]);
    });

    test('softmax rows sum to one; logSoftmax matches', () => {
      setBackend(name);
      const x = randTensor([4, 7], 1, -3, 3);
      const s = ops.softmax(x);
      assertClose(ops.sum(s, 1), tensor([1, 1, 1, 1]), 1e-6);
      assertClose(ops.logSoftmax(x), ops.log(s), 1e-5);
    });

    const gc = (label: string, f: (...xs: any[]) => any, shapes: number[][], lo = -1, hi = 1) =>
      test(`gradient: ${label}`, () => {
        setBackend(name);
        scope(() => gradCheck(f, shapes.map((s, i) => randTensor(s, 10 + i, lo, hi))));
      });
    gc('add (broadcast)', (a, b) => ops.add(a, b), [[3, 4], [4]]);
    gc('sub (broadcast)', (a, b) => ops.sub(a, b), [[3, 1], [1, 4]]);
    gc('mul (broadcast)', (a, b) => ops.mul(a, b), [[2, 3, 4], [3, 1]]);
    gc('div', (a, b) => ops.div(a, b), [[3, 4], [3, 4]], 0.5, 2);
    gc('maximum/minimum', (a, b) => ops.add(ops.maximum(a, b), ops.minimum(a, b)), [[5, 3], [5, 3]]);
    gc('pow', (a) => ops.pow(a, 3), [[6]], 0.5, 2);
    gc('exp/log/sqrt/square/abs/reciprocal', (a) => ops.add(ops.add(ops.exp(a), ops.log(a)), ops.add(ops.sqrt(a), ops.add(ops.square(a), ops.add(ops.abs(a), ops.reciprocal(a))))), [[10]], 0.5, 2);
    gc('clip', (a) => ops.clip(a, -0.5, 0.5), [[20]]);
    for (const act of ['relu', 'sigmoid', 'tanh', 'elu', 'selu', 'leaky_relu', 'gelu', 'swish', 'softplus', 'relu6', 'hard_sigmoid'] as const) {
      gc(`activation ${act}`, (a) => ops.activation(a, act), [[30]], -2.5, 2.5);
    }
    gc('sum/mean/max over axes', (a) => ops.add(ops.sum(a, 1), ops.add(ops.mean(a, 1), ops.max(a, 1))), [[3, 5, 2]]);
    gc('matmul', (a, b) => ops.matmul(a, b), [[3, 5], [5, 4]]);
    gc('matmul transA transB', (a, b) => ops.matmul(a, b, { transA: true, transB: true }), [[5, 3], [4, 5]]);
    gc('transpose', (a) => ops.transpose(a, [2, 0, 1]), [[2, 3, 4]]);
    gc('dense relu', (x, k, b) => ops.dense(x, k, b, 'relu'), [[4, 6], [6, 3], [3]]);
    gc('dense elu (unfused)', (x, k, b) => ops.dense(x, k, b, 'elu'), [[4, 6], [6, 3], [3]]);
    gc('dense sigmoid', (x, k, b) => ops.dense(x, k, b, 'sigmoid'), [[4, 6], [6, 1], [1]]);
    gc('conv2d valid stride 1', (x, w, b) => ops.conv2d(x, w, { bias: b }), [[2, 5, 6, 3], [3, 3, 3, 4], [4]]);
    gc('conv2d same relu', (x, w, b) => ops.conv2d(x, w, { bias: b, padding: 'same', activation: 'relu' }), [[1, 6, 5, 2], [3, 3, 2, 3], [3]]);
    gc('conv2d strides 2 same, even kernel', (x, w) => ops.conv2d(x, w, { padding: 'same', strides: 2 }), [[2, 7, 6, 2], [2, 2, 2, 3]]);
    gc('conv2d dilation 2', (x, w) => ops.conv2d(x, w, { dilationRate: 2 }), [[1, 7, 7, 2], [3, 3, 2, 2]]);
    gc('maxPool2d valid', (x) => ops.maxPool2d(x, { poolSize: 2 }), [[2, 5, 4, 3]]);
    gc('maxPool2d same stride 1', (x) => ops.maxPool2d(x, { poolSize: 3, strides: 1, padding: 'same' }), [[1, 4, 5, 2]]);
    gc('avgPool2d same', (x) => ops.avgPool2d(x, { poolSize: 2, padding: 'same' }), [[2, 5, 3, 2]]);
    gc('softmax', (x) => ops.softmax(x), [[3, 5]]);
    gc('softmax axis 0', (x) => ops.softmax(x, 0), [[3, 5]]);
    gc('logSoftmax', (x) => ops.logSoftmax(x), [[3, 5]]);
    gc('concat', (a, b) => ops.concat([a, b], 1), [[2, 3], [2, 2]]);

    test('dropout scales kept values and passes gradients through the mask', () => {
      setBackend(name);
      const x = randTensor([1000], 3);
      const r = new Rng(1);
      const { value, grads } = valueAndGrad(() => ops.sum(ops.dropout(x, 0.5, r)), [x]);
      const g = grads[0].f32();
      let kept = 0;
      for (const v of g) { assert.ok(v === 0 || v === 2); if (v) kept++; }
      assert.ok(kept > 400 && kept < 600);
      assert.ok(Number.isFinite(value.toArray() as number));
    });

    test('scopes release intermediates; the heap stops growing', () => {
      setBackend(name);
      const w = randTensor([3, 3, 2, 4], 5).keep();
      const x = randTensor([2, 8, 8, 2], 6).keep();
      const step = () => scope(() => {
        const { value, grads } = valueAndGrad(() => ops.mean(ops.square(ops.conv2d(x, w, { padding: 'same', activation: 'relu' }))), [w]);
        value.toArray();
        grads[0].dispose();
      });
      step();
      const blocks = heap().liveBlocks, top = heap().bytesReserved;
      for (let i = 0; i < 50; i++) step();
      assert.equal(heap().liveBlocks, blocks);
      assert.equal(heap().bytesReserved, top);
    });
  });
}

describe('autograd bookkeeping', () => {
  test('shared gradients are never updated in place behind another holder', () => {
    setBackend('reference');
    // out = add(u, v): u and v receive the same gradient object; u is also used by w.
    const f = (a: any, b: any) => {
      const u = ops.exp(a);
      const v = ops.mul(b, 2);
      const w = ops.mul(u, 3);
      return ops.add(ops.add(u, v), ops.add(w, ops.add(a, a)));
    };
    scope(() => gradCheck(f, [randTensor([6], 21), randTensor([6], 22)]));
    scope(() => gradCheck((a: any) => ops.add(a, a), [randTensor([4], 23)]));
    scope(() => gradCheck((a: any) => ops.sum(ops.add(a.reshape([2, 3]), a)), [randTensor([2, 3], 24)]));
  });

  test('unwatched inputs get no gradient work; gradients of one step are released as it goes', () => {
    setBackend('reference');
    const x = randTensor([2, 6, 6, 3], 30).keep();
    const w = randTensor([3, 3, 3, 4], 31).keep();
    scope(() => {
      const before = heap().liveBlocks;
      const { grads } = valueAndGrad(() => ops.mean(ops.conv2d(x, w, { padding: 'same', activation: 'relu' })), [w]);
      assert.deepEqual(grads[0].shape, [3, 3, 3, 4]);
      // value, conv output and w's gradient survive; the seed and the conv's incoming gradient are gone.
      assert.ok(heap().liveBlocks - before <= 4, `live blocks grew by ${heap().liveBlocks - before}`);
    });
  });
});
