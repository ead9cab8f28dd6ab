/**
 * The WebAssembly backend against the reference backend (the oracle), kernel by kernel, on seeded
 * random inputs with awkward sizes (1, 3, 7, 150, not multiples of 4 or 16), strides, paddings
 * and dilations, on 1 and 2 threads. Every output sits between guard zones that must stay
 * untouched (kernels never write outside their tensors).
 *
 * Tolerances: exact for data movement and pooling max; 1e-6 relative for elementwise maps; GEMM
 * and convolutions accumulate in float32 where the reference uses float64, so they are held to
 * |d| <= 1e-6 * K + 1e-5 * |ref| for reduction depth K.
 */
import { test, describe, before } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor, tensor, zeros, Rng } from '../../src/tensor/index.js';
import { ReferenceBackend } from '../../src/backend/reference.js';
import { createWasmBackend, wasmAvailable, WasmBackend, UNARY_OPS } from '../../src/backend/wasm/index.js';
import type { Conv2DParams, Pool2DParams, Activation, BinaryOp, ReduceOp, UnaryOp } from '../../src/backend/backend.js';
import { ACTIVATIONS } from '../../src/backend/activations.js';

const ref = new ReferenceBackend();
let wasm: WasmBackend;
const THREADS = [1, 2];

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
    if (!ok) assert.fail(`${what}: element ${i}: wasm ${a[i]} vs reference ${e[i]} (atol ${atol}, rtol ${rtol})`);
  }
}

function exact(actual: Tensor, expected: Tensor, what: string): void { close(actual, expected, 0, 0, what); }

before(async () => {
  if (!wasmAvailable()) return;
  wasm = createWasmBackend(2) as WasmBackend;
  await wasm.ready();
});

function forThreads(name: string, fn: (threads: number) => void): void {
  for (const th of THREADS) {
    test(`${name} (${th} thread${th > 1 ? 's' : ''})`, (t) => {
      if (!wasmAvailable()) { t.skip('build/kernels.wasm is missing (npm run build:kernels)'); return; }
      wasm.setThreads(th);
      fn(th);
    });
  }
}

describe('matmul', () => {
  const sizes = [[1, 1, 1], [3, 7, 5], [7, 3, 150], [150, 37, 301], [33, 517, 19], [64, 96, 260], [129, 9, 1]];
  forThreads('all transposes, accumulate, awkward sizes', () => {
    let seed = 1;
    for (const [m, n, k] of sizes) for (const transA of [false, true]) for (const transB of [false, true]) for (const accumulate of [false, true]) {
      const a = rand(transA ? [k, m] : [m, k], seed++), b = rand(transB ? [n, k] : [k, n], seed++);
      const init = rand([m, n], seed++);
      const o = guarded([m, n]); o.t.view().set(init.view());
      const e = init.clone();
      const p = { m, n, k, transA, transB, accumulate };
      wasm.matmul(a, b, o.t, p); ref.matmul(a, b, e, p);
      const what = `matmul ${m}x${n}x${k} transA=${transA} transB=${transB} acc=${accumulate}`;
      close(o.t, e, 1e-6 * k + 1e-6, 1e-5, what);
      o.check(what);
    }
  });
});

/** Keras's output size and leading pad. */
function outLen(inLen: number, k: number, s: number, d: number, same: boolean): { out: number; pad: number } {
  const eff = (k - 1) * d + 1;
  if (!same) return { out: Math.floor((inLen - eff) / s) + 1, pad: 0 };
  const o = Math.ceil(inLen / s);
  return { out: o, pad: Math.floor(Math.max((o - 1) * s + eff - inLen, 0) / 2) };
}

function convParams(batch: number, inH: number, inW: number, inC: number, outC: number, kH: number, kW: number,
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
  // Inputs of at most 4 channels take the direct input-gradient path.
  convParams(2, 9, 10, 3, 8, 3, 3, [2, 2], [1, 1], true, 'relu'),
  convParams(1, 11, 9, 2, 12, 3, 2, [1, 1], [2, 1], true),
  convParams(1, 7, 7, 4, 4, 2, 2, [1, 2], [1, 1], false),
  convParams(1, 5, 6, 1, 16, 3, 3, [1, 1], [1, 1], true),
  // Few-channel 3x3 'same' kernels (conv3x3small.ts): 1 to 4 channels, widths off the 6-pixel blocks.
  convParams(2, 4, 7, 2, 8, 3, 3, [1, 1], [1, 1], true, 'relu'),
  convParams(1, 3, 13, 4, 40, 3, 3, [1, 1], [1, 1], true),
  convParams(3, 1, 1, 1, 8, 3, 3, [1, 1], [1, 1], true, 'relu'),
  convParams(2, 5, 8, 3, 24, 3, 3, [1, 1], [1, 1], true, 'sigmoid'),
  // Winograd F(2x2, 3x3) cases (3x3, stride 1, 'same', channels multiples of 4): odd and tiny sizes, k blocks.
  convParams(2, 7, 9, 12, 20, 3, 3, [1, 1], [1, 1], true, 'relu'),
  convParams(1, 1, 1, 8, 8, 3, 3, [1, 1], [1, 1], true),
  convParams(3, 2, 3, 16, 12, 3, 3, [1, 1], [1, 1], true, 'relu'),
  convParams(1, 13, 6, 8, 36, 3, 3, [1, 1], [1, 1], true),
  convParams(1, 5, 4, 260, 8, 3, 3, [1, 1], [1, 1], true, 'relu'),
];

function fmtConv(p: Conv2DParams): string {
  return `conv ${p.batch}x${p.inH}x${p.inW}x${p.inC} k${p.kH}x${p.kW}x${p.outC} s${p.strideH},${p.strideW} d${p.dilationH},${p.dilationW} pad${p.padTop},${p.padLeft} ${p.activation}`;
}

describe('conv2d', () => {
  forThreads('forward with bias and fused activation', () => {
    let seed = 100;
    for (const p of CONVS) for (const withBias of [true, false]) {
      const x = rand([p.batch, p.inH, p.inW, p.inC], seed++), w = rand([p.kH, p.kW, p.inC, p.outC], seed++);
      const b = withBias ? rand([p.outC], seed++) : null;
      const o = guarded([p.batch, p.outH, p.outW, p.outC]), e = zeros([p.batch, p.outH, p.outW, p.outC]);
      wasm.conv2d(x, w, b, o.t, p); ref.conv2d(x, w, b, e, p);
      const K = p.kH * p.kW * p.inC;
      close(o.t, e, 1e-6 * K + 1e-6, 1e-5, fmtConv(p));
      o.check(fmtConv(p));
    }
  });
  forThreads('gradient w.r.t. the input', () => {
    let seed = 200;
    for (const p of CONVS) {
      const dy = rand([p.batch, p.outH, p.outW, p.outC], seed++), w = rand([p.kH, p.kW, p.inC, p.outC], seed++);
      const o = guarded([p.batch, p.inH, p.inW, p.inC]), e = zeros([p.batch, p.inH, p.inW, p.inC]);
      o.t.view().fill(3); // overwritten, not accumulated
      wasm.conv2dGradInput(dy, w, o.t, p); ref.conv2dGradInput(dy, w, e, p);
      close(o.t, e, 1e-6 * p.kH * p.kW * p.outC + 1e-6, 1e-5, 'grad input ' + fmtConv(p));
      o.check('grad input ' + fmtConv(p));
    }
  });
  forThreads('gradient w.r.t. the filter', () => {
    let seed = 300;
    for (const p of CONVS) {
      const x = rand([p.batch, p.inH, p.inW, p.inC], seed++), dy = rand([p.batch, p.outH, p.outW, p.outC], seed++);
      const o = guarded([p.kH, p.kW, p.inC, p.outC]), e = zeros([p.kH, p.kW, p.inC, p.outC]);
      o.t.view().fill(3);
      wasm.conv2dGradFilter(x, dy, o.t, p); ref.conv2dGradFilter(x, dy, e, p);
      close(o.t, e, 1e-6 * p.batch * p.outH * p.outW + 1e-6, 1e-5, 'grad filter ' + fmtConv(p));
      o.check('grad filter ' + fmtConv(p));
    }
  });
});

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
  // 2x2 stride-2 max-pool backward writing all of dx: odd and even sizes, 'same' on odd sizes falls back.
  poolParams(2, 7, 9, 8, [2, 2], [2, 2], false),
  poolParams(1, 6, 10, 12, [2, 2], [2, 2], true),
  poolParams(1, 7, 5, 4, [2, 2], [2, 2], true),
  poolParams(3, 3, 2, 4, [2, 2], [2, 2], false),
];
const fmtPool = (p: Pool2DParams) => `pool ${p.batch}x${p.inH}x${p.inW}x${p.channels} ${p.poolH}x${p.poolW} s${p.strideH},${p.strideW} pad${p.padTop},${p.padLeft}`;

describe('pooling', () => {
  forThreads('max and average, forward and backward', () => {
    let seed = 400;
    for (const p of POOLS) {
      // Coarse values so windows hold ties: the first maximum must win, as in the reference.
      const x = rand([p.batch, p.inH, p.inW, p.channels], seed++, -3, 3);
      const xv = x.view(); for (let i = 0; i < xv.length; i++) xv[i] = Math.round(xv[i]);
      const dy = rand([p.batch, p.outH, p.outW, p.channels], seed++);
      const oshape = [p.batch, p.outH, p.outW, p.channels], ishape = [p.batch, p.inH, p.inW, p.channels];
      const mo = guarded(oshape), me = zeros(oshape);
      wasm.maxPool2d(x, mo.t, p); ref.maxPool2d(x, me, p);
      exact(mo.t, me, 'max ' + fmtPool(p)); mo.check('max ' + fmtPool(p));
      const ao = guarded(oshape), ae = zeros(oshape);
      wasm.avgPool2d(x, ao.t, p); ref.avgPool2d(x, ae, p);
      close(ao.t, ae, 1e-6, 1e-6, 'avg ' + fmtPool(p)); ao.check('avg ' + fmtPool(p));
      const mg = guarded(ishape), mge = zeros(ishape);
      mg.t.view().fill(5);
      wasm.maxPool2dGrad(x, dy, mg.t, p); ref.maxPool2dGrad(x, dy, mge, p);
      close(mg.t, mge, 1e-6, 1e-6, 'max grad ' + fmtPool(p)); mg.check('max grad ' + fmtPool(p));
      const ag = guarded(ishape), age = zeros(ishape);
      wasm.avgPool2dGrad(dy, ag.t, p); ref.avgPool2dGrad(dy, age, p);
      close(ag.t, age, 1e-6, 1e-6, 'avg grad ' + fmtPool(p)); ag.check('avg grad ' + fmtPool(p));
    }
  });
  forThreads('max pooling propagates NaN like the reference', () => {
    const p = poolParams(1, 4, 4, 5, [2, 2], [2, 2], false);
    const x = rand([1, 4, 4, 5], 7);
    x.view()[6] = NaN;
    const o = zeros([1, 2, 2, 5]), e = zeros([1, 2, 2, 5]);
    wasm.maxPool2d(x, o, p); ref.maxPool2d(x, e, p);
    exact(o, e, 'max pool with NaN');
  });
});

describe('elementwise', () => {
  const SIZES = [1, 3, 7, 150, 4097, 70001];
  forThreads('unary ops', () => {
    let seed = 500;
    for (const n of SIZES) for (const op of UNARY_OPS) {
      const positive = op === 'log' || op === 'sqrt';
      const x = rand([n], seed++, positive ? 0.01 : -4, 4);
      const o = guarded([n]), e = zeros([n]);
      wasm.unary(op as UnaryOp, x, o.t, 0.3); ref.unary(op as UnaryOp, x, e, 0.3);
      close(o.t, e, 1e-7, 2e-6, `unary ${op} n=${n}`); o.check(`unary ${op}`);
    }
  });
  forThreads('activation gradients', () => {
    let seed = 600;
    for (const n of SIZES) for (const op of ACTIVATIONS) {
      const x = rand([n], seed++, -4, 4), dy = rand([n], seed++);
      const y = zeros([n]); ref.unary(op, x, y, 0.3);
      const o = guarded([n]), e = zeros([n]);
      wasm.unaryGrad(op, x, y, dy, o.t, 0.3); ref.unaryGrad(op, x, y, dy, e, 0.3);
      close(o.t, e, 1e-7, 2e-6, `grad ${op} n=${n}`); o.check(`grad ${op}`);
    }
  });
  const BIN: BinaryOp[] = ['add', 'sub', 'mul', 'div', 'max', 'min', 'pow', 'greater', 'less', 'equal'];
  /** Broadcast strides of `shape` against `out` (right-aligned). */
  function strides(shape: number[], outShape: number[]): number[] {
    const r: number[] = new Array(outShape.length).fill(0);
    let s = 1;
    for (let i = shape.length - 1, d = outShape.length - 1; i >= 0; i--, d--) { r[d] = shape[i] === 1 ? 0 : s; s *= shape[i]; }
    return r;
  }
  forThreads('binary ops with broadcasting', () => {
    const cases: [number[], number[], number[]][] = [
      [[7], [7], [7]], [[150], [1], [150]], [[1], [150], [150]], [[3, 7], [7], [3, 7]], [[3, 1], [1, 7], [3, 7]],
      [[2, 3, 5, 7], [7], [2, 3, 5, 7]], [[2, 1, 5, 1], [1, 3, 1, 7], [2, 3, 5, 7]], [[33, 150], [33, 1], [33, 150]],
      [[], [], []], [[4, 1, 1, 1, 3, 1, 2, 1, 2], [1, 2, 1, 3, 1, 2, 1, 2, 1], [4, 2, 1, 3, 3, 2, 2, 2, 2]], [[1000, 17], [17], [1000, 17]],
    ];
    let seed = 700;
    for (const [as, bs, os] of cases) for (const op of BIN) {
      const a = rand(as, seed++, op === 'pow' ? 0.1 : -2, 2), b = rand(bs, seed++, -2, 2);
      // Ties for the comparisons and max/min.
      if (op === 'equal' || op === 'max' || op === 'min') { const av = a.view(), bv = b.view(); for (let i = 0; i < Math.min(av.length, bv.length); i += 3) av[i] = bv[i]; }
      const p = { outShape: os, aStrides: strides(as, os), bStrides: strides(bs, os) };
      const o = guarded(os), e = zeros(os);
      wasm.binary(op, a, b, o.t, p); ref.binary(op, a, b, e, p);
      close(o.t, e, 0, op === 'pow' ? 1e-6 : 0, `binary ${op} ${JSON.stringify(as)} ${JSON.stringify(bs)}`);
      o.check(`binary ${op}`);
    }
  });
  forThreads('binary ops with a scalar, both sides', () => {
    let seed = 800;
    for (const n of [1, 7, 150, 5003]) for (const op of BIN) for (const rev of [false, true]) for (const s of [0.1, -1.7, 3]) {
      const x = rand([n], seed++, op === 'pow' && !rev ? 0.1 : -2, 2);
      const o = guarded([n]), e = zeros([n]);
      wasm.binaryScalar(op, x, s, o.t, rev); ref.binaryScalar(op, x, s, e, rev);
      close(o.t, e, 0, op === 'pow' ? 1e-6 : 0, `binaryScalar ${op} ${s} reverse=${rev}`);
      o.check(`binaryScalar ${op}`);
    }
  });
  forThreads('bias + activation', () => {
    let seed = 900;
    for (const [rows, c] of [[1, 1], [3, 7], [150, 33], [1000, 128]]) for (const act of ACTIVATIONS) for (const withBias of [true, false]) {
      const x = rand([rows, c], seed++, -4, 4), b = withBias ? rand([c], seed++) : null;
      const o = guarded([rows, c]), e = zeros([rows, c]);
      wasm.biasAct(x, b, o.t, rows, c, act, 0.2); ref.biasAct(x, b, e, rows, c, act, 0.2);
      close(o.t, e, 1e-7, 2e-6, `biasAct ${act} ${rows}x${c}`); o.check('biasAct');
    }
  });
});

describe('reductions, softmax, transpose, cast', () => {
  const OPS: ReduceOp[] = ['sum', 'max', 'min', 'mean', 'prod'];
  forThreads('reduce over the middle axis', () => {
    let seed = 1000;
    for (const [outer, n, inner] of [[1, 1, 1], [1, 7, 1], [3, 150, 1], [1, 150, 7], [5, 3, 33], [1, 20001, 32], [2, 5000, 3], [700, 4, 5], [1, 9, 1030]]) {
      for (const op of OPS) {
        const x = rand([outer, n, inner], seed++, op === 'prod' ? 0.9 : -1, op === 'prod' ? 1.1 : 1);
        const o = guarded([outer, inner]), e = zeros([outer, inner]);
        wasm.reduce(op, x, o.t, outer, n, inner); ref.reduce(op, x, e, outer, n, inner);
        close(o.t, e, 1e-6, 1e-6, `reduce ${op} ${outer}x${n}x${inner}`); o.check('reduce');
      }
    }
  });
  forThreads('softmax', () => {
    let seed = 1100;
    for (const [rows, cols] of [[1, 1], [3, 7], [150, 10], [2, 1000]]) {
      const x = rand([rows, cols], seed++, -20, 20);
      const o = guarded([rows, cols]), e = zeros([rows, cols]);
      wasm.softmax(x, o.t, rows, cols); ref.softmax(x, e, rows, cols);
      close(o.t, e, 1e-9, 1e-6, `softmax ${rows}x${cols}`); o.check('softmax');
    }
  });
  forThreads('transpose', () => {
    let seed = 1200;
    for (const [shape, perm] of [[[7], [0]], [[3, 150], [1, 0]], [[2, 3, 5], [2, 0, 1]], [[2, 3, 5, 7], [0, 3, 1, 2]], [[4, 1, 3, 2, 5], [4, 2, 0, 3, 1]], [[128, 129], [1, 0]]] as [number[], number[]][]) {
      for (const dtype of ['float32', 'int32'] as const) {
        const x = rand(shape, seed++);
        const xi = dtype === 'int32' ? zeros(shape, 'int32') : x;
        if (dtype === 'int32') ref.cast(rand(shape, seed++, -1000, 1000), xi);
        const os = perm.map((p) => shape[p]);
        const o = guarded(os, dtype), e = zeros(os, dtype);
        wasm.transpose(xi, o.t, perm); ref.transpose(xi, e, perm);
        exact(o.t, e, `transpose ${JSON.stringify(shape)} ${JSON.stringify(perm)} ${dtype}`); o.check('transpose');
      }
    }
  });
  forThreads('cast between every dtype pair', () => {
    const dtypes = ['float32', 'int32', 'uint8', 'float64'] as const;
    const vals = [0, 0.5, -0.5, 1.9999, -1.9999, 254.7, 255.5, 256, -3, 1e10, -1e10, 3e9, NaN, Infinity, -Infinity, 123456.789];
    for (const from of dtypes) for (const to of dtypes) {
      const src = zeros([vals.length * 10 + 3], from);
      const v = src.view();
      for (let i = 0; i < v.length; i++) v[i] = vals[i % vals.length];
      const o = guarded([v.length], to), e = zeros([v.length], to);
      wasm.cast(src, o.t); ref.cast(src, e);
      exact(o.t, e, `cast ${from} -> ${to}`); o.check(`cast ${from} -> ${to}`);
    }
  });
});

describe('optimizer updates', () => {
  forThreads('adam, adamw, amsgrad, sgd (momentum, nesterov), rmsprop (centered, momentum)', () => {
    let seed = 1300;
    for (const n of [1, 7, 150, 70001]) {
      const mk = () => { const a = rand([n], seed); const b = rand([n], seed + 1, 0, 1); return [a, b]; };
      seed += 5;
      const g = rand([n], seed++);
      for (const amsgrad of [false, true]) for (const wd of [0, 0.01]) {
        const [p0] = mk(), m0 = rand([n], seed++), v0 = rand([n], seed++, 0, 1), h0 = rand([n], seed++, 0, 1);
        const [p1, m1, v1, h1] = [p0.clone(), m0.clone(), v0.clone(), h0.clone()];
        const ap = { lr: 0.01, beta1: 0.9, beta2: 0.999, epsilon: 1e-7, step: 3, weightDecay: wd, amsgrad };
        wasm.adamUpdate(p0, g, m0, v0, amsgrad ? h0 : null, ap); ref.adamUpdate(p1, g, m1, v1, amsgrad ? h1 : null, ap);
        close(p0, p1, 1e-6, 1e-5, 'adam param'); close(m0, m1, 1e-7, 1e-6, 'adam m'); close(v0, v1, 1e-7, 1e-6, 'adam v');
      }
      for (const momentum of [0, 0.9]) for (const nesterov of [false, true]) {
        const p0 = rand([n], seed++), v0 = rand([n], seed++);
        const p1 = p0.clone(), v1 = v0.clone();
        const sp = { lr: 0.05, momentum, nesterov, weightDecay: 0.001 };
        wasm.sgdUpdate(p0, g, v0, sp); ref.sgdUpdate(p1, g, v1, sp);
        close(p0, p1, 1e-6, 1e-6, 'sgd param'); close(v0, v1, 1e-6, 1e-6, 'sgd velocity');
      }
      for (const centered of [false, true]) for (const momentum of [0, 0.5]) {
        const p0 = rand([n], seed++), s0 = rand([n], seed++, 0.5, 1), mo0 = rand([n], seed++), mg0 = rand([n], seed++, -0.1, 0.1);
        const [p1, s1, mo1, mg1] = [p0.clone(), s0.clone(), mo0.clone(), mg0.clone()];
        const rp = { lr: 0.01, rho: 0.9, momentum, epsilon: 1e-7, centered };
        wasm.rmspropUpdate(p0, g, s0, mo0, mg0, rp); ref.rmspropUpdate(p1, g, s1, mo1, mg1, rp);
        close(p0, p1, 1e-6, 1e-5, 'rmsprop param'); close(s0, s1, 1e-7, 1e-6, 'rmsprop ms');
      }
    }
  });
});

describe('threads', () => {
  test('results are bit-identical run to run, and 2 threads split the work', async (t) => {
    if (!wasmAvailable()) { t.skip('build/kernels.wasm is missing'); return; }
    const p = convParams(4, 30, 30, 16, 32, 3, 3, [1, 1], [1, 1], true, 'relu');
    const x = rand([4, 30, 30, 16], 1), w = rand([3, 3, 16, 32], 2), dy = rand([4, 30, 30, 32], 3);
    for (const th of THREADS) {
      wasm.setThreads(th);
      const runs = [0, 1, 2].map(() => {
        const o = zeros([4, 30, 30, 32]), dw = zeros([3, 3, 16, 32]), s = zeros([32]);
        wasm.conv2d(x, w, null, o, p); wasm.conv2dGradFilter(x, dy, dw, p); wasm.reduce('sum', dy, s, 1, 4 * 30 * 30, 32);
        return [o.dataSync(), dw.dataSync(), s.dataSync()];
      });
      for (const r of runs.slice(1)) for (let i = 0; i < 3; i++) assert.deepEqual(r[i], runs[0][i], `threads=${th}: run differs`);
    }
    assert.equal(wasm.threads, 2);
  });
  test('setThreads clamps and validates', (t) => {
    if (!wasmAvailable()) { t.skip('build/kernels.wasm is missing'); return; }
    wasm.setThreads(1); assert.equal(wasm.threads, 1);
    wasm.setThreads(2); assert.equal(wasm.threads, 2);
  });
});
