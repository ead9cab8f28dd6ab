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
 *
 * Backends whose tensors live outside the WebAssembly heap (webgpu: WGSL has no float64) get the
 * same float64 computation on the host backend (wasm, else reference): the input is read, correlated
 * in the heap, and the result written to the backend in use. The input must be readable then:
 * host data always is; a tensor computed on the GPU is read with `await correlateAsync(...)`.
 */
import { Tensor, tensor, empty, fmtShape } from '../tensor/index.js';
import type { DType, Nested, TypedArray } from '../tensor/index.js';
import { backend, onHostBackend } from '../backend/index.js';
import type { NdModeCode } from '../backend/backend.js';
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


type ModeCode = NdModeCode;
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

/** `correlate` on every backend: tensors that cannot be read synchronously (webgpu) are read with await first. */
export async function correlateAsync(input: NdArrayLike, weights: NdArrayLike, opts: CorrelateOptions = {}): Promise<Tensor> {
  return correlateOrConvolve('correlate', await readable(input), await readable(weights), opts, false);
}

/** `convolve` on every backend (see correlateAsync). */
export async function convolveAsync(input: NdArrayLike, weights: NdArrayLike, opts: CorrelateOptions = {}): Promise<Tensor> {
  return correlateOrConvolve('convolve', await readable(input), await readable(weights), opts, true);
}

/** Values read from a tensor stored outside the heap, with its shape and dtype. */
interface HostArray { values: TypedArray; shape: number[]; dtype: DType }
const isHost = (x: unknown): x is HostArray => !!x && typeof x === 'object' && ArrayBuffer.isView((x as HostArray).values) && Array.isArray((x as HostArray).shape);

/** A tensor outside the heap as its values (an awaited read); anything else as it is. */
async function readable(x: NdArrayLike): Promise<NdArrayLike | HostArray> {
  if (!(x instanceof Tensor) || x.store.storage === 'heap') return x;
  x.assertLive('correlate');
  return { values: await x.data(), shape: x.shape.slice(), dtype: x.dtype };
}

/** A tensor's values read synchronously, or an error naming the awaited form where its backend cannot. */
function readNow(t: Tensor, op: string, what: string): TypedArray {
  try {
    return t.dataSync();
  } catch (e) {
    throw new Error(`convnet: ${op}: the ${what} lives on the ${t.store.storage} backend and cannot be read synchronously; use await ${op}Async(...) (${e instanceof Error ? e.message.replace(/^convnet: /, '') : e})`);
  }
}

function correlateOrConvolve(op: string, inputLike: NdArrayLike | HostArray, weightsLike: NdArrayLike | HostArray, opts: CorrelateOptions, convolution: boolean): Tensor {
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
  const b = backend();
  if (b.storage !== 'heap') {
    // The float64 computation on the host backend, the result moved to the backend in use.
    const host = isHost(inputLike) ? inputLike : inputLike instanceof Tensor && inputLike.store.storage !== 'heap'
      ? { values: readNow(inputLike, op, 'input'), shape: inputLike.shape.slice(), dtype: inputLike.dtype } : inputLike;
    const w = weightsLike instanceof Tensor && weightsLike.store.storage !== 'heap'
      ? { values: readNow(weightsLike, op, 'weights'), shape: weightsLike.shape.slice(), dtype: weightsLike.dtype } : weightsLike;
    const r = onHostBackend(() => {
      const t = correlateOrConvolve(op, host, w, opts, convolution);
      try { return { values: t.dataSync(), shape: t.shape.slice(), dtype: t.dtype }; } finally { t.dispose(); }
    });
    return tensor(r.values, r.shape, r.dtype);
  }
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
    if (input.size > 0) backend().correlate(input, w, wshape, origins, code, cval, out);
    return out;
  } finally {
    for (const t of owned) t.dispose();
  }
}

function asTensor(x: NdArrayLike | HostArray, op: string, what: string, owned: Tensor[]): Tensor {
  if (x instanceof Tensor) { x.assertLive(op); return x; }
  if (isHost(x)) { const t = tensor(x.values, x.shape, x.dtype); owned.push(t); return t; }
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

function asWeights(x: NdArrayLike | HostArray, op: string): { data: Float64Array; shape: number[] } {
  if (isHost(x)) return { data: Float64Array.from(x.values as ArrayLike<number>), shape: x.shape.slice() };
  if (x instanceof Tensor) {
    x.assertLive(op);
    return { data: Float64Array.from(x.dataSync() as ArrayLike<number>), shape: x.shape.slice() };
  }
  if (ArrayBuffer.isView(x)) return { data: Float64Array.from(x as ArrayLike<number>), shape: [(x as TypedArray).length] };
  if (typeof x === 'number' || Array.isArray(x)) {
    const t = tensor(x as Nested, undefined, 'float64');
    try { return { data: Float64Array.from(t.dataSync() as Float64Array), shape: t.shape.slice() }; } finally { t.dispose(); }
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

// The heap backends' correlation (TypeScript loop and WebAssembly SIMD kernel) lives behind the
// Backend seam, in src/backend/heap-ndimage.ts; its controls are re-exported here.
export { ndimageWasmAvailable, ndimageWasmCalls, setNdimageParts, setNdimageWasm, initNdimageWasm } from '../backend/heap-ndimage.js';
