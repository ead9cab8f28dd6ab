/**
 * scipy.ndimage.correlate for the heap backends (reference, wasm, native): a TypeScript loop over
 * any rank and dtype, and a WebAssembly SIMD kernel (build/ndimage.wasm, src/kernels/ndimage.ts)
 * for 2-D float images. Reached through `Backend.correlate` from src/ops/ndimage.ts, which checks
 * the arguments and computes the output's shape and dtype.
 */
import { isNode, withUnsharedMemory } from '../runtime.js';
import type { Tensor } from '../tensor/tensor.js';
import { type DType, type TypedArray, typedView } from '../tensor/dtype.js';
import { heap } from '../tensor/heap.js';
import type { NdModeCode } from './backend.js';
import { Ndimage } from '../kernels/params.js';

type ModeCode = NdModeCode;
const DBL_EPSILON = 2.220446049250313e-16;

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

export function correlateInto(input: Tensor, w: Float64Array, wshape: number[], origins: number[], mode: ModeCode, cval: number, out: Tensor): void {
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
  const src = typedView(heap().memory.buffer, input.dtype, input.offset, input.size);
  const dst = typedView(heap().memory.buffer, out.dtype, out.offset, out.size);
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
  // Scratch layout: the parameter block (Ndimage.BYTES), tap offsets, weights, row map, column map, band rows.
  const tapOffAt = Ndimage.BYTES;
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
    const p = new Int32Array(buf, ptr, Ndimage.BYTES >> 2);
    p[Ndimage.IN] = input.offset; p[Ndimage.OUT] = out.offset; p[Ndimage.ROWS] = rows; p[Ndimage.WIDTH] = width;
    p[Ndimage.TAPS] = n; p[Ndimage.TAP_OFF] = ptr + tapOffAt; p[Ndimage.WEIGHTS] = ptr + weightsAt;
    p[Ndimage.ROW_MAP] = ptr + rowMapAt; p[Ndimage.COL_MAP] = ptr + colMapAt; p[Ndimage.SCRATCH] = ptr + scratchAt;
    p[Ndimage.BAND] = band; p[Ndimage.KH] = kh; p[Ndimage.CX] = cx; p[Ndimage.KW] = kw;
    new Float64Array(buf, ptr + Ndimage.CVAL_BYTE, 1)[0] = cval;
    const fn = dt === 'float32' ? k.correlate2d_f32 : k.correlate2d_f64;
    for (let part = 0; part < parts; part++) fn(ptr, part, parts);
    wasmCalls++;
  } finally {
    hp.release(ptr);
  }
  return true;
}

function align16(n: number): number { return Math.ceil(n / 16) * 16; }
