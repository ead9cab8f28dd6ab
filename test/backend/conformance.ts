/**
 * The backend conformance suite: one function any Backend runs (reference, wasm, native at each
 * thread count and instruction set). It checks
 * - every kernel against the reference backend (the oracle) on seeded random inputs at awkward
 *   sizes (1, 3, 7, 150, not multiples of 4 or 16), strides, paddings and dilations, each output
 *   between guard zones that must stay untouched, NaN inputs by the rules of src/backend/backend.ts;
 * - the PyTorch fixtures (test/fixtures/engine/pytorch.json): conv2d and pooling forward and
 *   gradients, and one whole forward/backward step of the notebook's model;
 * - autograd against finite differences through the backend's conv, pooling and dense kernels;
 * - a flat heap over 1,000 training steps;
 * - determinism: the same numbers twice for a given thread count.
 *
 * Tolerances: exact for data movement, comparisons and max pooling; 1e-6 relative for elementwise
 * maps; GEMM and convolutions accumulate in float32 where the reference uses float64, so they are
 * held to |d| <= 1e-6 * K + 1e-5 * |ref| for reduction depth K. PyTorch: see `pytorchFixtures`.
 */
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeSync } from 'node:fs';
import { Tensor, tensor, zeros, scope, heap, Rng } from '../../src/tensor/index.js';
import { ReferenceBackend } from '../../src/backend/reference.js';
import { setBackend, backend } from '../../src/backend/index.js';
import type { Backend, Conv2DParams, Pool2DParams, Activation, BinaryOp, ReduceOp, UnaryOp } from '../../src/backend/backend.js';
import { ACTIVATIONS } from '../../src/backend/activations.js';
import {
  conv2d, maxPool2d, avgPool2d, dense, relu, sum, mul, clip, log, add, sub, neg, mean, dropout,
} from '../../src/ops/index.js';
import { valueAndGrad, noGrad, record } from '../../src/autograd/index.js';
import { gradCheck, randTensor } from '../helpers.js';

export interface ConformanceOptions {
  /** Thread counts to run the kernel checks with (each kernel check runs once per count). */
  threads?: number[];
  /** Run only the kernel checks (e.g. for a second instruction set of the same backend). */
  kernelsOnly?: boolean;
  /** Skip the whole notebook-model step with this reason (the reference backend takes ~9 s for it). */
  skipModelStep?: string;
}

const ref = new ReferenceBackend();
export const UNARY_OPS: readonly UnaryOp[] = [
  'linear', 'relu', 'sigmoid', 'tanh', 'elu', 'selu', 'leaky_relu', 'gelu', 'swish', 'softplus', 'relu6',
  'hard_sigmoid', 'exp', 'log', 'neg', 'abs', 'sqrt', 'square', 'reciprocal', 'sign',
];

function rand(shape: number[], seed: number, lo = -1, hi = 1): Tensor {
  const r = new Rng(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = r.uniform(lo, hi);
  return tensor(a, shape);
}

const GUARD = 37; // elements of guard on each side (not a multiple of 4 or 16)
const SENTINEL = -12345.5;
/** A tensor inside a larger block; `check()` asserts the guard zones were not written. */
function guarded(shape: number[], dtype: 'float32' | 'int32' | 'uint8' | 'float64' = 'float32'): { t: Tensor; check(what: string): void } {
  const n = shape.reduce((a, b) => a * b, 1);
  const block = zeros([n + 2 * GUARD], dtype);
  const v = block.view();
  for (let i = 0; i < GUARD; i++) { v[i] = SENTINEL; v[n + GUARD + i] = SENTINEL; }
  const s = v[0]; // the sentinel as this dtype stores it
  const t = block.sliceBatch(GUARD, GUARD + n).reshape(shape);
  return {
    t,
    check(what: string) {
      const w = block.view();
      for (let i = 0; i < GUARD; i++) {
        if (w[i] !== s || w[n + GUARD + i] !== s) assert.fail(`${what}: wrote outside its output (guard element ${w[i] !== s ? i - GUARD : n + i})`);
      }
    },
  };
}

function close(actual: Tensor, expected: Tensor, atol: number, rtol: number, what: string): void {
  const a = actual.view(), e = expected.view();
  assert.equal(a.length, e.length, `${what}: length`);
  for (let i = 0; i < a.length; i++) {
    const ok = Number.isNaN(e[i]) ? Number.isNaN(a[i]) : Math.abs(a[i] - e[i]) <= atol + rtol * Math.abs(e[i]) || a[i] === e[i];
    if (!ok) assert.fail(`${what}: element ${i}: ${a[i]} vs reference ${e[i]} (atol ${atol}, rtol ${rtol})`);
  }
}
function exact(actual: Tensor, expected: Tensor, what: string): void { close(actual, expected, 0, 0, what); }

/** Keras's output size and leading pad. */
function outLen(inLen: number, k: number, s: number, d: number, same: boolean): { out: number; pad: number } {
  const eff = (k - 1) * d + 1;
  if (!same) return { out: Math.floor((inLen - eff) / s) + 1, pad: 0 };
  const o = Math.ceil(inLen / s);
  return { out: o, pad: Math.floor(Math.max((o - 1) * s + eff - inLen, 0) / 2) };
}

export function convParams(batch: number, inH: number, inW: number, inC: number, outC: number, kH: number, kW: number,
  s: [number, number], d: [number, number], same: boolean, activation: Activation = 'linear', alpha = 0): Conv2DParams {
  const h = outLen(inH, kH, s[0], d[0], same), w = outLen(inW, kW, s[1], d[1], same);
  return { batch, inH, inW, inC, outH: h.out, outW: w.out, outC, kH, kW, strideH: s[0], strideW: s[1],
    dilationH: d[0], dilationW: d[1], padTop: h.pad, padLeft: w.pad, activation, alpha };
}

const CONVS: Conv2DParams[] = [
  convParams(1, 1, 1, 1, 1, 1, 1, [1, 1], [1, 1], false),
  convParams(2, 7, 9, 3, 5, 3, 3, [1, 1], [1, 1], true, 'relu'),
  convParams(1, 10, 7, 5, 11, 3, 2, [2, 1], [1, 1], true, 'sigmoid'),
  convParams(2, 9, 11, 4, 7, 2, 3, [1, 1], [2, 3], true, 'tanh'),
  convParams(1, 12, 13, 6, 9, 3, 3, [3, 2], [1, 1], false, 'elu', 0.7),
  convParams(3, 8, 8, 16, 8, 3, 3, [1, 1], [1, 1], true, 'relu'),
  convParams(1, 16, 16, 32, 24, 3, 3, [1, 1], [1, 1], false, 'leaky_relu', 0.2),
  convParams(1, 6, 150, 3, 32, 3, 3, [1, 1], [1, 1], true, 'relu'),
  convParams(2, 5, 5, 150, 7, 1, 1, [1, 1], [1, 1], false),
  convParams(1, 11, 9, 7, 3, 5, 4, [2, 3], [1, 1], true, 'relu6'),
  convParams(1, 9, 9, 8, 16, 3, 3, [1, 1], [1, 1], true, 'gelu'),
  convParams(2, 9, 10, 3, 8, 3, 3, [2, 2], [1, 1], true, 'relu'),
  convParams(1, 11, 9, 2, 12, 3, 2, [1, 1], [2, 1], true),
  convParams(1, 7, 7, 4, 4, 2, 2, [1, 2], [1, 1], false),
  convParams(1, 5, 6, 1, 16, 3, 3, [1, 1], [1, 1], true),
  convParams(2, 4, 7, 2, 8, 3, 3, [1, 1], [1, 1], true, 'relu'),
  convParams(1, 3, 13, 4, 40, 3, 3, [1, 1], [1, 1], true),
  convParams(3, 1, 1, 1, 8, 3, 3, [1, 1], [1, 1], true, 'relu'),
  convParams(2, 5, 8, 3, 24, 3, 3, [1, 1], [1, 1], true, 'sigmoid'),
  convParams(2, 7, 9, 12, 20, 3, 3, [1, 1], [1, 1], true, 'relu'),
  convParams(1, 1, 1, 8, 8, 3, 3, [1, 1], [1, 1], true),
  convParams(3, 2, 3, 16, 12, 3, 3, [1, 1], [1, 1], true, 'relu'),
  convParams(1, 13, 6, 8, 36, 3, 3, [1, 1], [1, 1], true),
  convParams(1, 5, 4, 260, 8, 3, 3, [1, 1], [1, 1], true, 'relu'),
  // Bigger than one GEMM block in every direction (rows, depth, columns) and split over threads.
  convParams(2, 19, 17, 40, 70, 3, 3, [1, 1], [1, 1], true, 'relu'),
  convParams(1, 12, 11, 33, 17, 1, 1, [1, 1], [1, 1], false, 'swish'),
  // Winograd F(2x2, 3x3) in the native input gradient (3x3 'same', at least 16 channels each way): odd sizes, one pixel.
  convParams(2, 7, 9, 16, 24, 3, 3, [1, 1], [1, 1], true, 'relu'),
  convParams(1, 1, 1, 16, 16, 3, 3, [1, 1], [1, 1], true),
  convParams(3, 2, 3, 20, 33, 3, 3, [1, 1], [1, 1], true),
];

export function fmtConv(p: Conv2DParams): string {
  return `conv ${p.batch}x${p.inH}x${p.inW}x${p.inC} k${p.kH}x${p.kW}x${p.outC} s${p.strideH},${p.strideW} d${p.dilationH},${p.dilationW} pad${p.padTop},${p.padLeft} ${p.activation}`;
}

function poolParams(batch: number, inH: number, inW: number, channels: number, pool: [number, number], s: [number, number], same: boolean): Pool2DParams {
  const h = outLen(inH, pool[0], s[0], 1, same), w = outLen(inW, pool[1], s[1], 1, same);
  return { batch, inH, inW, channels, outH: h.out, outW: w.out, poolH: pool[0], poolW: pool[1], strideH: s[0], strideW: s[1], padTop: h.pad, padLeft: w.pad };
}
const POOLS: Pool2DParams[] = [
  poolParams(1, 1, 1, 1, [1, 1], [1, 1], false),
  poolParams(2, 7, 9, 3, [2, 2], [2, 2], false),
  poolParams(2, 7, 9, 3, [2, 2], [2, 2], true),
  poolParams(1, 10, 11, 7, [3, 3], [2, 2], true),
  poolParams(3, 8, 6, 16, [3, 2], [1, 1], false),
  poolParams(1, 9, 9, 150, [2, 3], [3, 2], true),
  poolParams(2, 148, 148, 4, [2, 2], [2, 2], false),
  poolParams(2, 7, 9, 8, [2, 2], [2, 2], false),
  poolParams(1, 6, 10, 12, [2, 2], [2, 2], true),
  poolParams(1, 7, 5, 4, [2, 2], [2, 2], true),
  poolParams(3, 3, 2, 4, [2, 2], [2, 2], false),
  poolParams(2, 9, 7, 5, [3, 3], [3, 3], false),
];
const fmtPool = (p: Pool2DParams) => `pool ${p.batch}x${p.inH}x${p.inW}x${p.channels} ${p.poolH}x${p.poolW} s${p.strideH},${p.strideW} pad${p.padTop},${p.padLeft}`;

/** Broadcast strides of `shape` against `out` (right-aligned). */
function strides(shape: number[], outShape: number[]): number[] {
  const r: number[] = new Array(outShape.length).fill(0);
  let s = 1;
  for (let i = shape.length - 1, d = outShape.length - 1; i >= 0; i--, d--) { r[d] = shape[i] === 1 ? 0 : s; s *= shape[i]; }
  return r;
}

/** Sprinkles NaN (and infinities) into a tensor: every `every`-th element from `start`. */
function withNaN(t: Tensor, every: number, start = 3): Tensor {
  const v = t.view();
  for (let i = start; i < v.length; i += every) v[i] = i % 3 === 0 ? NaN : i % 3 === 1 ? NaN : (i % 2 ? Infinity : -Infinity);
  return t;
}

// ---- kernel checks against the reference ----------------------------------------------------------

function kernelChecks(B: () => Backend): Record<string, () => void> {
  return {
    'matmul: all transposes, accumulate, awkward and blocked sizes': () => {
      const sizes = [[1, 1, 1], [3, 7, 5], [7, 3, 150], [150, 37, 301], [33, 517, 19], [64, 96, 260], [129, 9, 1], [200, 70, 600], [5, 300, 0]];
      let seed = 1;
      for (const [m, n, k] of sizes) for (const transA of [false, true]) for (const transB of [false, true]) for (const accumulate of [false, true]) {
        const a = rand(transA ? [k, m] : [m, k], seed++), b = rand(transB ? [n, k] : [k, n], seed++);
        const init = rand([m, n], seed++);
        const o = guarded([m, n]); o.t.view().set(init.view());
        const e = init.clone();
        const p = { m, n, k, transA, transB, accumulate };
        B().matmul(a, b, o.t, p); ref.matmul(a, b, e, p);
        const what = `matmul ${m}x${n}x${k} transA=${transA} transB=${transB} acc=${accumulate}`;
        close(o.t, e, 1e-6 * k + 1e-6, 1e-5, what);
        o.check(what);
      }
    },
    'conv2d forward with bias and fused activation': () => {
      let seed = 100;
      for (const p of CONVS) for (const withBias of [true, false]) {
        const x = rand([p.batch, p.inH, p.inW, p.inC], seed++), w = rand([p.kH, p.kW, p.inC, p.outC], seed++);
        const b = withBias ? rand([p.outC], seed++) : null;
        const o = guarded([p.batch, p.outH, p.outW, p.outC]), e = zeros([p.batch, p.outH, p.outW, p.outC]);
        B().conv2d(x, w, b, o.t, p); ref.conv2d(x, w, b, e, p);
        const K = p.kH * p.kW * p.inC;
        close(o.t, e, 1e-6 * K + 1e-6, 1e-5, fmtConv(p));
        o.check(fmtConv(p));
      }
    },
    'conv2d gradient w.r.t. the input': () => {
      let seed = 200;
      for (const p of CONVS) {
        const dy = rand([p.batch, p.outH, p.outW, p.outC], seed++), w = rand([p.kH, p.kW, p.inC, p.outC], seed++);
        const o = guarded([p.batch, p.inH, p.inW, p.inC]), e = zeros([p.batch, p.inH, p.inW, p.inC]);
        o.t.view().fill(3); // overwritten, not accumulated
        B().conv2dGradInput(dy, w, o.t, p); ref.conv2dGradInput(dy, w, e, p);
        close(o.t, e, 1e-6 * p.kH * p.kW * p.outC + 1e-6, 1e-5, 'grad input ' + fmtConv(p));
        o.check('grad input ' + fmtConv(p));
      }
    },
    'conv2d gradient w.r.t. the filter': () => {
      let seed = 300;
      for (const p of CONVS) {
        const x = rand([p.batch, p.inH, p.inW, p.inC], seed++), dy = rand([p.batch, p.outH, p.outW, p.outC], seed++);
        const o = guarded([p.kH, p.kW, p.inC, p.outC]), e = zeros([p.kH, p.kW, p.inC, p.outC]);
        o.t.view().fill(3);
        B().conv2dGradFilter(x, dy, o.t, p); ref.conv2dGradFilter(x, dy, e, p);
        close(o.t, e, 1e-6 * p.batch * p.outH * p.outW + 1e-6, 1e-5, 'grad filter ' + fmtConv(p));
        o.check('grad filter ' + fmtConv(p));
      }
    },
    'max and average pooling, forward and backward': () => {
      let seed = 400;
      for (const p of POOLS) {
        // Coarse values so windows hold ties: the first maximum must win, as in the reference.
        const x = rand([p.batch, p.inH, p.inW, p.channels], seed++, -3, 3);
        const xv = x.view(); for (let i = 0; i < xv.length; i++) xv[i] = Math.round(xv[i]);
        const dy = rand([p.batch, p.outH, p.outW, p.channels], seed++);
        const oshape = [p.batch, p.outH, p.outW, p.channels], ishape = [p.batch, p.inH, p.inW, p.channels];
        const mo = guarded(oshape), me = zeros(oshape);
        B().maxPool2d(x, mo.t, p); ref.maxPool2d(x, me, p);
        exact(mo.t, me, 'max ' + fmtPool(p)); mo.check('max ' + fmtPool(p));
        const ao = guarded(oshape), ae = zeros(oshape);
        B().avgPool2d(x, ao.t, p); ref.avgPool2d(x, ae, p);
        close(ao.t, ae, 1e-6, 1e-6, 'avg ' + fmtPool(p)); ao.check('avg ' + fmtPool(p));
        const mg = guarded(ishape), mge = zeros(ishape);
        mg.t.view().fill(5);
        B().maxPool2dGrad(x, dy, mg.t, p); ref.maxPool2dGrad(x, dy, mge, p);
        close(mg.t, mge, 1e-6, 1e-6, 'max grad ' + fmtPool(p)); mg.check('max grad ' + fmtPool(p));
        const ag = guarded(ishape), age = zeros(ishape);
        ag.t.view().fill(5);
        B().avgPool2dGrad(dy, ag.t, p); ref.avgPool2dGrad(dy, age, p);
        close(ag.t, age, 1e-6, 1e-6, 'avg grad ' + fmtPool(p)); ag.check('avg grad ' + fmtPool(p));
      }
    },
    'NaN rules: pooling, relu epilogues, max/min, reductions, activation gradients, cast': () => {
      const p = poolParams(1, 6, 6, 5, [2, 2], [2, 2], false);
      const x = withNaN(rand([1, 6, 6, 5], 7), 11);
      const dy = rand([1, 3, 3, 5], 8);
      const o = zeros([1, 3, 3, 5]), e = zeros([1, 3, 3, 5]);
      B().maxPool2d(x, o, p); ref.maxPool2d(x, e, p); exact(o, e, 'max pool with NaN');
      const g = zeros([1, 6, 6, 5]), ge = zeros([1, 6, 6, 5]);
      B().maxPool2dGrad(x, dy, g, p); ref.maxPool2dGrad(x, dy, ge, p); exact(g, ge, 'max pool gradient with NaN');
      const xs = withNaN(rand([301], 9), 7);
      for (const op of ACTIVATIONS) {
        const u = zeros([301]), ue = zeros([301]);
        B().unary(op, xs, u, 0.3); ref.unary(op, xs, ue, 0.3); close(u, ue, 1e-7, 2e-6, `unary ${op} with NaN`);
        const d = rand([301], 10), gx = zeros([301]), gxe = zeros([301]);
        B().unaryGrad(op, xs, ue, d, gx, 0.3); ref.unaryGrad(op, xs, ue, d, gxe, 0.3); close(gx, gxe, 1e-7, 2e-6, `grad ${op} with NaN`);
        const ba = zeros([301]), bae = zeros([301]), bias = rand([301], 11);
        B().biasAct(xs, bias, ba, 1, 301, op, 0.3); ref.biasAct(xs, bias, bae, 1, 301, op, 0.3); close(ba, bae, 1e-7, 2e-6, `biasAct ${op} with NaN`);
      }
      const ys = withNaN(rand([301], 12), 5, 1);
      for (const op of ['max', 'min', 'add', 'mul'] as BinaryOp[]) {
        const b = zeros([301]), be = zeros([301]);
        const bp = { outShape: [301], aStrides: [1], bStrides: [1] };
        B().binary(op, xs, ys, b, bp); ref.binary(op, xs, ys, be, bp); exact(b, be, `binary ${op} with NaN`);
        B().binaryScalar(op, xs, NaN, b, false); ref.binaryScalar(op, xs, NaN, be, false); exact(b, be, `binaryScalar ${op} NaN`);
        B().binaryScalar(op, xs, 0.5, b, true); ref.binaryScalar(op, xs, 0.5, be, true); exact(b, be, `binaryScalar ${op} reverse with NaN`);
      }
      for (const op of ['sum', 'max', 'min', 'mean', 'prod'] as ReduceOp[]) {
        const xr = withNaN(rand([4, 30, 3], 13), 37);
        const r = zeros([4, 3]), re = zeros([4, 3]);
        B().reduce(op, xr, r, 4, 30, 3); ref.reduce(op, xr, re, 4, 30, 3); close(r, re, 1e-6, 1e-6, `reduce ${op} with NaN`);
      }
      const cp = convParams(1, 5, 5, 3, 8, 3, 3, [1, 1], [1, 1], true, 'relu');
      const xc = withNaN(rand([1, 5, 5, 3], 14), 29), wc = rand([3, 3, 3, 8], 15);
      const co = zeros([1, 5, 5, 8]), ce = zeros([1, 5, 5, 8]);
      B().conv2d(xc, wc, null, co, cp); ref.conv2d(xc, wc, null, ce, cp);
      close(co, ce, 1e-4, 1e-5, 'conv relu with NaN input');
      const ci = zeros([301], 'int32'), cie = zeros([301], 'int32');
      B().cast(xs, ci); ref.cast(xs, cie); exact(ci, cie, 'cast NaN to int32');
    },
    'unary ops': () => {
      let seed = 500;
      for (const n of [1, 3, 7, 150, 4097, 70001]) for (const op of UNARY_OPS) {
        const positive = op === 'log' || op === 'sqrt';
        const x = rand([n], seed++, positive ? 0.01 : -4, 4);
        const o = guarded([n]), e = zeros([n]);
        B().unary(op, x, o.t, 0.3); ref.unary(op, x, e, 0.3);
        close(o.t, e, 1e-7, 2e-6, `unary ${op} n=${n}`); o.check(`unary ${op}`);
      }
    },
    'activation gradients': () => {
      let seed = 600;
      for (const n of [1, 3, 7, 150, 4097, 70001]) for (const op of ACTIVATIONS) {
        const x = rand([n], seed++, -4, 4), dy = rand([n], seed++);
        const y = zeros([n]); ref.unary(op, x, y, 0.3);
        const o = guarded([n]), e = zeros([n]);
        B().unaryGrad(op, x, y, dy, o.t, 0.3); ref.unaryGrad(op, x, y, dy, e, 0.3);
        close(o.t, e, 1e-7, 2e-6, `grad ${op} n=${n}`); o.check(`grad ${op}`);
      }
    },
    'binary ops with broadcasting': () => {
      const BIN: BinaryOp[] = ['add', 'sub', 'mul', 'div', 'max', 'min', 'pow', 'greater', 'less', 'equal'];
      const cases: [number[], number[], number[]][] = [
        [[7], [7], [7]], [[150], [1], [150]], [[1], [150], [150]], [[3, 7], [7], [3, 7]], [[3, 1], [1, 7], [3, 7]],
        [[2, 3, 5, 7], [7], [2, 3, 5, 7]], [[2, 1, 5, 1], [1, 3, 1, 7], [2, 3, 5, 7]], [[33, 150], [33, 1], [33, 150]],
        [[], [], []], [[4, 1, 1, 1, 3, 1, 2, 1, 2], [1, 2, 1, 3, 1, 2, 1, 2, 1], [4, 2, 1, 3, 3, 2, 2, 2, 2]], [[1000, 17], [17], [1000, 17]],
        [[300, 1, 130], [1, 2, 130], [300, 2, 130]],
      ];
      let seed = 700;
      for (const [as, bs, os] of cases) for (const op of BIN) {
        const a = rand(as, seed++, op === 'pow' ? 0.1 : -2, 2), b = rand(bs, seed++, -2, 2);
        if (op === 'equal' || op === 'max' || op === 'min') { const av = a.view(), bv = b.view(); for (let i = 0; i < Math.min(av.length, bv.length); i += 3) av[i] = bv[i]; }
        const p = { outShape: os, aStrides: strides(as, os), bStrides: strides(bs, os) };
        const o = guarded(os), e = zeros(os);
        B().binary(op, a, b, o.t, p); ref.binary(op, a, b, e, p);
        close(o.t, e, 0, op === 'pow' ? 1e-6 : 0, `binary ${op} ${JSON.stringify(as)} ${JSON.stringify(bs)}`);
        o.check(`binary ${op}`);
      }
    },
    'binary ops with a scalar, both sides': () => {
      const BIN: BinaryOp[] = ['add', 'sub', 'mul', 'div', 'max', 'min', 'pow', 'greater', 'less', 'equal'];
      let seed = 800;
      for (const n of [1, 7, 150, 5003, 70001]) for (const op of BIN) for (const rev of [false, true]) for (const s of [0.1, -1.7, 3]) {
        const x = rand([n], seed++, op === 'pow' && !rev ? 0.1 : -2, 2);
        const o = guarded([n]), e = zeros([n]);
        B().binaryScalar(op, x, s, o.t, rev); ref.binaryScalar(op, x, s, e, rev);
        close(o.t, e, 0, op === 'pow' ? 1e-6 : 0, `binaryScalar ${op} ${s} reverse=${rev}`);
        o.check(`binaryScalar ${op}`);
      }
    },
    'bias + activation': () => {
      let seed = 900;
      for (const [rows, c] of [[1, 1], [3, 7], [150, 33], [1000, 128]]) for (const act of ACTIVATIONS) for (const withBias of [true, false]) {
        const x = rand([rows, c], seed++, -4, 4), b = withBias ? rand([c], seed++) : null;
        const o = guarded([rows, c]), e = zeros([rows, c]);
        B().biasAct(x, b, o.t, rows, c, act, 0.2); ref.biasAct(x, b, e, rows, c, act, 0.2);
        close(o.t, e, 1e-7, 2e-6, `biasAct ${act} ${rows}x${c}`); o.check('biasAct');
      }
    },
    'reduce over the middle axis': () => {
      let seed = 1000;
      for (const [outer, n, inner] of [[1, 1, 1], [1, 7, 1], [3, 150, 1], [1, 150, 7], [5, 3, 33], [1, 20001, 32], [2, 5000, 3], [700, 4, 5], [1, 9, 1030]]) {
        for (const op of ['sum', 'max', 'min', 'mean', 'prod'] as ReduceOp[]) {
          const x = rand([outer, n, inner], seed++, op === 'prod' ? 0.9 : -1, op === 'prod' ? 1.1 : 1);
          const o = guarded([outer, inner]), e = zeros([outer, inner]);
          B().reduce(op, x, o.t, outer, n, inner); ref.reduce(op, x, e, outer, n, inner);
          close(o.t, e, 1e-6, 1e-6, `reduce ${op} ${outer}x${n}x${inner}`); o.check('reduce');
        }
      }
    },
    'softmax': () => {
      let seed = 1100;
      for (const [rows, cols] of [[1, 1], [3, 7], [150, 10], [2, 1000], [3000, 12]]) {
        const x = rand([rows, cols], seed++, -20, 20);
        const o = guarded([rows, cols]), e = zeros([rows, cols]);
        B().softmax(x, o.t, rows, cols); ref.softmax(x, e, rows, cols);
        close(o.t, e, 1e-9, 1e-6, `softmax ${rows}x${cols}`); o.check('softmax');
      }
    },
    'transpose (float32, int32, uint8, float64)': () => {
      let seed = 1200;
      for (const [shape, perm] of [[[7], [0]], [[3, 150], [1, 0]], [[2, 3, 5], [2, 0, 1]], [[2, 3, 5, 7], [0, 3, 1, 2]], [[4, 1, 3, 2, 5], [4, 2, 0, 3, 1]], [[128, 129], [1, 0]], [[300, 200], [1, 0]]] as [number[], number[]][]) {
        for (const dtype of ['float32', 'int32', 'uint8', 'float64'] as const) {
          const x = rand(shape, seed++);
          let xi = x;
          if (dtype !== 'float32') { xi = zeros(shape, dtype); ref.cast(rand(shape, seed++, 0, 250), xi); }
          const os = perm.map((p) => shape[p]);
          const o = guarded(os, dtype), e = zeros(os, dtype);
          B().transpose(xi, o.t, perm); ref.transpose(xi, e, perm);
          exact(o.t, e, `transpose ${JSON.stringify(shape)} ${JSON.stringify(perm)} ${dtype}`); o.check('transpose');
        }
      }
    },
    'cast between every dtype pair': () => {
      const dtypes = ['float32', 'int32', 'uint8', 'float64'] as const;
      const vals = [0, 0.5, -0.5, 1.9999, -1.9999, 254.7, 255.5, 256, -3, 1e10, -1e10, 3e9, NaN, Infinity, -Infinity, 123456.789, 16777217.5];
      for (const from of dtypes) for (const to of dtypes) {
        const src = zeros([vals.length * 10 + 3], from);
        const v = src.view();
        for (let i = 0; i < v.length; i++) v[i] = vals[i % vals.length];
        const o = guarded([v.length], to), e = zeros([v.length], to);
        B().cast(src, o.t); ref.cast(src, e);
        exact(o.t, e, `cast ${from} -> ${to}`); o.check(`cast ${from} -> ${to}`);
      }
    },
    'optimizer updates: adam, adamw, amsgrad, sgd (momentum, nesterov), rmsprop (centered, momentum)': () => {
      let seed = 1300;
      for (const n of [1, 7, 150, 70001]) {
        seed += 5;
        const g = rand([n], seed++);
        for (const amsgrad of [false, true]) for (const wd of [0, 0.01]) {
          const p0 = rand([n], seed++), m0 = rand([n], seed++), v0 = rand([n], seed++, 0, 1), h0 = rand([n], seed++, 0, 1);
          const [p1, m1, v1, h1] = [p0.clone(), m0.clone(), v0.clone(), h0.clone()];
          const ap = { lr: 0.01, beta1: 0.9, beta2: 0.999, epsilon: 1e-7, step: 3, weightDecay: wd, amsgrad };
          B().adamUpdate(p0, g, m0, v0, amsgrad ? h0 : null, ap); ref.adamUpdate(p1, g, m1, v1, amsgrad ? h1 : null, ap);
          close(p0, p1, 1e-6, 1e-5, 'adam param'); close(m0, m1, 1e-7, 1e-6, 'adam m'); close(v0, v1, 1e-7, 1e-6, 'adam v');
          if (amsgrad) close(h0, h1, 1e-7, 1e-6, 'amsgrad vhat');
        }
        for (const momentum of [0, 0.9]) for (const nesterov of [false, true]) {
          const p0 = rand([n], seed++), v0 = rand([n], seed++);
          const p1 = p0.clone(), v1 = v0.clone();
          const sp = { lr: 0.05, momentum, nesterov, weightDecay: 0.001 };
          B().sgdUpdate(p0, g, v0, sp); ref.sgdUpdate(p1, g, v1, sp);
          close(p0, p1, 1e-6, 1e-6, 'sgd param'); close(v0, v1, 1e-6, 1e-6, 'sgd velocity');
        }
        for (const centered of [false, true]) for (const momentum of [0, 0.5]) {
          const p0 = rand([n], seed++), s0 = rand([n], seed++, 0.5, 1), mo0 = rand([n], seed++), mg0 = rand([n], seed++, -0.1, 0.1);
          const [p1, s1, mo1, mg1] = [p0.clone(), s0.clone(), mo0.clone(), mg0.clone()];
          const rp = { lr: 0.01, rho: 0.9, momentum, epsilon: 1e-7, centered };
          B().rmspropUpdate(p0, g, s0, mo0, mg0, rp); ref.rmspropUpdate(p1, g, s1, mo1, mg1, rp);
          close(p0, p1, 1e-6, 1e-5, 'rmsprop param'); close(s0, s1, 1e-7, 1e-6, 'rmsprop ms');
          close(mo0, mo1, 1e-6, 1e-5, 'rmsprop momentum'); close(mg0, mg1, 1e-7, 1e-6, 'rmsprop mean gradient');
        }
      }
    },
  };
}

// ---- PyTorch fixtures ------------------------------------------------------------------------------

const fx = JSON.parse(readFileSync(new URL('../fixtures/engine/pytorch.json', import.meta.url), 'utf8'));

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
function closeTo(a: ArrayLike<number>, e: ArrayLike<number>, atol: number, rtol: number, what: string): void {
  assert.equal(a.length, e.length, `${what}: length`);
  for (let i = 0; i < a.length; i++) {
    if (!(Math.abs(a[i] - e[i]) <= atol + rtol * Math.abs(e[i]))) assert.fail(`${what}: element ${i}: ${a[i]} vs PyTorch ${e[i]} (atol ${atol}, rtol ${rtol})`);
  }
}

/**
 * Tolerances: conv2d/pooling outputs and gradients |d| <= 1e-5 + 1e-4 |ref| (float32 sums in a
 * different order); the model's loss and predictions 1e-5 relative, each parameter gradient's
 * sampled entries |d| <= 1e-4 * max|g| + 1e-3 |ref| and its sum/norm 1e-3 relative to the norm.
 */
function pytorchFixtures(name: string): Record<string, () => void> {
  return {
    'PyTorch: conv2d forward and gradients (strides, same/valid, dilation)': () => {
      for (const c of fx.conv2d) scope(() => {
        const x = gen(c.seed, c.x), w = gen(c.seed + 1, c.w, 0.3), b = gen(c.seed + 2, [c.w[3]], 0.1);
        const what = `${name} conv ${JSON.stringify(c.x)} ${JSON.stringify(c.w)} s${c.stride} d${c.dil} ${c.padding}`;
        const { value, grads } = valueAndGrad(() => {
          const y = conv2d(x, w, { bias: b, strides: c.stride, dilationRate: c.dil, padding: c.padding });
          assert.deepEqual(y.shape, c.y_shape, what);
          closeTo(y.view(), f32(c.y), 1e-5, 1e-4, what + ' y');
          return sum(mul(y, gen(c.seed + 3, c.y_shape)));
        }, [x, w, b]);
        assert.ok(Number.isFinite(value.view()[0]));
        closeTo(grads[0].view(), f32(c.dx), 1e-5, 1e-4, what + ' dx');
        closeTo(grads[1].view(), f32(c.dw), 1e-5, 1e-4, what + ' dw');
        closeTo(grads[2].view(), f32(c.db), 1e-5, 1e-4, what + ' db');
      });
    },
    'PyTorch: max and average pooling forward and gradients': () => {
      for (const c of fx.pool) scope(() => {
        const x = gen(c.seed, c.x);
        const what = `${name} ${c.kind} pool ${JSON.stringify(c.x)} ${c.pool} s${c.stride} ${c.padding}`;
        const { grads } = valueAndGrad(() => {
          const opts = { poolSize: c.pool, strides: c.stride, padding: c.padding };
          const y = c.kind === 'max' ? maxPool2d(x, opts) : avgPool2d(x, opts);
          assert.deepEqual(y.shape, c.y_shape, what);
          closeTo(y.view(), f32(c.y), 1e-6, 1e-5, what + ' y');
          return sum(mul(y, gen(c.seed + 3, c.y_shape)));
        }, [x]);
        closeTo(grads[0].view(), f32(c.dx), 1e-6, 1e-5, what + ' dx');
      });
    },
    'PyTorch: the notebook model, one forward/backward step at 150x150x3, batch 2': () => {
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
        closeTo(pred!, f32(m.pred), 1e-6, 1e-5, 'predictions');
        closeTo([value.view()[0]], [m.loss], 1e-6, 1e-5, 'loss');
        grads.forEach((g, i) => {
          const r = m.grads[i];
          const gv = g.view();
          const sample = f32(r.sample);
          const got = Array.from(sample, (_, j) => gv[j * r.step]);
          let gmax = 0; for (const v of sample) gmax = Math.max(gmax, Math.abs(v));
          closeTo(got, sample, 1e-4 * gmax + 1e-9, 1e-3, `grad ${i} ${JSON.stringify(r.shape)} sample`);
          let s = 0, n2 = 0; for (let j = 0; j < gv.length; j++) { s += gv[j]; n2 += gv[j] * gv[j]; }
          closeTo([s, Math.sqrt(n2)], [r.sum, r.norm], 1e-3 * r.norm + 1e-9, 1e-3, `grad ${i} sum/norm`);
        });
      });
    },
  };
}

// ---- finite differences, heap, determinism ---------------------------------------------------------

function modelChecks(name: string, B: () => Backend): Record<string, () => void> {
  return {
    'finite differences: conv2d (strides, dilation, fused relu), pooling, dense': () => {
      scope(() => gradCheck((x, w, b) => conv2d(x, w, { bias: b, padding: 'same', activation: 'tanh' }),
        [randTensor([2, 5, 6, 3], 1), randTensor([3, 3, 3, 4], 2, -0.5, 0.5), randTensor([4], 3, -0.1, 0.1)]));
      scope(() => gradCheck((x, w) => conv2d(x, w, { strides: 2, dilationRate: 1, padding: 'valid' }),
        [randTensor([1, 7, 8, 5], 4), randTensor([3, 2, 5, 6], 5, -0.5, 0.5)]));
      scope(() => gradCheck((x, w) => conv2d(x, w, { dilationRate: 2, padding: 'same' }),
        [randTensor([1, 7, 7, 8], 6), randTensor([3, 3, 8, 4], 7, -0.5, 0.5)]));
      scope(() => gradCheck((x) => maxPool2d(x, { poolSize: 3, strides: 2, padding: 'same' }), [randTensor([2, 7, 6, 3], 8)]));
      scope(() => gradCheck((x) => avgPool2d(x, { poolSize: 2, strides: 1, padding: 'valid' }), [randTensor([1, 5, 5, 4], 9)]));
      scope(() => gradCheck((x, w, b) => dense(x, w, b, 'sigmoid'), [randTensor([5, 19], 10), randTensor([19, 7], 11), randTensor([7], 12)]));
      assert.equal(backend(), B(), `${name}: the checks ran on another backend`);
    },
    '1,000 training steps do not grow the heap': () => {
      const rng = new Rng(5);
      const shapes = [[3, 3, 3, 8], [8], [3, 3, 8, 8], [8], [72, 16], [16], [16, 1], [1]];
      const mk = (shape: number[], scale: number): Tensor => {
        const n = shape.reduce((a, b) => a * b, 1), a = new Float32Array(n);
        for (let i = 0; i < n; i++) a[i] = (rng.random() * 2 - 1) * scale;
        return tensor(a, shape);
      };
      const params = shapes.map((s) => mk(s, s.length > 1 ? 0.3 : 0.05).keep());
      const m = shapes.map((s) => zeros(s).keep()), v = shapes.map((s) => zeros(s).keep());
      const x = mk([4, 12, 12, 3], 1).keep();
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
    },
  };
}

/** Same inputs, same thread count: bit-identical outputs (conv forward/filter gradient, GEMM, reductions, softmax). */
function determinism(B: () => Backend): void {
  const p = convParams(4, 30, 30, 16, 32, 3, 3, [1, 1], [1, 1], true, 'relu');
  const x = rand([4, 30, 30, 16], 1), w = rand([3, 3, 16, 32], 2), dy = rand([4, 30, 30, 32], 3);
  const a = rand([300, 200], 4), b = rand([200, 150], 5);
  const runs = [0, 1, 2].map(() => {
    const o = zeros([4, 30, 30, 32]), dx = zeros([4, 30, 30, 16]), dw = zeros([3, 3, 16, 32]), s = zeros([32]), c = zeros([300, 150]), sm = zeros([300, 200]);
    B().conv2d(x, w, null, o, p); B().conv2dGradInput(dy, w, dx, p); B().conv2dGradFilter(x, dy, dw, p);
    B().reduce('sum', dy, s, 1, 4 * 30 * 30, 32);
    B().matmul(a, b, c, { m: 300, n: 150, k: 200, transA: false, transB: false, accumulate: false });
    B().softmax(a, sm, 300, 200);
    return [o, dx, dw, s, c, sm].map((t) => t.dataSync());
  });
  for (const r of runs.slice(1)) for (let i = 0; i < runs[0].length; i++) assert.deepEqual(r[i], runs[0][i], `threads=${B().threads}: output ${i} differs run to run`);
}

/** CONFORMANCE_TRACE=1 writes each check's name to stderr before it runs (a crash in native code names its check). */
function trace(what: string): void { if (process.env.CONFORMANCE_TRACE) writeSync(2, `conformance: ${what}\n`); }

/**
 * Registers the suite for one backend. `make` creates it (called once, lazily), or is a string: the
 * reason it cannot run here, and every test skips visibly with it.
 */
export function backendConformance(name: string, make: (() => Backend) | string, opts: ConformanceOptions = {}): void {
  const threads = opts.threads ?? [1];
  const skip = typeof make === 'string' ? make : false;
  let instance: Backend | undefined;
  const B = (): Backend => (instance ??= (make as () => Backend)());
  describe(`backend conformance: ${name}`, () => {
    let previous: Backend | undefined;
    after(() => { if (previous) setBackend(previous); });
    const isReference = name === 'reference';
    for (const th of threads) {
      const label = `(${th} thread${th > 1 ? 's' : ''})`;
      for (const [what, fn] of Object.entries(kernelChecks(B))) {
        test(`${what} ${label}`, { skip: skip || (isReference ? 'the reference backend is the oracle these checks compare with' : false) }, () => {
          trace(`${name}: ${what} ${label}`);
          B().setThreads(th);
          fn();
        });
      }
      test(`determinism: the same numbers twice ${label}`, { skip }, () => { B().setThreads(th); determinism(B); });
    }
    if (opts.kernelsOnly) return;
    const withBackend = (fn: () => void) => () => {
      previous ??= backend();
      setBackend(B());
      B().setThreads(threads[threads.length - 1]);
      fn();
    };
    for (const [what, fn] of Object.entries(pytorchFixtures(name))) {
      test(what, { skip: skip || (what.includes('notebook model') && opts.skipModelStep) || false }, withBackend(fn));
    }
    for (const [what, fn] of Object.entries(modelChecks(name, B))) test(what, { skip }, withBackend(fn));
  });
}
