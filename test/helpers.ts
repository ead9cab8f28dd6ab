/** Shared test helpers: seeded random tensors, closeness checks, finite-difference gradients. */
import assert from 'node:assert/strict';
import { Tensor, tensor, Rng, fmtShape } from '../src/tensor/index.js';
import { valueAndGrad } from '../src/autograd/index.js';

export function randTensor(shape: number[], seed: number, lo = -1, hi = 1): Tensor {
  const r = new Rng(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = r.uniform(lo, hi);
  return tensor(a, shape);
}

/** Asserts |a - b| <= atol + rtol * |b| elementwise. */
export function assertClose(actual: Tensor | ArrayLike<number>, expected: Tensor | ArrayLike<number>, atol = 1e-5, rtol = 1e-4, what = ''): void {
  const a = actual instanceof Tensor ? actual.view() : actual;
  const e = expected instanceof Tensor ? expected.view() : expected;
  if (actual instanceof Tensor && expected instanceof Tensor) {
    assert.deepEqual(actual.shape, expected.shape, `${what} shape ${fmtShape(actual.shape)} vs ${fmtShape(expected.shape)}`);
  }
  assert.equal(a.length, e.length, `${what} length`);
  let worst = 0, at = -1;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - e[i]) - (atol + rtol * Math.abs(e[i]));
    if (!(d <= worst) || Number.isNaN(a[i]) !== Number.isNaN(e[i])) { worst = Number.isNaN(d) ? Infinity : d; at = i; }
  }
  if (at >= 0) assert.fail(`${what} mismatch at ${at}: ${a[at]} vs ${e[at]} (atol ${atol}, rtol ${rtol})`);
}

/**
 * Checks autograd against central finite differences (in float64 arithmetic on float32 data)
 * for f(...inputs) reduced to a scalar by a fixed random projection.
 */
export function gradCheck(f: (...xs: Tensor[]) => Tensor, inputs: Tensor[], opts: { eps?: number; atol?: number; rtol?: number } = {}): void {
  const eps = opts.eps ?? 1e-2, atol = opts.atol ?? 2e-3, rtol = opts.rtol ?? 2e-2;
  const probe = f(...inputs);
  const w = randTensor(probe.shape as number[], 99);
  const wv = w.f32().slice();
  const scalarOf = (): number => {
    const y = f(...inputs).f32();
    let s = 0;
    for (let i = 0; i < y.length; i++) s += y[i] * wv[i];
    return s;
  };
  const { grads } = valueAndGrad(() => {
    const y = f(...inputs);
    return sumWeighted(y, w);
  }, inputs);
  inputs.forEach((x, k) => {
    const xv = x.f32();
    const g = grads[k].f32();
    const n = xv.length;
    const step = Math.max(1, Math.floor(n / 40));
    for (let i = 0; i < n; i += step) {
      const orig = xv[i];
      xv[i] = orig + eps; const up = scalarOf();
      xv[i] = orig - eps; const down = scalarOf();
      xv[i] = orig;
      const num = (up - down) / (2 * eps);
      const tol = atol + rtol * Math.abs(num);
      assert.ok(Math.abs(num - g[i]) <= tol, `gradient of input ${k} at ${i}: autograd ${g[i]} vs numeric ${num}`);
    }
  });
}

import { mul, sum } from '../src/ops/index.js';
function sumWeighted(y: Tensor, w: Tensor): Tensor { return sum(mul(y, w)); }
