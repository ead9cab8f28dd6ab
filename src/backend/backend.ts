/**
 * The Backend interface: the one seam between what users call (ops, layers) and what computes.
 *
 * A backend implements a small set of primitive kernels on tensors that already live in the
 * shared heap. The front end (src/ops) validates shapes, computes output sizes and allocates the
 * outputs; a backend only computes. Every parameterised kernel takes one parameter object with
 * plain integers. All float kernels are float32 unless stated.
 *
 * Implementations: `reference` (plain TypeScript, the test oracle and fallback) and `wasm`
 * (AssemblyScript SIMD kernels on a worker pool). A native or WebGPU backend plugs in here.
 */
import type { Tensor } from '../tensor/tensor.js';
import type { TypedArray } from '../tensor/dtype.js';
import type { Rng } from '../tensor/random.js';
import type { UnaryOp, Activation } from './activations.js';

/** Elementwise functions of one input and the activations (a subset, with a gradient rule in `unaryGrad`): the rows of the one table in activations.ts. */
export type { UnaryOp, Activation };

export type BinaryOp = 'add' | 'sub' | 'mul' | 'div' | 'max' | 'min' | 'pow' | 'greater' | 'less' | 'equal';
export type ReduceOp = 'sum' | 'max' | 'min' | 'mean' | 'prod';

/** Broadcast description computed by the front end: `out` has shape `outShape`, inputs are read through strides (0 on broadcast axes). */
export interface BroadcastParams {
  outShape: number[];
  aStrides: number[];
  bStrides: number[];
}

/** out[m, n] (+)= sum_k opA(a)[m, k] * opB(b)[k, n]; a is [m,k] (or [k,m] when transA), b is [k,n] (or [n,k] when transB). */
export interface MatMulParams {
  m: number; n: number; k: number;
  transA: boolean; transB: boolean;
  /** Add to `out` instead of overwriting it. */
  accumulate: boolean;
}

/**
 * conv2d in NHWC with Keras's kernel layout HWIO ([kH, kW, inC, outC]).
 * Output position (oy, ox) reads input rows oy*strideH - padTop + ky*dilationH.
 */
export interface Conv2DParams {
  batch: number;
  inH: number; inW: number; inC: number;
  outH: number; outW: number; outC: number;
  kH: number; kW: number;
  strideH: number; strideW: number;
  dilationH: number; dilationW: number;
  padTop: number; padLeft: number;
  /** Fused epilogue applied after bias (forward only). */
  activation: Activation;
  alpha: number;
}

/**
 * Depthwise conv2d in NHWC: each input channel c is convolved with its own `depthMultiplier`
 * filters, kernel [kH, kW, inC, depthMultiplier], output channel c * depthMultiplier + m
 * (TensorFlow's layout); outC = inC * depthMultiplier. Positions and padding as in Conv2DParams.
 */
export interface DepthwiseConv2DParams extends Conv2DParams {
  depthMultiplier: number;
}

/** 2-D pooling in NHWC. `count_include_pad` is false, as in Keras's average pooling with 'same'. */
export interface Pool2DParams {
  batch: number;
  inH: number; inW: number; channels: number;
  outH: number; outW: number;
  poolH: number; poolW: number;
  strideH: number; strideW: number;
  padTop: number; padLeft: number;
}

export interface AdamParams {
  lr: number; beta1: number; beta2: number; epsilon: number;
  /** 1-based step count after this update. */
  step: number;
  /** AdamW's decoupled weight decay (0 for Adam). */
  weightDecay: number;
  amsgrad: boolean;
}

export interface SGDParams { lr: number; momentum: number; nesterov: boolean; weightDecay: number }

export interface RMSpropParams { lr: number; rho: number; momentum: number; epsilon: number; centered: boolean }

/**
 * NaN rules every backend follows (NumPy's; tested in test/reliability/nan.test.ts on each backend):
 * - Arithmetic, matmul, conv, sums, means and softmax propagate NaN by IEEE rules (never skip a
 *   zero operand: NaN * 0 is NaN).
 * - max/min (binary, with a scalar, reductions) and max pooling return NaN when any operand in
 *   the window or pair is NaN (so clip(NaN) is NaN).
 * - relu(NaN) = NaN (compute relu as `x < 0 ? 0 : x`, i.e. f32x4.pmax(x, 0), never `x > 0 ? x : 0`);
 *   relu6, leaky_relu, elu, selu, hard_sigmoid, sigmoid, tanh, gelu, swish, softplus, sign of NaN
 *   are NaN, fused epilogues (biasAct, conv activation) included.
 * - unaryGrad: the derivative at a NaN input is NaN for every activation except linear (dx = NaN).
 * - maxPool2dGrad: dy goes to the element forward returned: the first NaN of the window in
 *   row-major window order if there is one, else the first maximum.
 * - cast of NaN to int32/uint8 gives 0.
 */
/** A backend's handle to one block of tensor data. Only the backend that made it looks inside. */
export type DataId = unknown;

/**
 * Tensor storage (issue 14 step 1, TF.js's dataId pattern). A Tensor holds a handle made by its
 * backend's `alloc` plus a byte offset into it (reshape and sliceBatch share the block, no copy);
 * every host read or write of tensor data goes through these methods. Code outside src/backend
 * and src/kernels never touches tensor memory directly.
 *
 * Storage methods are called on the backend that owns the tensor (`t.store`); the data-movement
 * ops below are called on the backend in use, like the kernels. Backends that share a `storage`
 * name (the WebAssembly heap, 'heap': reference, wasm and native) read each other's tensors.
 */
export interface BackendStorage {
  /** Where tensor data lives; tensors move freely between backends of the same storage. */
  readonly storage: string;
  /** A fresh block of at least `bytes` bytes (contents undefined). */
  alloc(bytes: number): DataId;
  /** Frees a block from `alloc` (when the last tensor sharing it is released). */
  release(id: DataId): void;
  /** Writes `values` into t's elements [at, at + values.length), converting like a typed-array set. */
  write(t: Tensor, values: ArrayLike<number>, at?: number): void;
  /** A copy of t's elements. Throws where the backend cannot read synchronously (webgpu): use `read`. */
  readSync(t: Tensor): TypedArray;
  /** A copy of t's elements once the backend's pending work is done. */
  read(t: Tensor): Promise<TypedArray>;
  /** Sets every element of t to `value`. */
  fill(t: Tensor, value: number): void;
  /** dst = src (same size; a dtype change converts as `cast` does). */
  copy(src: Tensor, dst: Tensor): void;

  // ---- data movement (on the backend in use) ------------------------------------------------
  /** out row i = x row indices[i], rows of `rowSize` elements (indices already checked). */
  gatherRows(x: Tensor, indices: ArrayLike<number>, out: Tensor, rowSize: number): void;
  /** Each xs[i] viewed as [outer, w_i] (w_i = size / outer) placed side by side in out [outer, sum w_i]. */
  concat(xs: Tensor[], out: Tensor, outer: number): void;
  /** out [outer, w] = columns [start, start + w) of x viewed as [outer, x.size / outer]. */
  sliceColumns(x: Tensor, out: Tensor, outer: number, start: number): void;
  /** out[i] = rng.random() >= rate ? scale : 0, drawn in element order (dropout's mask). */
  randomMask(out: Tensor, rate: number, scale: number, rng: Rng): void;

  // Images [N, H, W, C] float32 (spatial layers, resizing, augmentation).
  /** out [N, outH, outW, C] = x placed at (top, left), zeros elsewhere (negative offsets crop). */
  shift2d(x: Tensor, out: Tensor, top: number, left: number): void;
  /** Nearest-neighbour up-sampling by (sh, sw): out [N, H*sh, W*sw, C]. */
  upsample2d(x: Tensor, out: Tensor, sh: number, sw: number): void;
  /** dx [N, H, W, C] (overwritten) = the sum of dy over each pixel's sh x sw block. */
  upsample2dGrad(dy: Tensor, dx: Tensor, sh: number, sw: number): void;
  /** out [N, ty.lo.length, tx.lo.length, C]: bilinear blend of rows lo/hi by w along each axis (nearest: lo = hi). */
  resize2d(x: Tensor, out: Tensor, ty: ResizeAxis, tx: ResizeAxis): void;
  /** dx (overwritten) from dy for resize2d with the same tables. */
  resize2dGrad(dy: Tensor, dx: Tensor, ty: ResizeAxis, tx: ResizeAxis): void;
  /** Per image: flags[n] 1 flips top-bottom, 2 left-right, 3 both, 0 copies. */
  flip2d(x: Tensor, out: Tensor, flags: ArrayLike<number>): void;
  /**
   * Per image n, resamples with transforms[n] = [a0 a1 a2 b0 b1 b2]: output (x, y) reads input
   * (a0 x + a1 y + a2, b0 x + b1 y + b2), outside points mapped by `fillMode` (TensorFlow's ImageProjectiveTransform).
   */
  affine2d(x: Tensor, out: Tensor, transforms: readonly ArrayLike<number>[], fillMode: FillMode, interpolation: ImageInterpolation, fillValue: number): void;

  /**
   * scipy.ndimage.correlate of `input` (any rank and dtype) with float64 `weights` of shape `wshape`
   * into `out` (same shape; float results stored in out's dtype as SciPy's C cast does).
   */
  correlate(input: Tensor, weights: Float64Array, wshape: number[], origins: number[], mode: NdModeCode, cval: number, out: Tensor): void;
}

/** scipy.ndimage boundary modes after aliasing (grid-* names mapped by the front end). */
export type NdModeCode = 'reflect' | 'constant' | 'nearest' | 'mirror' | 'wrap';

/** One axis of a resize: for each output index the two source indices and the weight of the second. */
export interface ResizeAxis { lo: Int32Array; hi: Int32Array; w: Float32Array }
export type FillMode = 'reflect' | 'wrap' | 'constant' | 'nearest';
export type ImageInterpolation = 'bilinear' | 'nearest';

export interface Backend extends BackendStorage {
  readonly name: string;
  /** Threads the backend computes with. */
  readonly threads: number;
  setThreads(n: number): void;

  /** out = f(x) elementwise (any float32 shapes of equal size). */
  unary(op: UnaryOp, x: Tensor, out: Tensor, alpha: number): void;
  /** dx = dy * f'(x), given x and y = f(x). */
  unaryGrad(op: Activation, x: Tensor, y: Tensor, dy: Tensor, dx: Tensor, alpha: number): void;
  /** out = a op b with broadcasting as described. */
  binary(op: BinaryOp, a: Tensor, b: Tensor, out: Tensor, p: BroadcastParams): void;
  /** out = x op s (scalar on the right; `reverse` puts it on the left). */
  binaryScalar(op: BinaryOp, x: Tensor, s: number, out: Tensor, reverse: boolean): void;
  /** x viewed as [outer, n, inner] reduced over n into out [outer, inner]. */
  reduce(op: ReduceOp, x: Tensor, out: Tensor, outer: number, n: number, inner: number): void;
  /** Row-wise softmax of x viewed as [rows, cols]. */
  softmax(x: Tensor, out: Tensor, rows: number, cols: number): void;
  /** out = x with axes permuted (general transpose). */
  transpose(x: Tensor, out: Tensor, perm: number[]): void;
  /** Copies x into out, converting dtype (float <-> int rounds toward zero like a C cast, uint8 saturates). */
  cast(x: Tensor, out: Tensor): void;

  matmul(a: Tensor, b: Tensor, out: Tensor, p: MatMulParams): void;
  /** out = act(x + bias) with bias [c] broadcast over the last axis of x viewed as [rows, c]. `bias` may be null. */
  biasAct(x: Tensor, bias: Tensor | null, out: Tensor, rows: number, c: number, act: Activation, alpha: number): void;

  conv2d(x: Tensor, w: Tensor, bias: Tensor | null, out: Tensor, p: Conv2DParams): void;
  /** dx from dy [N,outH,outW,outC] and w [kH,kW,inC,outC] (p.activation ignored). */
  conv2dGradInput(dy: Tensor, w: Tensor, dx: Tensor, p: Conv2DParams): void;
  /** dw [kH,kW,inC,outC] from x and dy (overwrites dw). */
  conv2dGradFilter(x: Tensor, dy: Tensor, dw: Tensor, p: Conv2DParams): void;

  /** Depthwise conv2d: out [N,outH,outW,inC*mult] = act(depthwise(x, w) + bias); w [kH,kW,inC,mult]. */
  depthwiseConv2d(x: Tensor, w: Tensor, bias: Tensor | null, out: Tensor, p: DepthwiseConv2DParams): void;
  /** dx (overwritten) from dy and w (p.activation ignored). */
  depthwiseConv2dGradInput(dy: Tensor, w: Tensor, dx: Tensor, p: DepthwiseConv2DParams): void;
  /** dw [kH,kW,inC,mult] (overwritten) from x and dy. */
  depthwiseConv2dGradFilter(x: Tensor, dy: Tensor, dw: Tensor, p: DepthwiseConv2DParams): void;

  maxPool2d(x: Tensor, out: Tensor, p: Pool2DParams): void;
  /** dx (overwritten) gets each dy at the first maximal input of its window (TensorFlow's rule). */
  maxPool2dGrad(x: Tensor, dy: Tensor, dx: Tensor, p: Pool2DParams): void;
  /**
   * Optional fusion: maxPool2dGrad, then the ReLU derivative at x (x is a ReLU's output, e.g. a conv
   * with a fused relu): dx[i] = x[i] > 0 ? g[i] : x[i] is NaN ? NaN : 0 * g[i], g the max-pool
   * gradient; exactly maxPool2dGrad followed by unaryGrad('relu', x, x, g). One pass instead of three
   * where a backend has it (ops/conv.ts uses it when the pool's input is such an output).
   */
  maxPool2dGradRelu?(x: Tensor, dy: Tensor, dx: Tensor, p: Pool2DParams): void;
  avgPool2d(x: Tensor, out: Tensor, p: Pool2DParams): void;
  avgPool2dGrad(dy: Tensor, dx: Tensor, p: Pool2DParams): void;

  /** In-place optimizer updates over whole parameter tensors. */
  adamUpdate(param: Tensor, grad: Tensor, m: Tensor, v: Tensor, vhat: Tensor | null, p: AdamParams): void;
  sgdUpdate(param: Tensor, grad: Tensor, velocity: Tensor | null, p: SGDParams): void;
  rmspropUpdate(param: Tensor, grad: Tensor, ms: Tensor, mom: Tensor | null, mg: Tensor | null, p: RMSpropParams): void;
}
