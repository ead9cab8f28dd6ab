/**
 * The backend conformance suite: one set of checks any Backend runs (reference, wasm, native at each
 * thread count and instruction set, under node:test; webgpu in Chromium). It checks
 * - every kernel (depthwise convolutions and in-place calls included) against the reference backend
 *   (the oracle) on seeded random inputs at awkward sizes (1, 3, 7, 150, not multiples of 4 or 16),
 *   strides, paddings and dilations, each output between guard zones that must stay untouched, NaN
 *   inputs by the rules of src/backend/backend.ts;
 * - the PyTorch fixtures (test/fixtures/engine/pytorch.json): conv2d and pooling forward and
 *   gradients, and one whole forward/backward step of the notebook's model;
 * - autograd against finite differences through the backend's conv, pooling and dense kernels;
 * - flat memory (the WebAssembly heap, plus the backend's own figures) over 1,000 training steps;
 * - determinism: the same numbers twice for a given thread count.
 *
 * Runner-agnostic: `conformanceChecks()` returns the checks as async functions. They read what the
 * tested backend computed asynchronously (`await t.data()`; in place when it computes in the heap),
 * so a backend that cannot read synchronously runs them too, and import nothing from Node:
 * test/backend/conformance-node.ts registers them with node:test (and reads the fixtures from disk);
 * test/webgpu/kernels.mjs runs them in the page on webgpu (fixtures fetched). Inputs are made in the
 * heap, where the reference computes the expectations, and copied onto the tested backend's storage
 * when it has its own (webgpu); outputs and their guard zones live on the tested backend's storage.
 * Guard zones are 37 elements, so uint8 outputs start and end inside 32-bit words (where webgpu,
 * whose WGSL stores whole words, must change only its own bytes).
 *
 * Options for backends that lack a capability or are slow: `lacks.float64` (a reason) skips the casts
 * to and from float64 visibly (float64 transposes, data movement, still run).
 * `small` is for SwiftShader (WebGPU on the CPU, where one step of the small training model took
 * ~140 ms and the notebook-model step ~17 s): smaller but still awkward sizes, namely 40 training steps
 * instead of 1,000 for the flat-memory check (memory compared after step 10 and after step 40),
 * finite differences at ~16 points per input instead of ~40, elementwise and optimizer lengths up to
 * 5,003 instead of 70,001 (still not multiples of 4 or 16, still several workgroups), determinism on
 * a 2x19x17x16 -> 32 convolution instead of 4x30x30x16 -> 32. Everything else, the PyTorch notebook
 * step included, runs at the same sizes and tolerances as on the other backends.
 *
 * Tolerances: exact for data movement, comparisons and max pooling; 1e-6 relative for elementwise
 * maps; GEMM and convolutions accumulate in float32 where the reference uses float64, so they are
 * held to |d| <= 1e-6 * K + 1e-5 * |ref| for reduction depth K. PyTorch: see `pytorchFixtures`.
 */
import { Tensor, tensor, empty, zeros, heap, Rng, startScope, endScope } from '../../src/tensor/index.js';
import type { DType, TypedArray } from '../../src/tensor/index.js';
import { ReferenceBackend } from '../../src/backend/reference.js';
import { setBackend, backend } from '../../src/backend/index.js';
import type { Backend, Conv2DParams, Pool2DParams, Activation, BinaryOp, ReduceOp, UnaryOp } from '../../src/backend/backend.js';
import { ACTIVATIONS } from '../../src/backend/activations.js';
import {
  conv2d, maxPool2d, avgPool2d, dense, relu, sum, mul, clip, log, add, sub, neg, mean, dropout,
} from '../../src/ops/index.js';
import { valueAndGrad, noGrad, record } from '../../src/autograd/index.js';

export interface ConformanceOptions {
  /** Thread counts to run the kernel checks with (each kernel check runs once per count). */
  threads?: number[];
  /** Run only the kernel checks (e.g. for a second instruction set of the same backend). */
  kernelsOnly?: boolean;
  /** Skip the whole notebook-model step with this reason (the reference backend takes ~9 s for it). */
  skipModelStep?: string;
  /** Capabilities the backend lacks, each with the reason the checks that need it skip. */
  lacks?: {
    float64?: string;
  };
  /** Smaller (still awkward) sizes for a slow backend (SwiftShader): see the header. */
  small?: boolean;
  /** The backend's own memory figures (e.g. GPU buffer bytes), held flat over the training steps beside the heap's. */
  memory?: () => Record<string, number>;
}

/** The fixtures the suite compares with: test/fixtures/engine/pytorch.json, parsed. */
export interface ConformanceFixtures { pytorch: PytorchFixture }

/** One check: run it (rejects with what differs) unless `skip` gives the reason it cannot run here. */
export interface Check { name: string; skip: string | false; run(): Promise<void> }

const ref = new ReferenceBackend();
export const UNARY_OPS: readonly UnaryOp[] = [
  'linear', 'relu', 'sigmoid', 'tanh', 'elu', 'selu', 'leaky_relu', 'gelu', 'swish', 'softplus', 'relu6',
  'hard_sigmoid', 'exp', 'log', 'neg', 'abs', 'sqrt', 'square', 'reciprocal', 'sign',
];
const TYPED = { float32: Float32Array, int32: Int32Array, uint8: Uint8Array, float64: Float64Array } as const;

function fail(message: string): never { throw new Error(message); }
function check(ok: unknown, message: string): void { if (!ok) fail(message); }

/** Seeded uniform numbers in [lo, hi) (the same stream as test/helpers.ts randTensor). */
function uniform(shape: readonly number[], seed: number, lo = -1, hi = 1): Float32Array {
  const r = new Rng(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = r.uniform(lo, hi);
  return a;
}

/** Sprinkles NaN (and infinities) into values: every `every`-th element from `start`. */
function withNaN(v: Float32Array, every: number, start = 3): Float32Array {
  for (let i = start; i < v.length; i += every) v[i] = i % 3 === 0 ? NaN : i % 3 === 1 ? NaN : (i % 2 ? Infinity : -Infinity);
  return v;
}

/** Runs fn with `b` in use, so the tensors it makes are stored by `b`. */
function onStore<T>(b: Backend, fn: () => T): T {
  const previous = backend();
  if (previous === b) return fn();
  setBackend(b);
  try { return fn(); } finally { setBackend(previous); }
}
/** Runs fn where new tensors live in the WebAssembly heap (for the reference backend). */
function inHeap<T>(fn: () => T): T { return backend().storage === 'heap' ? fn() : onStore(ref, fn); }

const GUARD = 37; // elements of guard on each side (not a multiple of 4 or 16)
const SENTINEL = -12345.5;

function compare(a: ArrayLike<number>, e: ArrayLike<number>, atol: number, rtol: number, what: string): void {
  if (a.length !== e.length) fail(`${what}: length ${a.length} vs ${e.length}`);
  for (let i = 0; i < a.length; i++) {
    const ok = Number.isNaN(e[i]) ? Number.isNaN(a[i]) : Math.abs(a[i] - e[i]) <= atol + rtol * Math.abs(e[i]) || a[i] === e[i];
    if (!ok) fail(`${what}: element ${i}: ${a[i]} vs reference ${e[i]} (atol ${atol}, rtol ${rtol})`);
  }
}

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
  convParams(2, 5, 7, 16, 20, 3, 3, [1, 1], [1, 1], true, 'relu'), // native: Winograd F(2x2, 3x3) (below 8x8); 8x8 and up: F(4x4)
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

/**
 * What the kernel checks need of the tested backend: host tensors (heap, for the reference), the
 * backend's copy of an input, and outputs on its storage, guarded or plain, read asynchronously.
 */
function harness(B: () => Backend, opts: ConformanceOptions = {}) {
  const copies = new WeakMap<Tensor, Tensor>();
  const ownStorage = (): boolean => B().storage !== 'heap';
  /** On the tested backend's storage: the heap is every heap backend's. */
  const onB = <T>(fn: () => T): T => (ownStorage() ? onStore(B(), fn) : fn());
  /** An output's values: read asynchronously from the backend's own storage; in the heap, in place. */
  const read = async (t: Tensor): Promise<TypedArray> => (ownStorage() ? t.data() : t.view());
  const h = {
    /** Seeded random host tensor. */
    rand: (shape: number[], seed: number, lo = -1, hi = 1): Tensor => inHeap(() => tensor(uniform(shape, seed, lo, hi), shape)),
    /** Host tensor of these values. */
    host: (values: TypedArray, shape: number[], dtype: DType = 'float32'): Tensor => inHeap(() => tensor(values, shape, dtype)),
    /** A host copy (the reference's in-place operand). */
    clone: (t: Tensor): Tensor => inHeap(() => t.clone()),
    /** Host zeros (the reference's outputs). */
    zeros: (shape: number[], dtype: DType = 'float32'): Tensor => inHeap(() => zeros(shape, dtype)),
    /** The tested backend's copy of a host input (the same tensor when it computes in the heap). */
    on: <T extends Tensor | null>(t: T): T => {
      if (t === null || !ownStorage()) return t;
      let c = copies.get(t);
      if (!c) copies.set(t, (c = onStore(B(), () => tensor(t.dataSync(), t.shape, t.dtype))));
      return c as T;
    },
    /** A zeroed output on the tested backend's storage. */
    out: (shape: number[], dtype: DType = 'float32'): Tensor => onB(() => zeros(shape, dtype)),
    /**
     * An output inside a larger block on the tested backend's storage, filled with `init` (a value or
     * values); `check()` reads the block once and asserts the guards were not written and the output
     * matches the reference's.
     */
    guarded(shape: number[], dtype: DType = 'float32', init: number | ArrayLike<number> = 0) {
      const n = shape.reduce((a, b) => a * b, 1);
      const G = GUARD;
      const values = new TYPED[dtype](n + 2 * G);
      values.fill(SENTINEL as never, 0, G); values.fill(SENTINEL as never, n + G);
      if (typeof init === 'number') values.fill(init as never, G, n + G); else values.set(init as never, G);
      const s = values[0]; // the sentinel as this dtype stores it
      const block = onB(() => empty([n + 2 * G], dtype));
      block.write(values);
      const t = block.sliceBatch(G, G + n).reshape(shape);
      return {
        t,
        async check(expected: Tensor, atol: number, rtol: number, what: string): Promise<void> {
          const w = await read(block);
          for (let i = 0; i < G; i++) {
            if (w[i] !== s || w[n + G + i] !== s) fail(`${what}: wrote outside its output (guard element ${w[i] !== s ? i - G : n + i})`);
          }
          compare(w.subarray(G, G + n), expected.view(), atol, rtol, what);
        },
      };
    },
    /** Compares an output of the tested backend with the reference's. */
    async close(actual: Tensor, expected: Tensor, atol: number, rtol: number, what: string): Promise<void> {
      compare(await read(actual), expected.view(), atol, rtol, what);
    },
    exact(actual: Tensor, expected: Tensor, what: string): Promise<void> { return h.close(actual, expected, 0, 0, what); },
  };
  return h;
}

// ---- kernel checks against the reference ----------------------------------------------------------

function kernelChecks(B: () => Backend, opts: ConformanceOptions): Record<string, (() => Promise<void>) | string> {
  const { rand, host, zeros: hz, clone, on, out, guarded, close, exact } = harness(B, opts);
  const small = !!opts.small;
  const LENGTHS = small ? [1, 3, 7, 150, 4097, 5003] : [1, 3, 7, 150, 4097, 70001];
  const castCheck = (dtypes: readonly DType[], needFloat64: boolean) => async () => {
    const vals = [0, 0.5, -0.5, 1.9999, -1.9999, 254.7, 255.5, 256, -3, 1e10, -1e10, 3e9, NaN, Infinity, -Infinity, 123456.789, 16777217.5];
    for (const from of dtypes) for (const to of dtypes) {
      if (needFloat64 && from !== 'float64' && to !== 'float64') continue;
      const n = vals.length * 10 + 3;
      const v = new TYPED[from](n);
      for (let i = 0; i < n; i++) v[i] = vals[i % vals.length];
      const src = host(v, [n], from);
      const o = guarded([n], to), e = hz([n], to);
      B().cast(on(src), o.t); ref.cast(src, e);
      await o.check(e, 0, 0, `cast ${from} -> ${to}`);
    }
  };
  const transposeCheck = async (): Promise<void> => {
    let seed = 1200;
    for (const [shape, perm] of [[[7], [0]], [[3, 150], [1, 0]], [[2, 3, 5], [2, 0, 1]], [[2, 3, 5, 7], [0, 3, 1, 2]], [[4, 1, 3, 2, 5], [4, 2, 0, 3, 1]], [[128, 129], [1, 0]], [[300, 200], [1, 0]]] as [number[], number[]][]) {
      for (const dtype of ['float32', 'int32', 'uint8', 'float64'] as const) {
        const x = rand(shape, seed++);
        let xi = x;
        if (dtype !== 'float32') { xi = hz(shape, dtype); ref.cast(rand(shape, seed++, 0, 250), xi); }
        const os = perm.map((p) => shape[p]);
        const o = guarded(os, dtype), e = hz(os, dtype);
        B().transpose(on(xi), o.t, perm); ref.transpose(xi, e, perm);
        await o.check(e, 0, 0, `transpose ${JSON.stringify(shape)} ${JSON.stringify(perm)} ${dtype}`);
      }
    }
  };
  const noF64 = opts.lacks?.float64;
  return {
    'matmul: all transposes, accumulate, awkward and blocked sizes': async () => {
      // [5, 3, 2000]: a deep sum over few outputs (split over K where a backend does that).
      const sizes = [[1, 1, 1], [3, 7, 5], [7, 3, 150], [150, 37, 301], [33, 517, 19], [64, 96, 260], [129, 9, 1], [200, 70, 600], [5, 300, 0], [5, 3, 2000]];
      let seed = 1;
      for (const [m, n, k] of sizes) for (const transA of [false, true]) for (const transB of [false, true]) for (const accumulate of [false, true]) {
        const a = rand(transA ? [k, m] : [m, k], seed++), b = rand(transB ? [n, k] : [k, n], seed++);
        const init = rand([m, n], seed++);
        const o = guarded([m, n], 'float32', init.view());
        const e = clone(init);
        const p = { m, n, k, transA, transB, accumulate };
        B().matmul(on(a), on(b), o.t, p); ref.matmul(a, b, e, p);
        await o.check(e, 1e-6 * k + 1e-6, 1e-5, `matmul ${m}x${n}x${k} transA=${transA} transB=${transB} acc=${accumulate}`);
      }
    },
    'conv2d forward with bias and fused activation': async () => {
      let seed = 100;
      for (const p of CONVS) for (const withBias of [true, false]) {
        const x = rand([p.batch, p.inH, p.inW, p.inC], seed++), w = rand([p.kH, p.kW, p.inC, p.outC], seed++);
        const b = withBias ? rand([p.outC], seed++) : null;
        const o = guarded([p.batch, p.outH, p.outW, p.outC]), e = hz([p.batch, p.outH, p.outW, p.outC]);
        B().conv2d(on(x), on(w), on(b), o.t, p); ref.conv2d(x, w, b, e, p);
        const K = p.kH * p.kW * p.inC;
        await o.check(e, 1e-6 * K + 1e-6, 1e-5, fmtConv(p));
      }
    },
    'conv2d gradient w.r.t. the input': async () => {
      let seed = 200;
      for (const p of CONVS) {
        const dy = rand([p.batch, p.outH, p.outW, p.outC], seed++), w = rand([p.kH, p.kW, p.inC, p.outC], seed++);
        const o = guarded([p.batch, p.inH, p.inW, p.inC], 'float32', 3), e = hz([p.batch, p.inH, p.inW, p.inC]); // overwritten, not accumulated
        B().conv2dGradInput(on(dy), on(w), o.t, p); ref.conv2dGradInput(dy, w, e, p);
        await o.check(e, 1e-6 * p.kH * p.kW * p.outC + 1e-6, 1e-5, 'grad input ' + fmtConv(p));
      }
    },
    'conv2d gradient w.r.t. the filter': async () => {
      let seed = 300;
      for (const p of CONVS) {
        const x = rand([p.batch, p.inH, p.inW, p.inC], seed++), dy = rand([p.batch, p.outH, p.outW, p.outC], seed++);
        const o = guarded([p.kH, p.kW, p.inC, p.outC], 'float32', 3), e = hz([p.kH, p.kW, p.inC, p.outC]);
        B().conv2dGradFilter(on(x), on(dy), o.t, p); ref.conv2dGradFilter(x, dy, e, p);
        await o.check(e, 1e-6 * p.batch * p.outH * p.outW + 1e-6, 1e-5, 'grad filter ' + fmtConv(p));
      }
    },
    'depthwise conv2d forward (bias, fused activation) and gradients': async () => {
      let seed = 350;
      const cases: [Conv2DParams, number][] = [
        [convParams(2, 7, 9, 3, 3, 3, 3, [1, 1], [1, 1], true, 'relu'), 1],
        [convParams(1, 8, 7, 4, 8, 3, 2, [2, 1], [1, 2], true, 'linear'), 2],
        [convParams(1, 6, 6, 5, 15, 2, 2, [2, 2], [1, 1], false, 'sigmoid'), 3],
        [convParams(2, 9, 10, 33, 33, 3, 3, [1, 1], [1, 1], true, 'relu6'), 1],
      ];
      for (const [base, mult] of cases) {
        const p = { ...base, depthMultiplier: mult, outC: base.inC * mult };
        const xs = [p.batch, p.inH, p.inW, p.inC], ys = [p.batch, p.outH, p.outW, p.outC], ws = [p.kH, p.kW, p.inC, mult];
        const x = rand(xs, seed++), w = rand(ws, seed++), b = rand([p.outC], seed++), dy = rand(ys, seed++);
        const what = `depthwise x${mult} ${fmtConv(p)}`;
        const o = guarded(ys), e = hz(ys);
        B().depthwiseConv2d(on(x), on(w), on(b), o.t, p); ref.depthwiseConv2d(x, w, b, e, p);
        await o.check(e, 1e-5, 1e-5, what);
        const dx = guarded(xs, 'float32', 3), dxe = hz(xs);
        B().depthwiseConv2dGradInput(on(dy), on(w), dx.t, p); ref.depthwiseConv2dGradInput(dy, w, dxe, p);
        await dx.check(dxe, 1e-5, 1e-5, 'grad input ' + what);
        const dw = guarded(ws, 'float32', 3), dwe = hz(ws);
        B().depthwiseConv2dGradFilter(on(x), on(dy), dw.t, p); ref.depthwiseConv2dGradFilter(x, dy, dwe, p);
        await dw.check(dwe, 1e-6 * p.batch * p.outH * p.outW + 1e-5, 1e-5, 'grad filter ' + what);
      }
    },
    'max and average pooling, forward and backward (and the max-pool gradient fused with relu\'s, where a backend has it)': async () => {
      let seed = 400;
      for (const p of POOLS) {
        // Coarse values so windows hold ties: the first maximum must win, as in the reference.
        const ishape = [p.batch, p.inH, p.inW, p.channels], oshape = [p.batch, p.outH, p.outW, p.channels];
        const x = host(uniform(ishape, seed++, -3, 3).map(Math.round), ishape);
        const dy = rand(oshape, seed++);
        const mo = guarded(oshape), me = hz(oshape);
        B().maxPool2d(on(x), mo.t, p); ref.maxPool2d(x, me, p);
        await mo.check(me, 0, 0, 'max ' + fmtPool(p));
        const ao = guarded(oshape), ae = hz(oshape);
        B().avgPool2d(on(x), ao.t, p); ref.avgPool2d(x, ae, p);
        await ao.check(ae, 1e-6, 1e-6, 'avg ' + fmtPool(p));
        const mg = guarded(ishape, 'float32', 5), mge = hz(ishape);
        B().maxPool2dGrad(on(x), on(dy), mg.t, p); ref.maxPool2dGrad(x, dy, mge, p);
        await mg.check(mge, 1e-6, 1e-6, 'max grad ' + fmtPool(p));
        const ag = guarded(ishape, 'float32', 5), age = hz(ishape);
        B().avgPool2dGrad(on(dy), ag.t, p); ref.avgPool2dGrad(dy, age, p);
        await ag.check(age, 1e-6, 1e-6, 'avg grad ' + fmtPool(p));
        const be = B();
        if (be.maxPool2dGradRelu) {
          // The optional fusion is exactly maxPool2dGrad then unaryGrad('relu') at x, x a ReLU's output
          // (zeros, ties), with a NaN in x and an infinity in dy (0 * inf is NaN where x is not > 0).
          const xv = uniform(ishape, seed++, -3, 3).map((v) => Math.max(0, Math.round(v)));
          xv[xv.length >> 1] = NaN;
          const dv = uniform(oshape, seed++);
          dv[0] = Infinity;
          const xr = host(xv, ishape), dr = host(dv, oshape);
          const g1 = hz(ishape), fe = hz(ishape);
          ref.maxPool2dGrad(xr, dr, g1, p); ref.unaryGrad('relu', xr, xr, g1, fe, 0);
          const fo = guarded(ishape, 'float32', 5);
          be.maxPool2dGradRelu(on(xr), on(dr), fo.t, p);
          await fo.check(fe, 0, 0, 'max grad times relu\' ' + fmtPool(p));
        }
      }
    },
    'NaN rules: pooling, relu epilogues, max/min, reductions, activation gradients, cast': async () => {
      const p = poolParams(1, 6, 6, 5, [2, 2], [2, 2], false);
      const x = host(withNaN(uniform([1, 6, 6, 5], 7), 11), [1, 6, 6, 5]);
      const dy = rand([1, 3, 3, 5], 8);
      const o = out([1, 3, 3, 5]), e = hz([1, 3, 3, 5]);
      B().maxPool2d(on(x), o, p); ref.maxPool2d(x, e, p); await exact(o, e, 'max pool with NaN');
      const g = out([1, 6, 6, 5]), ge = hz([1, 6, 6, 5]);
      B().maxPool2dGrad(on(x), on(dy), g, p); ref.maxPool2dGrad(x, dy, ge, p); await exact(g, ge, 'max pool gradient with NaN');
      const xs = host(withNaN(uniform([301], 9), 7), [301]);
      for (const op of ACTIVATIONS) {
        const u = out([301]), ue = hz([301]);
        B().unary(op, on(xs), u, 0.3); ref.unary(op, xs, ue, 0.3); await close(u, ue, 1e-7, 2e-6, `unary ${op} with NaN`);
        const d = rand([301], 10), gx = out([301]), gxe = hz([301]);
        B().unaryGrad(op, on(xs), on(ue), on(d), gx, 0.3); ref.unaryGrad(op, xs, ue, d, gxe, 0.3); await close(gx, gxe, 1e-7, 2e-6, `grad ${op} with NaN`);
        const ba = out([301]), bae = hz([301]), bias = rand([301], 11);
        B().biasAct(on(xs), on(bias), ba, 1, 301, op, 0.3); ref.biasAct(xs, bias, bae, 1, 301, op, 0.3); await close(ba, bae, 1e-7, 2e-6, `biasAct ${op} with NaN`);
      }
      const ys = host(withNaN(uniform([301], 12), 5, 1), [301]);
      for (const op of ['max', 'min', 'add', 'mul'] as BinaryOp[]) {
        const bp = { outShape: [301], aStrides: [1], bStrides: [1] };
        const b1 = out([301]), b2 = out([301]), b3 = out([301]), be1 = hz([301]), be2 = hz([301]), be3 = hz([301]);
        B().binary(op, on(xs), on(ys), b1, bp); ref.binary(op, xs, ys, be1, bp); await exact(b1, be1, `binary ${op} with NaN`);
        B().binaryScalar(op, on(xs), NaN, b2, false); ref.binaryScalar(op, xs, NaN, be2, false); await exact(b2, be2, `binaryScalar ${op} NaN`);
        B().binaryScalar(op, on(xs), 0.5, b3, true); ref.binaryScalar(op, xs, 0.5, be3, true); await exact(b3, be3, `binaryScalar ${op} reverse with NaN`);
      }
      for (const op of ['sum', 'max', 'min', 'mean', 'prod'] as ReduceOp[]) {
        const xr = host(withNaN(uniform([4, 30, 3], 13), 37), [4, 30, 3]);
        const r = out([4, 3]), re = hz([4, 3]);
        B().reduce(op, on(xr), r, 4, 30, 3); ref.reduce(op, xr, re, 4, 30, 3); await close(r, re, 1e-6, 1e-6, `reduce ${op} with NaN`);
      }
      const cp = convParams(1, 5, 5, 3, 8, 3, 3, [1, 1], [1, 1], true, 'relu');
      const xc = host(withNaN(uniform([1, 5, 5, 3], 14), 29), [1, 5, 5, 3]), wc = rand([3, 3, 3, 8], 15);
      const co = out([1, 5, 5, 8]), ce = hz([1, 5, 5, 8]);
      B().conv2d(on(xc), on(wc), null, co, cp); ref.conv2d(xc, wc, null, ce, cp);
      await close(co, ce, 1e-4, 1e-5, 'conv relu with NaN input');
      const ci = out([301], 'int32'), cie = hz([301], 'int32');
      B().cast(on(xs), ci); ref.cast(xs, cie); await exact(ci, cie, 'cast NaN to int32');
    },
    'unary ops': async () => {
      let seed = 500;
      for (const n of LENGTHS) for (const op of UNARY_OPS) {
        const positive = op === 'log' || op === 'sqrt';
        const x = rand([n], seed++, positive ? 0.01 : -4, 4);
        const o = guarded([n]), e = hz([n]);
        B().unary(op, on(x), o.t, 0.3); ref.unary(op, x, e, 0.3);
        await o.check(e, 1e-7, 2e-6, `unary ${op} n=${n}`);
      }
    },
    'unary ops in place (the output is the input)': async () => {
      let seed = 560;
      for (const n of [1, 33, 4097]) for (const op of ['square', 'relu', 'sigmoid', 'neg'] as UnaryOp[]) {
        const x = rand([n], seed++, -3, 3), e = hz([n]);
        const o = guarded([n], 'float32', x.view());
        B().unary(op, o.t, o.t, 0); ref.unary(op, x, e, 0);
        await o.check(e, 1e-7, 2e-6, `unary ${op} in place n=${n}`);
      }
    },
    'activation gradients': async () => {
      let seed = 600;
      for (const n of LENGTHS) for (const op of ACTIVATIONS) {
        const x = rand([n], seed++, -4, 4), dy = rand([n], seed++);
        const y = hz([n]); ref.unary(op, x, y, 0.3);
        const o = guarded([n]), e = hz([n]);
        B().unaryGrad(op, on(x), on(y), on(dy), o.t, 0.3); ref.unaryGrad(op, x, y, dy, e, 0.3);
        await o.check(e, 1e-7, 2e-6, `grad ${op} n=${n}`);
      }
    },
    'binary ops with broadcasting': async () => {
      const BIN: BinaryOp[] = ['add', 'sub', 'mul', 'div', 'max', 'min', 'pow', 'greater', 'less', 'equal'];
      const cases: [number[], number[], number[]][] = [
        [[7], [7], [7]], [[150], [1], [150]], [[1], [150], [150]], [[3, 7], [7], [3, 7]], [[3, 1], [1, 7], [3, 7]],
        [[2, 3, 5, 7], [7], [2, 3, 5, 7]], [[2, 1, 5, 1], [1, 3, 1, 7], [2, 3, 5, 7]], [[33, 150], [33, 1], [33, 150]],
        [[], [], []], [[4, 1, 1, 1, 3, 1, 2, 1, 2], [1, 2, 1, 3, 1, 2, 1, 2, 1], [4, 2, 1, 3, 3, 2, 2, 2, 2]], [[1000, 17], [17], [1000, 17]],
        [[300, 1, 130], [1, 2, 130], [300, 2, 130]],
      ];
      let seed = 700;
      for (const [as, bs, os] of cases) for (const op of BIN) {
        const av = uniform(as, seed++, op === 'pow' ? 0.1 : -2, 2), bv = uniform(bs, seed++, -2, 2);
        if (op === 'equal' || op === 'max' || op === 'min') { for (let i = 0; i < Math.min(av.length, bv.length); i += 3) av[i] = bv[i]; }
        const a = host(av, as), b = host(bv, bs);
        const p = { outShape: os, aStrides: strides(as, os), bStrides: strides(bs, os) };
        const o = guarded(os), e = hz(os);
        B().binary(op, on(a), on(b), o.t, p); ref.binary(op, a, b, e, p);
        await o.check(e, 0, op === 'pow' ? 1e-6 : 0, `binary ${op} ${JSON.stringify(as)} ${JSON.stringify(bs)}`);
      }
    },
    'binary ops with a scalar, both sides': async () => {
      const BIN: BinaryOp[] = ['add', 'sub', 'mul', 'div', 'max', 'min', 'pow', 'greater', 'less', 'equal'];
      let seed = 800;
      for (const n of small ? [1, 7, 150, 5003] : [1, 7, 150, 5003, 70001]) for (const op of BIN) for (const rev of [false, true]) for (const s of [0.1, -1.7, 3]) {
        const x = rand([n], seed++, op === 'pow' && !rev ? 0.1 : -2, 2);
        const o = guarded([n]), e = hz([n]);
        B().binaryScalar(op, on(x), s, o.t, rev); ref.binaryScalar(op, x, s, e, rev);
        await o.check(e, 0, op === 'pow' ? 1e-6 : 0, `binaryScalar ${op} ${s} reverse=${rev} n=${n}`);
      }
    },
    'bias + activation': async () => {
      let seed = 900;
      for (const [rows, c] of [[1, 1], [3, 7], [150, 33], [1000, 128]]) for (const act of ACTIVATIONS) for (const withBias of [true, false]) {
        const x = rand([rows, c], seed++, -4, 4), b = withBias ? rand([c], seed++) : null;
        const o = guarded([rows, c]), e = hz([rows, c]);
        B().biasAct(on(x), on(b), o.t, rows, c, act, 0.2); ref.biasAct(x, b, e, rows, c, act, 0.2);
        await o.check(e, 1e-7, 2e-6, `biasAct ${act} ${rows}x${c}`);
      }
    },
    'reduce over the middle axis': async () => {
      let seed = 1000;
      for (const [outer, n, inner] of [[1, 1, 1], [1, 7, 1], [3, 150, 1], [1, 150, 7], [5, 3, 33], [1, 20001, 32], [2, 5000, 3], [700, 4, 5], [1, 9, 1030]]) {
        for (const op of ['sum', 'max', 'min', 'mean', 'prod'] as ReduceOp[]) {
          const x = rand([outer, n, inner], seed++, op === 'prod' ? 0.9 : -1, op === 'prod' ? 1.1 : 1);
          const o = guarded([outer, inner]), e = hz([outer, inner]);
          B().reduce(op, on(x), o.t, outer, n, inner); ref.reduce(op, x, e, outer, n, inner);
          await o.check(e, 1e-6, 1e-6, `reduce ${op} ${outer}x${n}x${inner}`);
        }
      }
    },
    'softmax': async () => {
      let seed = 1100;
      for (const [rows, cols] of [[1, 1], [3, 7], [150, 10], [2, 1000], [3000, 12]]) {
        const x = rand([rows, cols], seed++, -20, 20);
        const o = guarded([rows, cols]), e = hz([rows, cols]);
        B().softmax(on(x), o.t, rows, cols); ref.softmax(x, e, rows, cols);
        await o.check(e, 1e-9, 1e-6, `softmax ${rows}x${cols}`);
      }
    },
    'transpose (float32, int32, uint8, float64)': transposeCheck,
    'cast between float32, int32 and uint8': castCheck(['float32', 'int32', 'uint8'], false),
    'cast to and from float64': noF64 ?? castCheck(['float32', 'int32', 'uint8', 'float64'], true),
    'tensors in the WebAssembly heap as inputs and outputs (made before this backend was selected)': async () => {
      // Backends with their own storage take heap tensors too; `read` gives what they wrote into one.
      let seed = 1400;
      const a = rand([33, 70], seed++), b = rand([70, 19], seed++), u = rand([1031], seed++);
      const x = rand([2, 7, 9, 5], seed++), w = rand([3, 3, 5, 6], seed++);
      const p = convParams(2, 7, 9, 5, 6, 3, 3, [1, 1], [1, 1], true, 'relu');
      const mp = { m: 33, n: 19, k: 70, transA: false, transB: false, accumulate: false };
      const pairs: [Tensor, Tensor, number, string][] = [];
      const mo = hz([33, 19]), me = hz([33, 19]);
      B().matmul(a, b, mo, mp); ref.matmul(a, b, me, mp); pairs.push([mo, me, 1e-6 * 70 + 1e-6, 'matmul']);
      const co = hz([2, 7, 9, 6]), ce = hz([2, 7, 9, 6]);
      B().conv2d(x, w, null, co, p); ref.conv2d(x, w, null, ce, p); pairs.push([co, ce, 1e-6 * 45 + 1e-6, 'conv2d']);
      const uo = hz([1031]), ue = hz([1031]);
      B().unary('tanh', u, uo, 0); ref.unary('tanh', u, ue, 0); pairs.push([uo, ue, 1e-7, 'unary']);
      const vo = hz([1031]), ve = hz([1031]); // an output of this backend as its next input
      B().unary('square', uo, vo, 0); ref.unary('square', ue, ve, 0); pairs.push([vo, ve, 1e-7, 'unary of a unary']);
      for (const [o, e, atol, what] of pairs) compare(await B().read(o), e.view(), atol, 1e-5, `heap tensors: ${what}`);
    },
    'optimizer updates: adam, adamw, amsgrad, sgd (momentum, nesterov), rmsprop (centered, momentum)': async () => {
      let seed = 1300;
      for (const n of small ? [1, 7, 150, 5003] : [1, 7, 150, 70001]) {
        seed += 5;
        const g = rand([n], seed++);
        for (const amsgrad of [false, true]) for (const wd of [0, 0.01]) {
          const p0 = rand([n], seed++), m0 = rand([n], seed++), v0 = rand([n], seed++, 0, 1), h0 = rand([n], seed++, 0, 1);
          const [p1, m1, v1, h1] = [clone(p0), clone(m0), clone(v0), clone(h0)];
          const [pb, mb, vb, hb] = [on(p0), on(m0), on(v0), on(h0)];
          const ap = { lr: 0.01, beta1: 0.9, beta2: 0.999, epsilon: 1e-7, step: 3, weightDecay: wd, amsgrad };
          B().adamUpdate(pb, on(g), mb, vb, amsgrad ? hb : null, ap); ref.adamUpdate(p1, g, m1, v1, amsgrad ? h1 : null, ap);
          const what = `adam amsgrad=${amsgrad} wd=${wd} n=${n}`;
          await close(pb, p1, 1e-6, 1e-5, `${what} param`); await close(mb, m1, 1e-7, 1e-6, `${what} m`); await close(vb, v1, 1e-7, 1e-6, `${what} v`);
          if (amsgrad) await close(hb, h1, 1e-7, 1e-6, `${what} vhat`);
        }
        for (const momentum of [0, 0.9]) for (const nesterov of [false, true]) {
          const p0 = rand([n], seed++), v0 = rand([n], seed++);
          const p1 = clone(p0), v1 = clone(v0);
          const [pb, vb] = [on(p0), on(v0)];
          const sp = { lr: 0.05, momentum, nesterov, weightDecay: 0.001 };
          B().sgdUpdate(pb, on(g), vb, sp); ref.sgdUpdate(p1, g, v1, sp);
          const what = `sgd momentum=${momentum} nesterov=${nesterov} n=${n}`;
          await close(pb, p1, 1e-6, 1e-6, `${what} param`); await close(vb, v1, 1e-6, 1e-6, `${what} velocity`);
        }
        for (const centered of [false, true]) for (const momentum of [0, 0.5]) {
          const p0 = rand([n], seed++), s0 = rand([n], seed++, 0.5, 1), mo0 = rand([n], seed++), mg0 = rand([n], seed++, -0.1, 0.1);
          const [p1, s1, mo1, mg1] = [clone(p0), clone(s0), clone(mo0), clone(mg0)];
          const [pb, sb, mob, mgb] = [on(p0), on(s0), on(mo0), on(mg0)];
          const rp = { lr: 0.01, rho: 0.9, momentum, epsilon: 1e-7, centered };
          B().rmspropUpdate(pb, on(g), sb, mob, mgb, rp); ref.rmspropUpdate(p1, g, s1, mo1, mg1, rp);
          const what = `rmsprop centered=${centered} momentum=${momentum} n=${n}`;
          await close(pb, p1, 1e-6, 1e-5, `${what} param`); await close(sb, s1, 1e-7, 1e-6, `${what} ms`);
          await close(mob, mo1, 1e-6, 1e-5, `${what} momentum`); await close(mgb, mg1, 1e-7, 1e-6, `${what} mean gradient`);
        }
      }
    },
  };
}

// ---- PyTorch fixtures ------------------------------------------------------------------------------

/** test/fixtures/engine/pytorch.json (written by its generator script): inputs are `hashUniform` streams; outputs base64 float32. */
export interface PytorchFixture {
  conv2d: { seed: number; x: number[]; w: number[]; stride: number | [number, number]; dil: number | [number, number]; padding: 'same' | 'valid'; y_shape: number[]; y: string; dx: string; dw: string; db: string }[];
  pool: { seed: number; kind: 'max' | 'avg'; x: number[]; pool: number | [number, number]; stride: number | [number, number]; padding: 'same' | 'valid'; y_shape: number[]; y: string; dx: string }[];
  model: { x_seed: number; batch: number; size: number; x_scale: number; y: number[]; pred: string; loss: number; grads: { shape: number[]; step: number; sample: string; sum: number; norm: number }[] };
}

/** The fixture generator's counter-based uniform numbers in [-scale, scale) (the page tests use them too). */
export function hashUniform(seed: number, n: number, scale = 1): Float32Array {
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
  const s = atob(b64), u = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) u[i] = s.charCodeAt(i);
  return new Float32Array(u.buffer);
}
function closeTo(a: ArrayLike<number>, e: ArrayLike<number>, atol: number, rtol: number, what: string): void {
  if (a.length !== e.length) fail(`${what}: length ${a.length} vs ${e.length}`);
  for (let i = 0; i < a.length; i++) {
    if (!(Math.abs(a[i] - e[i]) <= atol + rtol * Math.abs(e[i]))) fail(`${what}: element ${i}: ${a[i]} vs PyTorch ${e[i]} (atol ${atol}, rtol ${rtol})`);
  }
}
const sameShape = (t: Tensor, shape: number[], what: string): void => check(t.shape.join() === shape.join(), `${what}: shape [${t.shape}] vs [${shape}]`);

/** Runs fn in a scope that may await (its tensors are released when it ends, or throws). */
async function scoped(fn: () => Promise<void>): Promise<void> {
  startScope();
  try { await fn(); } finally { endScope(undefined); }
}

/**
 * Tolerances: conv2d/pooling outputs and gradients |d| <= 1e-5 + 1e-4 |ref| (float32 sums in a
 * different order); the model's loss and predictions 1e-5 relative, each parameter gradient's
 * sampled entries |d| <= 1e-4 * max|g| + 1e-3 |ref| and its sum/norm 1e-3 relative to the norm.
 */
function pytorchFixtures(name: string, fx: PytorchFixture): Record<string, () => Promise<void>> {
  return {
    'PyTorch: conv2d forward and gradients (strides, same/valid, dilation)': async () => {
      for (const c of fx.conv2d) await scoped(async () => {
        const x = gen(c.seed, c.x), w = gen(c.seed + 1, c.w, 0.3), b = gen(c.seed + 2, [c.w[3]], 0.1);
        const what = `${name} conv ${JSON.stringify(c.x)} ${JSON.stringify(c.w)} s${c.stride} d${c.dil} ${c.padding}`;
        let y: Tensor | undefined;
        const { value, grads } = valueAndGrad(() => {
          y = conv2d(x, w, { bias: b, strides: c.stride, dilationRate: c.dil, padding: c.padding });
          return sum(mul(y, gen(c.seed + 3, c.y_shape)));
        }, [x, w, b]);
        sameShape(y!, c.y_shape, what);
        closeTo(await y!.data(), f32(c.y), 1e-5, 1e-4, what + ' y');
        check(Number.isFinite((await value.data())[0]), `${what}: loss is not finite`);
        closeTo(await grads[0].data(), f32(c.dx), 1e-5, 1e-4, what + ' dx');
        closeTo(await grads[1].data(), f32(c.dw), 1e-5, 1e-4, what + ' dw');
        closeTo(await grads[2].data(), f32(c.db), 1e-5, 1e-4, what + ' db');
      });
    },
    'PyTorch: max and average pooling forward and gradients': async () => {
      for (const c of fx.pool) await scoped(async () => {
        const x = gen(c.seed, c.x);
        const what = `${name} ${c.kind} pool ${JSON.stringify(c.x)} ${c.pool} s${c.stride} ${c.padding}`;
        let y: Tensor | undefined;
        const { grads } = valueAndGrad(() => {
          const opts = { poolSize: c.pool, strides: c.stride, padding: c.padding };
          y = c.kind === 'max' ? maxPool2d(x, opts) : avgPool2d(x, opts);
          return sum(mul(y, gen(c.seed + 3, c.y_shape)));
        }, [x]);
        sameShape(y!, c.y_shape, what);
        closeTo(await y!.data(), f32(c.y), 1e-6, 1e-5, what + ' y');
        closeTo(await grads[0].data(), f32(c.dx), 1e-6, 1e-5, what + ' dx');
      });
    },
    'PyTorch: the notebook model, one forward/backward step at 150x150x3, batch 2': async () => {
      const m = fx.model;
      await scoped(async () => {
        const x = gen(m.x_seed, [m.batch, m.size, m.size, 3], m.x_scale);
        const y = tensor(m.y.map((v: number) => [v]));
        const params: Tensor[] = [];
        let c = 3, ps = 100;
        for (const f of [32, 64, 128, 64]) { params.push(gen(ps, [3, 3, c, f], Math.sqrt(6 / (9 * c))), gen(ps + 1, [f], 0.05)); ps += 2; c = f; }
        params.push(gen(ps, [5184, 128], Math.sqrt(6 / (5184 + 128))), gen(ps + 1, [128], 0.05)); ps += 2;
        params.push(gen(ps, [128, 1], Math.sqrt(6 / 129)), gen(ps + 1, [1], 0.05));
        let pred: Tensor | undefined;
        const { value, grads } = valueAndGrad(() => {
          let h = x;
          for (let i = 0; i < 4; i++) {
            h = conv2d(h, params[2 * i], { bias: params[2 * i + 1], padding: 'same', activation: 'relu' });
            h = maxPool2d(h, { poolSize: 2 });
          }
          const flat = h.reshape([m.batch, h.size / m.batch]);
          record('reshape', [h], flat, (dy) => [dy.reshape(h.shape)]);
          const p = dense(relu(dense(flat, params[8], params[9])), params[10], params[11], 'sigmoid');
          pred = p;
          const pc = clip(p, 1e-7, 1 - 1e-7);
          return neg(mean(add(mul(y, log(pc)), mul(sub(1, y), log(sub(1, pc))))));
        }, params);
        closeTo(await pred!.data(), f32(m.pred), 1e-6, 1e-5, 'predictions');
        closeTo(await value.data(), [m.loss], 1e-6, 1e-5, 'loss');
        check(grads.length === m.grads.length, `${grads.length} gradients vs ${m.grads.length} in the fixture`);
        for (let i = 0; i < grads.length; i++) {
          const r = m.grads[i];
          const gv = await grads[i].data();
          const sample = f32(r.sample);
          const got = Array.from(sample, (_, j) => gv[j * r.step]);
          let gmax = 0; for (const v of sample) gmax = Math.max(gmax, Math.abs(v));
          closeTo(got, sample, 1e-4 * gmax + 1e-9, 1e-3, `grad ${i} ${JSON.stringify(r.shape)} sample`);
          let s = 0, n2 = 0; for (let j = 0; j < gv.length; j++) { s += gv[j]; n2 += gv[j] * gv[j]; }
          closeTo([s, Math.sqrt(n2)], [r.sum, r.norm], 1e-3 * r.norm + 1e-9, 1e-3, `grad ${i} sum/norm`);
        }
      });
    },
  };
}

// ---- finite differences, memory, determinism -------------------------------------------------------

/**
 * Checks autograd against central finite differences (in float64 arithmetic on float32 data) for
 * f(...inputs) reduced to a scalar by a fixed random projection, as test/helpers.ts gradCheck does,
 * with asynchronous reads: each probe writes one input element (t.write) and reads the output.
 */
async function gradCheck(f: (...xs: Tensor[]) => Tensor, inputs: { shape: number[]; values: Float32Array }[], probes = 40, eps = 1e-2, atol = 2e-3, rtol = 2e-2): Promise<void> {
  await scoped(async () => {
    const xs = inputs.map((s) => tensor(s.values, s.shape));
    const probe = f(...xs);
    const wv = uniform(probe.shape, 99);
    const w = tensor(wv, probe.shape);
    const scalarOf = async (): Promise<number> => {
      let s = 0;
      await scoped(async () => {
        const y = await f(...xs).data();
        for (let i = 0; i < y.length; i++) s += y[i] * wv[i];
      });
      return s;
    };
    const { grads } = valueAndGrad(() => sum(mul(f(...xs), w)), xs);
    for (let k = 0; k < inputs.length; k++) {
      const g = await grads[k].data();
      const xv = inputs[k].values, x = xs[k];
      const step = Math.max(1, Math.floor(xv.length / probes));
      for (let i = 0; i < xv.length; i += step) {
        const orig = xv[i];
        x.write([orig + eps], i); const up = await scalarOf();
        x.write([orig - eps], i); const down = await scalarOf();
        x.write([orig], i);
        const num = (up - down) / (2 * eps);
        check(Math.abs(num - g[i]) <= atol + rtol * Math.abs(num), `gradient of input ${k} at ${i}: autograd ${g[i]} vs numeric ${num}`);
      }
    }
  });
}
const spec = (shape: number[], seed: number, lo = -1, hi = 1) => ({ shape, values: uniform(shape, seed, lo, hi) });

function modelChecks(name: string, B: () => Backend, opts: ConformanceOptions): Record<string, () => Promise<void>> {
  const steps = opts.small ? 40 : 1000;
  const probes = opts.small ? 16 : 40;
  return {
    'finite differences: conv2d (strides, dilation, fused relu), pooling, dense': async () => {
      await gradCheck((x, w, b) => conv2d(x, w, { bias: b, padding: 'same', activation: 'tanh' }),
        [spec([2, 5, 6, 3], 1), spec([3, 3, 3, 4], 2, -0.5, 0.5), spec([4], 3, -0.1, 0.1)], probes);
      await gradCheck((x, w) => conv2d(x, w, { strides: 2, dilationRate: 1, padding: 'valid' }),
        [spec([1, 7, 8, 5], 4), spec([3, 2, 5, 6], 5, -0.5, 0.5)], probes);
      await gradCheck((x, w) => conv2d(x, w, { dilationRate: 2, padding: 'same' }),
        [spec([1, 7, 7, 8], 6), spec([3, 3, 8, 4], 7, -0.5, 0.5)], probes);
      await gradCheck((x) => maxPool2d(x, { poolSize: 3, strides: 2, padding: 'same' }), [spec([2, 7, 6, 3], 8)], probes);
      await gradCheck((x) => avgPool2d(x, { poolSize: 2, strides: 1, padding: 'valid' }), [spec([1, 5, 5, 4], 9)], probes);
      await gradCheck((x, w, b) => dense(x, w, b, 'sigmoid'), [spec([5, 19], 10), spec([19, 7], 11), spec([7], 12)], probes);
      check(backend() === B(), `${name}: the checks ran on another backend`);
    },
    [`${steps.toLocaleString('en')} training steps do not grow the heap${opts.memory ? ' or the backend\'s memory' : ''}`]: async () => {
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
      const step = (i: number): Promise<void> => scoped(async () => {
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
        noGrad(() => params.forEach((p, k) => backend().adamUpdate(p, grads[k], m[k], v[k], null,
          { lr: 1e-2, beta1: 0.9, beta2: 0.999, epsilon: 1e-7, step: i + 1, weightDecay: 0, amsgrad: false })));
        const loss = (await value.data())[0];
        if (i === 0) first = loss;
        last = loss;
      });
      const figures = (): Record<string, number> => ({
        'heap high-water mark': heap().bytesReserved, 'heap bytes in use': heap().bytesInUse,
        'heap live blocks': heap().liveBlocks, 'heap memory': heap().byteLength, ...opts.memory?.(),
      });
      try {
        for (let i = 0; i < 10; i++) await step(i);
        const before = figures();
        for (let i = 10; i < steps; i++) await step(i);
        const after = figures();
        for (const k of Object.keys(before)) check(after[k] === before[k], `${k} grew from ${before[k]} to ${after[k]} over ${steps - 10} steps`);
        check(Number.isFinite(last) && last < first, `training did not reduce the loss (${first} -> ${last})`);
      } finally {
        for (const t of [...params, ...m, ...v, x, y]) t.dispose();
      }
    },
  };
}

/** Same inputs, same thread count: bit-identical outputs (conv forward/filter gradient, GEMM, reductions, softmax). */
async function determinism(B: () => Backend, small: boolean): Promise<void> {
  const { rand, on, out } = harness(B);
  const [N, H, W] = small ? [2, 19, 17] : [4, 30, 30];
  const p = convParams(N, H, W, 16, 32, 3, 3, [1, 1], [1, 1], true, 'relu');
  const x = on(rand([N, H, W, 16], 1)), w = on(rand([3, 3, 16, 32], 2)), dy = on(rand([N, H, W, 32], 3));
  const a = on(rand([300, 200], 4)), b = on(rand([200, 150], 5));
  const runs: TypedArray[][] = [];
  for (let r = 0; r < 3; r++) {
    const o = out([N, H, W, 32]), dx = out([N, H, W, 16]), dw = out([3, 3, 16, 32]), s = out([32]), c = out([300, 150]), sm = out([300, 200]);
    B().conv2d(x, w, null, o, p); B().conv2dGradInput(dy, w, dx, p); B().conv2dGradFilter(x, dy, dw, p);
    B().reduce('sum', dy, s, 1, N * H * W, 32);
    B().matmul(a, b, c, { m: 300, n: 150, k: 200, transA: false, transB: false, accumulate: false });
    B().softmax(a, sm, 300, 200);
    runs.push(await Promise.all([o, dx, dw, s, c, sm].map((t) => t.data())));
  }
  // Bit for bit (float32 words compared as int32).
  for (const r of runs.slice(1)) for (let i = 0; i < runs[0].length; i++) {
    const u = new Int32Array(r[i].buffer, r[i].byteOffset, r[i].length), v = new Int32Array(runs[0][i].buffer, runs[0][i].byteOffset, runs[0][i].length);
    for (let j = 0; j < v.length; j++) {
      if (u[j] !== v[j]) fail(`threads=${B().threads}: output ${i} differs run to run (element ${j}: ${r[i][j]} vs ${runs[0][i][j]})`);
    }
  }
}

/**
 * The suite for one backend, as a list of checks in order. `make` creates the backend (called once,
 * lazily), or is a string: the reason it cannot run here, and every check skips with it. Kernel
 * checks run once per thread count and leave the backend in use alone; the others select it (at the
 * last thread count) and restore the previous backend after each check.
 */
export function conformanceChecks(name: string, make: (() => Backend) | string, fixtures: ConformanceFixtures, opts: ConformanceOptions = {}): Check[] {
  const threads = opts.threads ?? [1];
  const skip = typeof make === 'string' ? make : false;
  let instance: Backend | undefined;
  const B = (): Backend => (instance ??= (make as () => Backend)());
  const checks: Check[] = [];
  const isReference = name === 'reference';
  for (const th of threads) {
    const label = opts.threads ? ` (${th} thread${th > 1 ? 's' : ''})` : '';
    for (const [what, fn] of Object.entries(kernelChecks(B, opts))) {
      checks.push({
        name: what + label,
        skip: skip || (isReference ? 'the reference backend is the oracle these checks compare with' : typeof fn === 'string' ? fn : false),
        run: async () => { B().setThreads(th); await scoped(fn as () => Promise<void>); },
      });
    }
    checks.push({ name: `determinism: the same numbers twice${label}`, skip, run: async () => { B().setThreads(th); await scoped(() => determinism(B, !!opts.small)); } });
  }
  if (opts.kernelsOnly) return checks;
  const withBackend = (fn: () => Promise<void>) => async () => {
    const previous = backend();
    setBackend(B());
    try {
      B().setThreads(threads[threads.length - 1]);
      await fn();
    } finally {
      setBackend(previous);
    }
  };
  for (const [what, fn] of Object.entries(pytorchFixtures(name, fixtures.pytorch))) {
    checks.push({ name: what, skip: skip || (what.includes('notebook model') && opts.skipModelStep) || false, run: withBackend(fn) });
  }
  for (const [what, fn] of Object.entries(modelChecks(name, B, opts))) checks.push({ name: what, skip, run: withBackend(fn) });
  return checks;
}
