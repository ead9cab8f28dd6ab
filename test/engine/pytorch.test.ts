/**
 * conv2d, pooling and one whole forward/backward step of the notebook's model against numbers
 * computed by PyTorch (test/fixtures/engine/make_fixtures.py; pytorch.json). Inputs and weights
 * are regenerated here by the same counter-based hash, so the fixture stores outputs only.
 *
 * Tolerances: conv2d/pooling outputs and gradients |d| <= 1e-5 + 1e-4 |ref| (float32 sums in a
 * different order); the model's loss and predictions 1e-5 relative, each parameter gradient's
 * sampled entries |d| <= 1e-4 * max|g| + 1e-3 |ref| and its sum/norm 1e-3 relative to the norm.
 */
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Tensor, tensor, scope } from '../../src/tensor/index.js';
import { setBackend, backend, getBackendName } from '../../src/backend/index.js';
import { wasmAvailable } from '../../src/backend/wasm/index.js';
import { conv2d, maxPool2d, avgPool2d, dense, relu, sum, mul, clip, log, add, sub, neg, mean } from '../../src/ops/index.js';
import { valueAndGrad, record } from '../../src/autograd/index.js';

const fx = JSON.parse(readFileSync(new URL('../fixtures/engine/pytorch.json', import.meta.url), 'utf8'));
const initial = getBackendName();
after(() => setBackend(initial));

/** The fixture generator's counter-based uniform numbers in [-scale, scale). */
function hashUniform(seed: number, n: number, scale = 1): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let h = (Math.imul(i, 0x9e3779b1) + seed) >>> 0;
    h ^= h >>> 16; h = Math.imul(h, 0x85ebca6b) >>> 0;
    h ^= h >>> 13; h = Math.imul(h, 0xc2b2ae35) >>> 0;
    h ^= h >>> 16; h >>>= 0;
    out[i] = (h / 4294967296 * 2 - 1) * scale;
  }
  return out;
}
const gen = (seed: number, shape: number[], scale = 1): Tensor => tensor(hashUniform(seed, shape.reduce((a, b) => a * b, 1), scale), shape);
function f32(b64: string): Float32Array {
  const buf = Buffer.from(b64, 'base64');
  return new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
}
function close(a: ArrayLike<number>, e: ArrayLike<number>, atol: number, rtol: number, what: string): void {
  assert.equal(a.length, e.length, `${what}: length`);
  for (let i = 0; i < a.length; i++) {
    if (!(Math.abs(a[i] - e[i]) <= atol + rtol * Math.abs(e[i]))) assert.fail(`${what}: element ${i}: ${a[i]} vs PyTorch ${e[i]} (atol ${atol}, rtol ${rtol})`);
  }
}

const BACKENDS = ['wasm', 'reference'];
for (const name of BACKENDS) {
  describe(`PyTorch fixtures on the ${name} backend`, () => {
    const skip = name === 'wasm' && !wasmAvailable() ? 'build/kernels.wasm is missing' : false;
    test('conv2d forward and gradients (strides, same/valid, dilation)', { skip }, () => {
      setBackend(name);
      for (const c of fx.conv2d) scope(() => {
        const x = gen(c.seed, c.x), w = gen(c.seed + 1, c.w, 0.3), b = gen(c.seed + 2, [c.w[3]], 0.1);
        const what = `${name} conv ${JSON.stringify(c.x)} ${JSON.stringify(c.w)} s${c.stride} d${c.dil} ${c.padding}`;
        const { value, grads } = valueAndGrad(() => {
          const y = conv2d(x, w, { bias: b, strides: c.stride, dilationRate: c.dil, padding: c.padding });
          assert.deepEqual(y.shape, c.y_shape, what);
          close(y.view(), f32(c.y), 1e-5, 1e-4, what + ' y');
          return sum(mul(y, gen(c.seed + 3, c.y_shape)));
        }, [x, w, b]);
        assert.ok(Number.isFinite(value.view()[0]));
        close(grads[0].view(), f32(c.dx), 1e-5, 1e-4, what + ' dx');
        close(grads[1].view(), f32(c.dw), 1e-5, 1e-4, what + ' dw');
        close(grads[2].view(), f32(c.db), 1e-5, 1e-4, what + ' db');
      });
    });
    test('max and average pooling forward and gradients', { skip }, () => {
      setBackend(name);
      for (const c of fx.pool) scope(() => {
        const x = gen(c.seed, c.x);
        const what = `${name} ${c.kind} pool ${JSON.stringify(c.x)} ${c.pool} s${c.stride} ${c.padding}`;
        const { grads } = valueAndGrad(() => {
          const opts = { poolSize: c.pool, strides: c.stride, padding: c.padding };
          const y = c.kind === 'max' ? maxPool2d(x, opts) : avgPool2d(x, opts);
          assert.deepEqual(y.shape, c.y_shape, what);
          close(y.view(), f32(c.y), 1e-6, 1e-5, what + ' y');
          return sum(mul(y, gen(c.seed + 3, c.y_shape)));
        }, [x]);
        close(grads[0].view(), f32(c.dx), 1e-6, 1e-5, what + ' dx');
      });
    });
  });
}

test('the notebook model: one forward/backward step at 150x150x3, batch 2 (wasm)', { skip: wasmAvailable() ? false : 'build/kernels.wasm is missing' }, () => {
  setBackend('wasm');
  const m = fx.model;
  scope(() => {
    const x = gen(m.x_seed, [m.batch, m.size, m.size, 3], m.x_scale);
    const y = tensor(m.y.map((v: number) => [v]));
    const params: Tensor[] = [];
    let c = 3, ps = 100;
    for (const f of [32, 64, 128, 64]) { params.push(gen(ps, [3, 3, c, f], Math.sqrt(6 / (9 * c))), gen(ps + 1, [f], 0.05)); ps += 2; c = f; }
    params.push(gen(ps, [5184, 128], Math.sqrt(6 / (5184 + 128))), gen(ps + 1, [128], 0.05)); ps += 2;
    params.push(gen(ps, [128, 1], Math.sqrt(6 / 129)), gen(ps + 1, [1], 0.05));
    let pred: Float32Array | undefined;
    const { value, grads } = valueAndGrad(() => {
      let h = x;
      for (let i = 0; i < 4; i++) {
        h = conv2d(h, params[2 * i], { bias: params[2 * i + 1], padding: 'same', activation: 'relu' });
        h = maxPool2d(h, { poolSize: 2 });
      }
      const flat = h.reshape([m.batch, h.size / m.batch]);
      record('reshape', [h], flat, (dy) => [dy.reshape(h.shape)]);
      const p = dense(relu(dense(flat, params[8], params[9])), params[10], params[11], 'sigmoid');
      pred = p.view().slice() as Float32Array;
      const pc = clip(p, 1e-7, 1 - 1e-7);
      return neg(mean(add(mul(y, log(pc)), mul(sub(1, y), log(sub(1, pc))))));
    }, params);
    close(pred!, f32(m.pred), 1e-6, 1e-5, 'predictions');
    close([value.view()[0]], [m.loss], 1e-6, 1e-5, 'loss');
    grads.forEach((g, i) => {
      const ref = m.grads[i];
      const gv = g.view();
      const sample = f32(ref.sample);
      const got = Array.from(sample, (_, j) => gv[j * ref.step]);
      let gmax = 0; for (const v of sample) gmax = Math.max(gmax, Math.abs(v));
      close(got, sample, 1e-4 * gmax + 1e-9, 1e-3, `grad ${i} ${JSON.stringify(ref.shape)} sample`);
      let s = 0, n2 = 0; for (let j = 0; j < gv.length; j++) { s += gv[j]; n2 += gv[j] * gv[j]; }
      close([s, Math.sqrt(n2)], [ref.sum, ref.norm], 1e-3 * ref.norm + 1e-9, 1e-3, `grad ${i} sum/norm`);
    });
  });
  assert.equal(backend().name, 'wasm');
});
