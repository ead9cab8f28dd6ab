/**
 * Reliability: a 3x3 'same' convolution with an infinity (or NaN) in its input gives, on every backend,
 * what the direct sums give: +-inf where the sums reach +-inf, NaN only where they meet inf - inf,
 * inf * 0 or a NaN. Winograd F(2x2, 3x3) (wasm: 3x3 same with >= 8 channels; native: >= 16) mixes
 * a tile's inputs with + and - in its transforms, so one infinity became NaN across its tiles
 * (inf - inf); both backends now see the non-finite tile and compute that call the direct way.
 * Checked against a plain float64 loop here (the reference backend too), forward (linear and fused
 * relu, with bias), input gradient and filter gradient (the infinity in x, then in dy), at 1 and 2
 * threads, the bad value inside the image and on its edge; then forward and input gradient with the
 * infinity in the filter (wasm checks the outputs, native the filter).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor, tensor, zeros, Rng } from '../../src/tensor/index.js';
import { ReferenceBackend } from '../../src/backend/reference.js';
import { createWasmBackend, wasmAvailable } from '../../src/backend/wasm/index.js';
import { createNativeBackend, nativeAvailable, nativeUnavailableReason } from '../../src/backend/native/index.js';
import type { Backend, Conv2DParams, Activation } from '../../src/backend/backend.js';

/** 3x3, stride 1, 'same' on [batch, h, w, c] -> [batch, h, w, outC]. */
function same3x3(batch: number, h: number, w: number, inC: number, outC: number, activation: Activation): Conv2DParams {
  return { batch, inH: h, inW: w, inC, outH: h, outW: w, outC, kH: 3, kW: 3, strideH: 1, strideW: 1,
    dilationH: 1, dilationW: 1, padTop: 1, padLeft: 1, activation, alpha: 0 };
}

function values(n: number, seed: number): Float32Array {
  const r = new Rng(seed), a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = r.uniform(-1, 1);
  return a;
}

/** The direct sums in float64: forward (+ bias, activation), input gradient, filter gradient. */
function direct(p: Conv2DParams, x: Float32Array, w: Float32Array, bias: Float32Array | null, dy: Float32Array) {
  const { batch: B, inH: H, inW: W, inC: C, outC: K } = p;
  const y = new Float64Array(B * H * W * K), dx = new Float64Array(B * H * W * C), dw = new Float64Array(9 * C * K);
  for (let b = 0; b < B; b++) for (let oy = 0; oy < H; oy++) for (let ox = 0; ox < W; ox++) {
    const o = ((b * H + oy) * W + ox);
    for (let k = 0; k < K; k++) y[o * K + k] = bias ? bias[k] : 0;
    for (let ky = 0; ky < 3; ky++) for (let kx = 0; kx < 3; kx++) {
      const iy = oy + ky - 1, ix = ox + kx - 1;
      if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
      const i = (b * H + iy) * W + ix, t = ky * 3 + kx;
      for (let c = 0; c < C; c++) for (let k = 0; k < K; k++) {
        const wv = w[(t * C + c) * K + k];
        y[o * K + k] += x[i * C + c] * wv;
        dx[i * C + c] += dy[o * K + k] * wv;
        dw[(t * C + c) * K + k] += x[i * C + c] * dy[o * K + k];
      }
    }
  }
  if (p.activation === 'relu') for (let i = 0; i < y.length; i++) y[i] = y[i] < 0 ? 0 : y[i];
  return { y, dx, dw };
}

function same(got: Float32Array, want: Float64Array, what: string): void {
  assert.equal(got.length, want.length);
  let nonFinite = 0;
  for (let i = 0; i < got.length; i++) {
    const g = got[i], e = want[i];
    if (!Number.isFinite(e)) nonFinite++;
    const ok = Number.isFinite(e) ? Math.abs(g - e) <= 1e-4 + 1e-4 * Math.abs(e) : Object.is(g, e) || (Number.isNaN(e) && Number.isNaN(g));
    if (!ok) assert.fail(`${what}: element ${i} of ${got.length}: ${g}, the direct sums give ${e}`);
  }
  assert.ok(nonFinite > 0, `${what}: the case reaches no infinity or NaN (it tests nothing)`);
}

const wasmSkip = wasmAvailable() ? false : 'build/kernels.wasm is missing (npm run build:kernels)';
const nativeSkip = nativeAvailable() ? false : `native backend not built: ${nativeUnavailableReason()}`;
const backends: [string, string | false, (threads: number) => Backend][] = [
  ['reference', false, () => new ReferenceBackend()],
  ['wasm', wasmSkip, (n) => { const b = createWasmBackend(n); b.setThreads(n); return b; }],
  ['native', nativeSkip, (n) => createNativeBackend(n, () => (wasmAvailable() ? createWasmBackend(n) : new ReferenceBackend()))],
];

// Channel counts where wasm (>= 8, multiples of 4) and native (>= 16) take Winograd; odd sizes for edge tiles.
// native takes F(4x4, 3x3) from 8x8 on (the 9x10 case), F(2x2, 3x3) below.
const CASES: Conv2DParams[] = [same3x3(1, 6, 7, 16, 16, 'relu'), same3x3(2, 5, 6, 8, 12, 'linear'), same3x3(1, 9, 10, 16, 16, 'relu')];

for (const [name, skip, make] of backends) {
  test(`${name}: 3x3 'same' convolutions with +-inf or NaN in x or dy give the direct sums' +-inf and NaN (Winograd falls back)`, { skip }, () => {
    for (const threads of name === 'reference' ? [1] : [1, 2]) {
      const be = make(threads);
      for (const p of CASES) {
        const nx = p.batch * p.inH * p.inW * p.inC, ny = p.batch * p.outH * p.outW * p.outC;
        const w = values(9 * p.inC * p.outC, 2), bias = values(p.outC, 3);
        // Inside the image (row 2, column 3, channel 5) and on its last column (a partial tile when W is odd).
        const inside = (2 * p.inW + 3) * p.inC + 5;
        for (const at of [inside, (p.inW - 1) * p.inC + 1]) {
          for (const bad of [Infinity, -Infinity, NaN]) {
            const x = values(nx, 4), dy = values(ny, 5);
            const xBad = x.slice(), dyBad = dy.slice();
            xBad[at] = bad;
            // dy's only inside: at the edge, the direct filter gradients (im2col, wasm and native) multiply the
            // zero padding by dy's infinity (NaN) where the reference skips those taps; a separate matter.
            dyBad[Math.floor(inside / p.inC) * p.outC + 3] = bad;
            const what = `${name} ${threads} thread(s), ${p.batch}x${p.inH}x${p.inW}x${p.inC}->${p.outC} ${p.activation}, ${bad} at ${at}`;
            const t = (a: Float32Array, shape: number[]): Tensor => tensor(a, shape);
            const xs = [p.batch, p.inH, p.inW, p.inC], ys = [p.batch, p.outH, p.outW, p.outC], ws = [3, 3, p.inC, p.outC];
            // Forward and filter gradient with the bad value in x.
            const e1 = direct(p, xBad, w, bias, dy);
            const y = zeros(ys);
            be.conv2d(t(xBad, xs), t(w, ws), t(bias, [p.outC]), y, p);
            same(y.dataSync() as Float32Array, e1.y, `conv2d, ${what}`);
            const dw = zeros(ws);
            be.conv2dGradFilter(t(xBad, xs), t(dy, ys), dw, p);
            same(dw.dataSync() as Float32Array, e1.dw, `filter gradient (bad x), ${what}`);
            // Input and filter gradients with the bad value in dy.
            const e2 = direct(p, x, w, null, dyBad);
            const dx = zeros(xs);
            be.conv2dGradInput(t(dyBad, ys), t(w, ws), dx, p);
            same(dx.dataSync() as Float32Array, e2.dx, `input gradient, ${what}`);
            const dw2 = zeros(ws);
            be.conv2dGradFilter(t(x, xs), t(dyBad, ys), dw2, p);
            same(dw2.dataSync() as Float32Array, e2.dw, `filter gradient (bad dy), ${what}`);
          }
        }
      }
    }
  });

  // The filter's transform mixes its taps the same way (wasm checks the outputs, so it sees these too).
  test(`${name}: 3x3 'same' convolutions with +-inf or NaN in the filter give the direct sums' +-inf and NaN`, { skip }, () => {
    for (const threads of name === 'reference' ? [1] : [1, 2]) {
      const be = make(threads);
      for (const p of CASES) {
        const xs = [p.batch, p.inH, p.inW, p.inC], ys = [p.batch, p.outH, p.outW, p.outC], ws = [3, 3, p.inC, p.outC];
        const x = values(xs.reduce((a, b) => a * b), 4), dy = values(ys.reduce((a, b) => a * b), 5), bias = values(p.outC, 3);
        for (const bad of [Infinity, -Infinity, NaN]) {
          // The centre tap (input channel 5, output channel 2): the only one that never meets the zero
          // padding, which the direct filter paths (im2col) multiply by the infinity (NaN, as PyTorch gives)
          // where the reference skips the tap.
          for (const tap of [4]) {
            const w = values(9 * p.inC * p.outC, 2);
            w[(tap * p.inC + 5) * p.outC + 2] = bad;
            const what = `${name} ${threads} thread(s), ${p.batch}x${p.inH}x${p.inW}x${p.inC}->${p.outC} ${p.activation}, ${bad} at tap ${tap}`;
            const e = direct(p, x, w, bias, dy);
            const y = zeros(ys);
            be.conv2d(tensor(x, xs), tensor(w, ws), tensor(bias, [p.outC]), y, p);
            same(y.dataSync() as Float32Array, e.y, `conv2d (bad w), ${what}`);
            const dx = zeros(xs);
            be.conv2dGradInput(tensor(dy, ys), tensor(w, ws), dx, p);
            same(dx.dataSync() as Float32Array, e.dx, `input gradient (bad w), ${what}`);
          }
        }
      }
    }
  });
}
