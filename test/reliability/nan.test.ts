/**
 * Reliability (issue 11 §1): NaN goes through every op and kernel the way NumPy's does, on the
 * reference backend and on the WebAssembly kernels (every conv path: Winograd, few-channel 3x3,
 * GEMM; every pooling path: general and 2x2/2). relu(NaN) is NaN (it was 0, so one NaN pixel made
 * every weight NaN while the loss stayed finite); max/min/pooling/clip pick NaN over any number;
 * an activation's derivative at a NaN input is NaN.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor, tensor, zeros, Rng } from '../../src/tensor/index.js';
import { ReferenceBackend } from '../../src/backend/reference.js';
import { createWasmBackend, wasmAvailable } from '../../src/backend/wasm/index.js';
import type { Backend, Activation, UnaryOp } from '../../src/backend/backend.js';
import { ACTIVATIONS } from '../../src/backend/activations.js';
import { conv2dParams, pool2dParams } from '../../src/ops/index.js';

const backends: [string, () => Backend][] = [['reference', () => new ReferenceBackend()]];
if (wasmAvailable()) backends.push(['wasm', () => { const b = createWasmBackend(); b.setThreads(2); return b; }]);

function rand(shape: number[], seed: number): Tensor {
  const r = new Rng(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = r.uniform(-1, 1);
  return tensor(a, shape);
}
/** 37 values (odd length: vector body and scalar tail), NaN at 0, 5 and 36, the rest mixed signs. */
function withNaN(): Tensor {
  const t = rand([37], 1);
  const v = t.f32();
  v[0] = NaN; v[5] = NaN; v[36] = NaN; v[1] = -0.5; v[2] = 0.5;
  return t;
}
const NAN_AT = new Set([0, 5, 36]);

for (const [name, make] of backends) {
  const B = make();

  test(`${name}: every activation and unary op maps NaN to NaN and numbers to numbers`, () => {
    const x = withNaN();
    const ops: UnaryOp[] = [...ACTIVATIONS, 'exp', 'neg', 'abs', 'square', 'reciprocal', 'sign'];
    for (const op of ops) {
      const out = zeros([37]);
      B.unary(op, x, out, 0.3);
      const v = out.f32();
      for (let i = 0; i < 37; i++) {
        if (NAN_AT.has(i)) assert.ok(Number.isNaN(v[i]), `${op}(NaN) at ${i} gave ${v[i]}`);
        else assert.ok(Number.isFinite(v[i]), `${op}(${x.f32()[i]}) at ${i} gave ${v[i]}`);
      }
    }
    const r = zeros([37]);
    B.unary('relu', x, r, 0);
    assert.equal(r.f32()[1], 0);
    assert.equal(r.f32()[2], 0.5);
  });

  test(`${name}: activation gradients are NaN at NaN inputs`, () => {
    const x = withNaN();
    const dy = rand([37], 2);
    for (const op of ACTIVATIONS.filter((a) => a !== 'linear') as Activation[]) { // linear's derivative is 1 everywhere
      const y = zeros([37]), dx = zeros([37]);
      B.unary(op, x, y, 0.3);
      B.unaryGrad(op, x, y, dy, dx, 0.3);
      for (const i of NAN_AT) assert.ok(Number.isNaN(dx.f32()[i]), `${op}' at NaN gave ${dx.f32()[i]}`);
      assert.ok(Number.isFinite(dx.f32()[3]), `${op}' at a number`);
    }
  });

  test(`${name}: fused bias + activation keeps NaN`, () => {
    const x = rand([3, 13], 3);
    x.f32()[4] = NaN;
    for (const act of ['relu', 'relu6', 'leaky_relu', 'elu', 'sigmoid', 'hard_sigmoid'] as Activation[]) {
      const out = zeros([3, 13]);
      B.biasAct(x, rand([13], 4), out, 3, 13, act, 0.2);
      assert.ok(Number.isNaN(out.f32()[4]), `biasAct ${act}`);
      assert.equal(out.f32().filter(Number.isNaN).length, 1, `biasAct ${act}: one NaN only`);
    }
  });

  test(`${name}: maximum, minimum, clip and the max/min reductions pick NaN`, () => {
    const a = withNaN(), b = rand([37], 5);
    b.f32()[7] = NaN;
    for (const op of ['max', 'min'] as const) {
      const out = zeros([37]), rev = zeros([37]);
      const p = { outShape: [37], aStrides: [1], bStrides: [1] };
      B.binary(op, a, b, out, p);
      B.binary(op, b, a, rev, p);
      for (const i of [0, 5, 7, 36]) {
        assert.ok(Number.isNaN(out.f32()[i]), `${op}(a, b) at ${i}`);
        assert.ok(Number.isNaN(rev.f32()[i]), `${op}(b, a) at ${i}`);
      }
      const s = zeros([37]), sr = zeros([37]);
      B.binaryScalar(op, a, 0, s, false); // clip = min(max(x, lo), hi)
      B.binaryScalar(op, a, 0, sr, true);
      for (const i of NAN_AT) assert.ok(Number.isNaN(s.f32()[i]) && Number.isNaN(sr.f32()[i]), `${op} with a scalar at ${i}`);
      const x = rand([4, 9, 6], 6);
      x.f32()[(2 * 9 + 4) * 6 + 3] = NaN; // outer 2, j 4, inner 3
      const r = zeros([4, 6]);
      B.reduce(op, x, r, 4, 9, 6);
      const rv = r.f32();
      for (let i = 0; i < 24; i++) assert.equal(Number.isNaN(rv[i]), i === 2 * 6 + 3, `reduce ${op} at ${i}`);
      const big = rand([1, 5000, 1], 7);
      big.f32()[4321] = NaN; // long reductions are split over threads
      const r1 = zeros([1, 1]);
      B.reduce(op, big, r1, 1, 5000, 1);
      assert.ok(Number.isNaN(r1.f32()[0]), `long reduce ${op}`);
    }
    const sm = rand([2, 5], 8);
    sm.f32()[2] = NaN;
    const so = zeros([2, 5]);
    B.softmax(sm, so, 2, 5);
    assert.ok(so.f32().slice(0, 5).every(Number.isNaN) && so.f32().slice(5).every(Number.isFinite), 'softmax: the NaN row only');
  });

  for (const [label, pool, ch] of [['2x2/2, 8 channels', 2, 8], ['3x3/2, 5 channels', 3, 5], ['2x2/2, 3 channels', 2, 3]] as const) {
    test(`${name}: max pooling ${label}: NaN wins forward, and its gradient goes to the NaN`, () => {
      const x = rand([2, 6, 6, ch], 9);
      const at = (b: number, y: number, xx: number, c: number) => ((b * 6 + y) * 6 + xx) * ch + c;
      const xv = x.f32();
      xv[at(0, 1, 1, 0)] = NaN;            // window (0, 0) of channel 0
      xv[at(1, 0, 0, ch - 1)] = 100;       // window (0, 0) of the last channel: a larger value before the NaN...
      xv[at(1, 1, 1, ch - 1)] = NaN;       // ...still loses to it
      xv[at(1, 0, 1, ch - 1)] = NaN;       // two NaNs: the first in window order gets the gradient
      const p = pool2dParams(x.shape, { poolSize: pool, strides: 2, padding: 'valid' }, 'maxPool2d');
      const out = zeros([2, p.outH, p.outW, ch]);
      B.maxPool2d(x, out, p);
      const ov = out.f32();
      const o = (b: number, y: number, xx: number, c: number) => ((b * p.outH + y) * p.outW + xx) * ch + c;
      assert.ok(Number.isNaN(ov[o(0, 0, 0, 0)]) && Number.isNaN(ov[o(1, 0, 0, ch - 1)]));
      assert.equal(ov.filter(Number.isNaN).length, pool === 3 ? 2 : 2, 'only the windows holding a NaN');
      const dy = zeros(out.shape as number[]);
      dy.f32().fill(1);
      const dx = zeros(x.shape as number[]);
      B.maxPool2dGrad(x, dy, dx, p);
      const dv = dx.f32();
      assert.equal(dv[at(0, 1, 1, 0)], 1, 'gradient at the NaN');
      assert.equal(dv[at(1, 0, 1, ch - 1)], 1, 'gradient at the first NaN of the window');
      assert.equal(dv[at(1, 1, 1, ch - 1)], 0);
      assert.equal(dv[at(1, 0, 0, ch - 1)], 0, 'not at the larger number before it');
    });
  }

  // Shapes that take each wasm conv path: Winograd (3x3 same, 8 -> 8 channels), the few-channel
  // 3x3 kernels (3 -> 8), and the GEMM: full 4x8 micro-kernel tiles (2 -> 8) and edge tiles
  // (1 -> 4, 3 -> 6; a 1 -> 4 conv lost the NaN there), each with the fused relu.
  for (const [label, k, cin, cout] of [['Winograd 3x3', 3, 8, 8], ['few-channel 3x3', 3, 3, 8], ['GEMM 5x5 full tiles', 5, 2, 8],
    ['GEMM 3x3 edge tiles', 3, 1, 4], ['GEMM 5x5 edge tiles', 5, 3, 6]] as const) {
    test(`${name}: conv2d ${label} + relu: a NaN pixel makes exactly its receptive field NaN`, () => {
      const H = 9;
      const x = rand([1, H, H, cin], 10);
      x.f32()[((4 * H) + 4) * cin + cin - 1] = NaN; // pixel (4, 4), last channel
      const w = rand([k, k, cin, cout], 11), bias = rand([cout], 12);
      const p = { ...conv2dParams(x.shape, w.shape, { padding: 'same' }), activation: 'relu' as Activation };
      const out = zeros([1, H, H, cout]);
      B.conv2d(x, w, bias, out, p);
      const ov = out.f32(), r = (k - 1) / 2;
      for (let y = 0; y < H; y++) for (let xx = 0; xx < H; xx++) for (let c = 0; c < cout; c++) {
        const inField = Math.abs(y - 4) <= r && Math.abs(xx - 4) <= r;
        const v = ov[(y * H + xx) * cout + c];
        assert.equal(Number.isNaN(v), inField, `output (${y}, ${xx}, ${c}) = ${v}`);
        if (!inField) assert.ok(v >= 0, 'relu applied');
      }
    });
  }

  test(`${name}: dense (matmul) + relu keeps a NaN row NaN`, () => {
    const a = rand([5, 12], 13), b = rand([12, 16], 14), out = zeros([5, 16]);
    a.f32()[2 * 12 + 7] = NaN;
    B.matmul(a, b, out, { m: 5, n: 16, k: 12, transA: false, transB: false, accumulate: false });
    const y = zeros([5, 16]);
    B.biasAct(out, null, y, 5, 16, 'relu', 0);
    for (let i = 0; i < 5; i++) for (let j = 0; j < 16; j++) assert.equal(Number.isNaN(y.f32()[i * 16 + j]), i === 2);
  });
}
