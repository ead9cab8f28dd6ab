/**
 * Memory is the engine's job: 1,000 training steps of a small conv model (conv/pool/dense/dropout,
 * binary cross-entropy, Adam kernels) leave the heap exactly where the first steps left it.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor, tensor, zeros, scope, heap, Rng } from '../../src/tensor/index.js';
import { setBackend, backend, getBackendName } from '../../src/backend/index.js';
import { wasmAvailable } from '../../src/backend/wasm/index.js';
import { conv2d, maxPool2d, dense, dropout, clip, log, mul, sub, add, mean, neg } from '../../src/ops/index.js';
import { valueAndGrad, noGrad, record } from '../../src/autograd/index.js';

const initial = getBackendName();
after(() => setBackend(initial));

function rand(shape: number[], rng: Rng, scale: number): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = (rng.random() * 2 - 1) * scale;
  return tensor(a, shape);
}

for (const name of ['wasm', 'reference']) {
  test(`1,000 training steps do not grow the heap (${name})`, { skip: name === 'wasm' && !wasmAvailable() ? 'build/kernels.wasm is missing' : false }, () => {
    setBackend(name);
    const rng = new Rng(5);
    const shapes = [[3, 3, 3, 8], [8], [3, 3, 8, 8], [8], [72, 16], [16], [16, 1], [1]];
    const params = shapes.map((s) => rand(s, rng, s.length > 1 ? 0.3 : 0.05).keep());
    const m = shapes.map((s) => zeros(s).keep()), v = shapes.map((s) => zeros(s).keep());
    const x = rand([4, 12, 12, 3], rng, 1).keep();
    const y = tensor([[0], [1], [1], [0]]).keep();
    let first = NaN, last = NaN;
    const step = (i: number): void => scope(() => {
      const { value, grads } = valueAndGrad(() => {
        let h = x;
        for (let l = 0; l < 2; l++) {
          h = conv2d(h, params[2 * l], { bias: params[2 * l + 1], padding: 'same', activation: 'relu' });
          h = maxPool2d(h, { poolSize: 2 });
        }
        const src = h;
        const flat = src.reshape([4, 72]);
        record('reshape', [src], flat, (dy) => [dy.reshape(src.shape)]);
        const p = dense(dense(dropout(flat, 0.5, rng), params[4], params[5], 'relu'), params[6], params[7], 'sigmoid');
        const pc = clip(p, 1e-7, 1 - 1e-7);
        return neg(mean(add(mul(y, log(pc)), mul(sub(1, y), log(sub(1, pc))))));
      }, params);
      const loss = value.view()[0];
      if (i === 0) first = loss;
      last = loss;
      noGrad(() => params.forEach((p, k) => backend().adamUpdate(p, grads[k], m[k], v[k], null,
        { lr: 1e-2, beta1: 0.9, beta2: 0.999, epsilon: 1e-7, step: i + 1, weightDecay: 0, amsgrad: false })));
    });
    for (let i = 0; i < 10; i++) step(i);
    const reserved = heap().bytesReserved, inUse = heap().bytesInUse, blocks = heap().liveBlocks, bytes = heap().byteLength;
    for (let i = 10; i < 1000; i++) step(i);
    assert.equal(heap().bytesReserved, reserved, 'heap high-water mark grew');
    assert.equal(heap().bytesInUse, inUse, 'bytes in use grew');
    assert.equal(heap().liveBlocks, blocks, 'live blocks grew');
    assert.equal(heap().byteLength, bytes, 'memory grew');
    assert.ok(Number.isFinite(last) && last < first, `training did not reduce the loss (${first} -> ${last})`);
    for (const t of [...params, ...m, ...v, x, y]) t.dispose();
  });
}
