/**
 * `correlate` and `convolve` with the semantics of `scipy.ndimage.correlate` / `convolve`:
 * the same boundary modes (and SciPy's aliases), `cval`, `origin`, the same placement of
 * even-sized kernels, any rank, and the same output dtype and casting.
 *
 * How SciPy computes (ni_filters.c, NI_Correlate), and so how this file computes:
 * - weights are converted to float64; weights with |w| <= DBL_EPSILON are left out of the sum;
 * - every output element is `tmp = 0.0; tmp += w[k] * (double)in[...]` over the remaining weights
 *   in row-major kernel order, points outside the input reading `cval` (constant modes) or a
 *   mapped input point;
 * - the double is stored in the output dtype (the input's unless `output` says otherwise) with a C
 *   cast: float32 rounds to nearest, integers truncate toward zero; on x86-64 a value outside the
 *   int32 range (or NaN) becomes -2147483648, and uint8 keeps the low byte of that int32.
 *
 * 1-D and 2-D float32/float64 inputs run in a WebAssembly SIMD kernel (`build/ndimage.wasm`,
 * compiled from src/kernels/ndimage.ts) that accumulates in float64 in the same order, so its
 * results are bit-identical to the TypeScript loop and to SciPy.
 */
import { isNode, withUnsharedMemory } from '../runtime.js';
import { Tensor, tensor, empty, fmtShape } from '../tensor/index.js';
import type { DType, Nested, TypedArray } from '../tensor/index.js';
import { heap } from '../tensor/heap.js';
import { isDType } from '../tensor/dtype.js';

/** Boundary modes of `scipy.ndimage` filters. */
export type NdMode = 'reflect' | 'constant' | 'nearest' | 'mirror' | 'wrap' | 'grid-mirror' | 'grid-constant' | 'grid-wrap';

export interface CorrelateOptions {
  /** How the input is extended beyond its edges (default 'reflect', as in SciPy). */
  mode?: NdMode;
  /** Value outside the edges for 'constant' / 'grid-constant' (default 0). */
  cval?: number;
  /** Shifts the kernel's placement, per axis or one number for all (default 0). */
  origin?: number | readonly number[];
  /** Output dtype (default: the input's, as SciPy's `output=None`). */
  output?: DType;
}

/** What `correlate` accepts as an array: a Tensor, nested arrays (ints give int32, like NumPy's ints) or a typed array (1-D). */
export type NdArrayLike = Tensor | Nested | TypedArray | readonly number[];

const DBL_EPSILON = 2.220446049250313e-16;

type ModeCode = 'reflect' | 'constant' | 'nearest' | 'mirror' | 'wrap';
const MODES: Record<NdMode, ModeCode> = {
  reflect: 'reflect', 'grid-mirror': 'reflect', constant: 'constant', 'grid-constant': 'constant',
  nearest: 'nearest', mirror: 'mirror', wrap: 'wrap', 'grid-wrap': 'wrap',
};

/**
 * Multidimensional correlation, as `scipy.ndimage.correlate(input, weights, mode=..., cval=..., origin=...)`.
 * `correlate([[4,1,7],[8,3,1],[6,5,7]], [[1,0,-1],[1,0,-1],[1,0,-1]], { mode: 'constant' })` gives an int32 tensor.
 */
export function correlate(input: NdArrayLike, weights: NdArrayLike, opts: CorrelateOptions = {}): Tensor {
  return correlateOrConvolve('correlate', input, weights, opts, false);
}

/** Multidimensional convolution, as `scipy.ndimage.convolve`: the kernel is flipped on every axis and even sizes shift as SciPy shifts them. */
export function convolve(input: NdArrayLike, weights: NdArrayLike, opts: CorrelateOptions = {}): Tensor {
  return correlateOrConvolve('convolve', input, weights, opts, true);
}

function correlateOrConvolve(op: string, inputLike: NdArrayLike, weightsLike: NdArrayLike, opts: CorrelateOptions, convolution: boolean): Tensor {
  const mode = opts.mode ?? 'reflect';
  const code = MODES[mode as NdMode];
  if (code === undefined) {
    throw new RangeError(`convnet: ${op}: unknown mode ${JSON.stringify(mode)}; use one of ${Object.keys(MODES).join(', ')}`);
  }
  // Refuse a bad output dtype before anything is allocated (issue 11 §4).
  if (opts.output !== undefined && !isDType(opts.output)) {
    throw new TypeError(`convnet: ${op}: unknown output dtype ${JSON.stringify(opts.output)} (use float32, int32, uint8 or float64)`);
  }
  const cval = opts.cval ?? 0;
  if (typeof cval !== 'number') throw new TypeError(`convnet: ${op}: cval must be a number, got ${JSON.stringify(cval)}`);
  const owned: Tensor[] = [];
  try {
    const input = asTensor(inputLike, op, 'input', owned);
    const { data: w0, shape: wshape } = asWeights(weightsLike, op);
    const rank = input.rank;
    if (rank === 0) throw new RangeError(`convnet: ${op}: the input must have at least one dimension, got a scalar`);
    if (wshape.length !== rank || wshape.some((d) => d === 0)) {
      throw new RangeError(`convnet: ${op}: weights of shape ${fmtShape(wshape)} do not match the input's ${rank} dimension(s) ${fmtShape(input.shape)}; give the kernel one axis per input axis`);
    }
    const origins = normalizeOrigin(opts.origin ?? 0, rank, op);
    let w = w0;
    if (convolution) {
      w = w0.slice().reverse(); // reversing the flat row-major array flips every axis
      for (let d = 0; d < rank; d++) {
        origins[d] = -origins[d];
        if ((wshape[d] & 1) === 0) origins[d] -= 1;
      }
    }
    for (let d = 0; d < rank; d++) {
      const k = wshape[d];
      if (origins[d] < -Math.floor(k / 2) || origins[d] > Math.floor((k - 1) / 2)) {
        throw new RangeError(`convnet: ${op}: invalid origin ${opts.origin ?? 0} for a kernel of size ${k} on axis ${d}: ` +
          `it must satisfy -(size // 2) <= origin <= (size - 1) // 2`);
      }
    }
    const outDtype = opts.output ?? input.dtype;
    const out = empty(input.shape, outDtype);
    if (input.size > 0) correlateInto(input, w, wshape, origins, code, cval, out);
    return out;
  } finally {
    for (const t of owned) t.dispose();
  }
}

function asTensor(x: NdArrayLike, op: string, what: string, owned: Tensor[]): Tensor {
  if (x instanceof Tensor) { x.assertLive(op); return x; }
  if (ArrayBuffer.isView(x)) { const t = tensor(x as TypedArray); owned.push(t); return t; }
  if (typeof x === 'number' || Array.isArray(x)) {
    // NumPy: integers make an integer array, anything else float64.
    let allInt = true;
    const scan = (v: unknown): void => {
      if (Array.isArray(v)) { for (const e of v) { scan(e); if (!allInt) return; } return; }
      if (typeof v !== 'number' || !Number.isInteger(v) || v < -2147483648 || v > 2147483647) allInt = false;
    };
    scan(x);
    const t = tensor(x as Nested, undefined, allInt ? 'int32' : 'float64');
    owned.push(t);
    return t;
  }
  throw new TypeError(`convnet: ${op}: ${what} must be a Tensor, nested arrays of numbers or a typed array`);
}

function asWeights(x: NdArrayLike, op: string): { data: Float64Array; shape: number[] } {
  if (x instanceof Tensor) {
    x.assertLive(op);
    return { data: Float64Array.from(x.view() as ArrayLike<number>), shape: x.shape.slice() };
  }
  if (ArrayBuffer.isView(x)) return { data: Float64Array.from(x as ArrayLike<number>), shape: [(x as TypedArray).length] };
  if (typeof x === 'number' || Array.isArray(x)) {
    const t = tensor(x as Nested, undefined, 'float64');
    try { return { data: Float64Array.from(t.view() as Float64Array), shape: t.shape.slice() }; } finally { t.dispose(); }
  }
  throw new TypeError(`convnet: ${op}: weights must be a Tensor, nested arrays of numbers or a typed array`);
}

function normalizeOrigin(origin: number | readonly number[], rank: number, op: string): number[] {
  const list = typeof origin === 'number' ? new Array(rank).fill(origin) : origin.slice();
  if (list.length !== rank || list.some((o) => !Number.isInteger(o))) {
    throw new RangeError(`convnet: ${op}: origin must be an integer or ${rank} integers (one per axis), got ${JSON.stringify(origin)}`);
  }
  return list;
}

/** Index that input position `i` (possibly outside [0, len)) reads in a given mode, or -1 for cval. */
function mapIndex(i: number, len: number, mode: ModeCode): number {
  if (i >= 0 && i < len) return i;
  switch (mode) {
    case 'constant': return -1;
    case 'nearest': return i < 0 ? 0 : len - 1;
    case 'wrap': { const m = i % len; return m < 0 ? m + len : m; }
    case 'reflect': {
      if (len <= 1) return 0;
      const p = 2 * len;
      let m = i % p; if (m < 0) m += p;
      return m < len ? m : p - 1 - m;
    }
    case 'mirror': {
      if (len <= 1) return 0;
      const p = 2 * len - 2;
      let m = i % p; if (m < 0) m += p;
      return m < len ? m : p - m;
    }
  }
}

/** The C cast SciPy applies when storing the double sum (x86-64 behaviour for out-of-range values). */
function toInt32(x: number): number {
  return x >= -2147483648 && x < 2147483648 ? Math.trunc(x) | 0 : -2147483648;
}

function correlateInto(input: Tensor, w: Float64Array, wshape: number[], origins: number[], mode: ModeCode, cval: number, out: Tensor): void {
  const rank = input.rank;
  const shape = input.shape;
  // The footprint: weights SciPy keeps, in row-major kernel order.
  const tapIdx: number[] = [];
  for (let k = 0; k < w.length; k++) if (Math.abs(w[k]) > DBL_EPSILON) tapIdx.push(k);
  const n = tapIdx.length;
  const weights = Float64Array.from(tapIdx, (k) => w[k]);
  // Per tap, its kernel coordinate on every axis.
  const kc: Int32Array[] = [];
  for (let d = 0; d < rank; d++) kc.push(new Int32Array(n));
  for (let t = 0; t < n; t++) {
    let k = tapIdx[t];
    for (let d = rank - 1; d >= 0; d--) { kc[d][t] = k % wshape[d]; k = Math.floor(k / wshape[d]); }
  }
  // Per axis, for output coordinate i and kernel coordinate k: the element offset it reads, or -1.
  const strides = new Array<number>(rank);
  strides[rank - 1] = 1;
  for (let d = rank - 2; d >= 0; d--) strides[d] = strides[d + 1] * shape[d + 1];
  const tables: Int32Array[] = [];
  for (let d = 0; d < rank; d++) {
    const len = shape[d], K = wshape[d], c = Math.floor(K / 2) + origins[d];
    const tab = new Int32Array(len * K);
    for (let i = 0; i < len; i++) {
      for (let k = 0; k < K; k++) {
        const m = mapIndex(i + k - c, len, mode);
        tab[i * K + k] = m < 0 ? -1 : m * strides[d];
      }
    }
    tables.push(tab);
  }
  if ((rank === 1 || rank === 2) && n > 0) {
    const rows = rank === 2 ? shape[0] : 1;
    const kh = rank === 2 ? wshape[0] : 1;
    const cy = rank === 2 ? Math.floor(wshape[0] / 2) + origins[0] : 0;
    const ax = rank - 1;
    const cx = Math.floor(wshape[ax] / 2) + origins[ax];
    if (correlate2dWasm(input, out, weights, rank === 2 ? kc[0] : new Int32Array(n), kc[ax], rows, shape[ax], kh, wshape[ax], cy, cx, mode, cval)) return;
  }
  const last = rank - 1;
  const W = shape[last];
  const ranges: [number, number][] = [[0, W]];
  const src = input.view();
  const dst = out.view();
  const store = storer(out.dtype, dst);
  const Klast = wshape[last], tabLast = tables[last], kcLast = kc[last];
  const base = new Int32Array(n);
  const outer = shape.slice(0, last);
  const coord = new Array<number>(last).fill(0);
  const outerCount = outer.reduce((a, b) => a * b, 1);
  for (let o = 0; o < outerCount; o++) {
    // Offset of every tap along the outer axes (or -1 when it falls outside in constant mode).
    for (let t = 0; t < n; t++) {
      let off = 0;
      for (let d = 0; d < last; d++) {
        const v = tables[d][coord[d] * wshape[d] + kc[d][t]];
        if (v < 0) { off = -1; break; }
        off += v;
      }
      base[t] = off;
    }
    const rowStart = o * W;
    for (const [a, b] of ranges) {
      for (let x = a; x < b; x++) {
        let tmp = 0.0;
        const tx = x * Klast;
        for (let t = 0; t < n; t++) {
          const bo = base[t];
          const xo = tabLast[tx + kcLast[t]];
          tmp += bo < 0 || xo < 0 ? weights[t] * cval : weights[t] * src[bo + xo];
        }
        store(rowStart + x, tmp);
      }
    }
    for (let d = last - 1; d >= 0; d--) {
      if (++coord[d] < outer[d]) break;
      coord[d] = 0;
    }
  }
}

function storer(dtype: DType, dst: TypedArray): (i: number, v: number) => void {
  switch (dtype) {
    case 'float32':
    case 'float64': return (i, v) => { dst[i] = v; };
    case 'int32': return (i, v) => { dst[i] = toInt32(v); };
    case 'uint8': return (i, v) => { dst[i] = toInt32(v) & 255; };
  }
}

// ---- the WebAssembly SIMD kernel for 2-D float images ---------------------------------------

interface NdimageKernels {
  correlate2d_f32(params: number, part: number, parts: number): void;
  correlate2d_f64(params: number, part: number, parts: number): void;
}
let kernels: NdimageKernels | null | undefined;
let wasmDisabled = false;
let wasmCalls = 0;
let wasmParts = 1;

/** Whether build/ndimage.wasm is loaded (false when it was not built or cannot load here). */
export function ndimageWasmAvailable(): boolean { return loadKernels() !== null; }

/** How many correlations the WebAssembly kernel computed so far (tests check the fast path ran). */
export function ndimageWasmCalls(): number { return wasmCalls; }

/**
 * Splits each WebAssembly correlation into `n` row bands run one after the other (default 1): the
 * calling convention a thread pool uses; tests check the split changes nothing.
 */
export function setNdimageParts(n: number): void { wasmParts = Math.max(1, Math.floor(n)); }

/** Turns the WebAssembly kernel off (true) or back on, e.g. to compare both paths. */
export function setNdimageWasm(enabled: boolean): void { wasmDisabled = !enabled; }

// Node reads the module synchronously on first use; browsers fetch it in initNdimageWasm().
const nodeFs = isNode ? await import('node:fs') : undefined;
const NDIMAGE_WASM = new URL('../../build/ndimage.wasm', import.meta.url);

function instantiate(mod: WebAssembly.Module): NdimageKernels {
  const inst = new WebAssembly.Instance(mod, { env: { memory: heap().memory, abort: () => { throw new Error('convnet: ndimage kernel aborted'); } } });
  return inst.exports as unknown as NdimageKernels;
}

function loadKernels(): NdimageKernels | null {
  if (kernels !== undefined) return kernels;
  kernels = null;
  if (!nodeFs) return null;
  try {
    kernels = instantiate(new WebAssembly.Module(nodeFs.readFileSync(NDIMAGE_WASM)));
  } catch {
    kernels = null; // not built, or memory not shareable here: the TypeScript loop computes everything
  }
  return kernels;
}

/**
 * Browsers: fetches and compiles build/ndimage.wasm so correlate/convolve and the filters run in
 * WebAssembly (without it they compute the same numbers in TypeScript). Resolves to whether it loaded.
 */
export async function initNdimageWasm(url: string | URL = NDIMAGE_WASM): Promise<boolean> {
  if (kernels) return true;
  if (nodeFs) return loadKernels() !== null;
  try {
    const res = await fetch(url);
    if (!res.ok) return false;
    const bytes = new Uint8Array(await res.arrayBuffer());
    kernels = instantiate(await WebAssembly.compile(heap().shared ? bytes : withUnsharedMemory(bytes)));
  } catch {
    kernels = null;
  }
  return kernels !== null;
}

/** Output rows per band: the band's float64 scratch rows should stay in the L2 cache. */
function bandRows(paddedWidth: number, kh: number): number {
  return Math.max(1, Math.min(64, Math.floor((512 << 10) / (paddedWidth * 8)) - (kh - 1)));
}

/**
 * Computes the whole 2-D correlation (a 1-D input is one row) in WebAssembly. Returns false (and
 * computes nothing) when the kernel is unavailable or does not apply to these dtypes.
 */
function correlate2dWasm(input: Tensor, out: Tensor, weights: Float64Array, ky: Int32Array, kx: Int32Array,
  rows: number, width: number, kh: number, kw: number, cy: number, cx: number, mode: ModeCode, cval: number): boolean {
  if (wasmDisabled) return false;
  const dt = input.dtype;
  if ((dt !== 'float32' && dt !== 'float64') || out.dtype !== dt) return false;
  const k = loadKernels();
  if (!k) return false;
  const n = weights.length;
  const padded = width + kw - 1;
  const band = bandRows(padded, kh);
  const vrows = rows + kh - 1;
  // Scratch layout: params (64 B) + cval (8 B), tap offsets, weights, row map, column map, band rows.
  const tapOffAt = 128;
  const weightsAt = align16(tapOffAt + n * 4);
  const rowMapAt = align16(weightsAt + n * 8);
  const colMapAt = align16(rowMapAt + vrows * 4);
  const scratchAt = align16(colMapAt + padded * 4);
  const parts = Math.min(wasmParts, rows);
  const bytes = scratchAt + parts * (band + kh - 1) * padded * 8;
  const hp = heap();
  const ptr = hp.alloc(bytes);
  try {
    const buf = hp.memory.buffer;
    const stride = padded * 8;
    const tapOff = new Int32Array(buf, ptr + tapOffAt, n);
    for (let t = 0; t < n; t++) tapOff[t] = ky[t] * stride + kx[t] * 8;
    new Float64Array(buf, ptr + weightsAt, n).set(weights);
    const rowMap = new Int32Array(buf, ptr + rowMapAt, vrows);
    for (let v = 0; v < vrows; v++) rowMap[v] = mapIndex(v - cy, rows, mode);
    const colMap = new Int32Array(buf, ptr + colMapAt, padded);
    for (let q = 0; q < padded; q++) colMap[q] = mapIndex(q - cx, width, mode);
    const p = new Int32Array(buf, ptr, 16);
    p.set([input.offset, out.offset, rows, width, n, ptr + tapOffAt, ptr + weightsAt, ptr + rowMapAt,
      ptr + colMapAt, ptr + scratchAt, band, kh, cx, kw]);
    new Float64Array(buf, ptr + 64, 1)[0] = cval;
    const fn = dt === 'float32' ? k.correlate2d_f32 : k.correlate2d_f64;
    for (let part = 0; part < parts; part++) fn(ptr, part, parts);
    wasmCalls++;
  } finally {
    hp.release(ptr);
  }
  return true;
}

function align16(n: number): number { return Math.ceil(n / 16) * 16; }
