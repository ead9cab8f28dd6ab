/**
 * The max-pool gradient fused with the preceding conv's ReLU derivative (Backend.maxPool2dGradRelu,
 * used by ops/conv.ts when a pool's input is a conv's fused relu output): gradients through
 * conv(relu) -> maxPool equal the unfused path's (maxPool2dGrad, then the conv's unaryGrad('relu')),
 * also when the conv's output has a second consumer (the tape drops the mark when it adds another
 * gradient into the pool's, so nothing skips a derivative part of its gradient has not been through).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tensor, scope, Rng, type Tensor } from '../../src/tensor/index.js';
import { setBackend, backend } from '../../src/backend/index.js';
import type { Backend } from '../../src/backend/backend.js';
import { ReferenceBackend } from '../../src/backend/reference.js';
import { nativeAvailable, createNativeBackend } from '../../src/backend/native/index.js';
import { wasmAvailable, createWasmBackend } from '../../src/backend/wasm/index.js';
import { conv2d, maxPool2d, sum, mul, add } from '../../src/ops/index.js';
import { valueAndGrad } from '../../src/autograd/index.js';

/** The same backend without the fusion (the optional method hidden). */
function unfused(b: Backend): Backend {
  return new Proxy(b, { get: (t, k) => (k === 'maxPool2dGradRelu' ? undefined : Reflect.get(t, k, t)) });
}

function values(n: number, seed: number, lo = -1, hi = 1): Float32Array {
  const r = new Rng(seed), a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = r.uniform(lo, hi);
  return a;
}

/** Gradients w.r.t. x, kernel and bias; `twoConsumers` adds sum(y * r2) beside the pooled branch. */
function grads(b: Backend, twoConsumers: boolean, nanAt = -1): Float32Array[] {
  const prev = backend();
  setBackend(b);
  try {
    return scope(() => {
      const xs = values(2 * 9 * 11 * 3, 1);
      if (nanAt >= 0) xs[nanAt] = NaN;
      const x = tensor(xs, [2, 9, 11, 3]), w = tensor(values(3 * 3 * 3 * 4, 2, -0.5, 0.5), [3, 3, 3, 4]), bias = tensor(values(4, 3, -0.2, 0.2), [4]);
      const r1 = tensor(values(2 * 4 * 5 * 4, 4), [2, 4, 5, 4]), r2 = tensor(values(2 * 9 * 11 * 4, 5), [2, 9, 11, 4]);
      const { grads: g } = valueAndGrad(() => {
        const y = conv2d(x, w, { bias, padding: 'same', activation: 'relu' });
        const pooled = sum(mul(maxPool2d(y, { poolSize: [2, 2] }), r1));
        return twoConsumers ? add(pooled, sum(mul(y, r2))) : pooled;
      }, [x, w, bias]);
      return g.map((t: Tensor) => Float32Array.from(t.dataSync() as Float32Array));
    });
  } finally {
    setBackend(prev);
  }
}

function same(a: Float32Array[], e: Float32Array[], tol: number, what: string): void {
  a.forEach((g, k) => {
    for (let i = 0; i < g.length; i++) {
      const ok = Number.isNaN(e[k][i]) ? Number.isNaN(g[i]) : Math.abs(g[i] - e[k][i]) <= tol * (1 + Math.abs(e[k][i]));
      if (!ok) assert.fail(`${what}: gradient ${k}, element ${i}: ${g[i]} vs ${e[k][i]}`);
    }
  });
}

const cases: [string, () => Backend, string | false][] = [
  ['reference', () => new ReferenceBackend(), false],
  ['native', () => createNativeBackend(2, () => (wasmAvailable() ? createWasmBackend(2) : new ReferenceBackend())), nativeAvailable() ? false : 'the native backend is not built'],
];

for (const [name, make, skip] of cases) {
  test(`${name}: conv(relu) -> maxPool gradients with the fused max-pool/relu gradient equal the unfused ones`, { skip }, () => {
    const b = make();
    assert.equal(typeof b.maxPool2dGradRelu, 'function');
    for (const two of [false, true]) for (const nanAt of [-1, 2 * 11 * 3 + 7]) {
      const what = `${name}, ${two ? 'two consumers' : 'pool only'}${nanAt >= 0 ? ', a NaN in x' : ''}`;
      same(grads(b, two, nanAt), grads(unfused(b), two, nanAt), 0, what);
    }
  });
}
