// The parameter block of each kernel: which 32-bit slot holds what. One definition, imported by the
// AssemblyScript kernels (which read the slots with pi/pu/pf of ./common) and by the TypeScript side
// that writes them (src/backend/wasm/backend.ts, src/backend/heap-ndimage.ts). The block lives at
// PARAMS (./constants); a slot is 4 bytes: sizes and codes as i32, heap addresses as u32, reals as
// f32, except the few f64 values, which take two slots from an even slot (their byte address is
// slot * 4; the host writes them through a Float64Array at index slot / 2).
// Each block is an `export const enum` of integer literals: AssemblyScript inlines its members as
// constants (a plain `export const` becomes a global it reads at run time), TypeScript inlines them
// too (tsc) or reads them from the enum object (tsx). Slot numbers appear here and nowhere else.
//
// The native backend's kernels (native/src/kernels.inc) take the same layouts, in a block of doubles
// (src/backend/native/backend.ts writes a Float64Array of NativeBlock.SLOTS): slot i is element i,
// every value is a double (heap byte offsets too, -1 for null), so the f32/f64 notes above do not
// apply there. Its kernel ids are NativeKernel (end of this file). native/gen-params.mjs writes all
// of this file's enums into native/src/params.h (C++: cn::slot::Conv::BATCH, cn::K_CONV2D), run by
// `npm run build:native` and the install script; the header is committed, and a test fails when it
// is stale (test/native/params.test.ts). Keep to `NAME = <integer literal>,` members.
// Check the builds after a change: `npm run build:kernels`, `npx tsc -p .` and `npm run build:native`.

export const enum Block {
  /** Slots the host views of the block cover (the block is 512 bytes). */
  SLOTS = 128,
  /** Byte offset, from the block, of the odometer scratch of k_binary / k_transpose (8 i32 per part). */
  ODOMETER_BYTE = 512,
  /** Most axes k_binary and k_transpose take (their shape and stride lists have this many slots). */
  MAX_RANK = 8,
}

// ---- k_unary: out = f(x) ------------------------------------------------------------------
export const enum Unary {
  N = 0,
  OP = 1,
  ALPHA = 2, // f32
  X = 3,
  OUT = 4,
}

// ---- k_unary_grad: dx = dy * f'(x, y) ----------------------------------------------------------
export const enum UnaryGrad {
  N = 0,
  OP = 1,
  ALPHA = 2, // f32
  X = 3,
  Y = 4,
  DY = 5,
  DX = 6,
}

// ---- k_binary: broadcast out = a op b over up to Block.MAX_RANK merged axes --------------------------
export const enum Binary {
  RANK = 0,
  OP = 1,
  A = 2,
  B = 3,
  OUT = 4,
  TOTAL = 5,
  /** Slot of out axis 0's size; axis d at SHAPE + d. */
  SHAPE = 8,
  /** Slot of a's element stride along axis 0; axis d at A_STRIDES + d. */
  A_STRIDES = 16,
  /** Slot of b's element stride along axis 0; axis d at B_STRIDES + d. */
  B_STRIDES = 24,
}

// ---- k_binary_scalar: out = x op s (or s op x) -------------------------------------------------
export const enum BinaryScalar {
  N = 0,
  OP = 1,
  REVERSE = 2,
  X = 3,
  OUT = 4,
  /** f64, slots 6 and 7. */
  S = 6,
}

// ---- k_bias_act: out = act(x + bias) over rows x c -----------------------------------------------
export const enum BiasAct {
  ROWS = 0,
  C = 1,
  ACT = 2,
  ALPHA = 3, // f32
  X = 4,
  BIAS = 5,
  OUT = 6,
}

// ---- k_reduce, k_reduce_sum: [outer, n, inner] -> [outer, inner] ---------------------------------
export const enum Reduce {
  OP = 0,
  OUTER = 1,
  N = 2,
  INNER = 3,
  X = 4,
  OUT = 5,
  SCRATCH = 6,
  /** Scratch bytes per part. */
  PER_PART = 7,
  /** 1: the parts split n (k_reduce_sum adds their partial rows), 0: they split outer. */
  SPLIT_N = 8,
  PARTS = 9,
}

// ---- k_softmax: over the last axis of rows x cols ------------------------------------------------
export const enum Softmax {
  ROWS = 0,
  COLS = 1,
  X = 2,
  OUT = 3,
}

// ---- k_transpose: 4-byte elements, up to Block.MAX_RANK axes -------------------------------------------
export const enum Transpose {
  RANK = 0,
  TOTAL = 1,
  X = 2,
  OUT = 3,
  /** Slot of out axis 0's size; axis d at SHAPE + d. */
  SHAPE = 8,
  /** Native only: bytes per element, 1, 4 or 8 (the wasm kernel moves 4-byte elements). */
  ELEM_BYTES = 4,
  /** Slot of x's element stride along out axis 0; axis d at STRIDES + d. */
  STRIDES = 16,
}

// ---- k_cast: dtype codes DT_* of ./constants -----------------------------------------------------
export const enum Cast {
  N = 0,
  FROM = 1,
  TO = 2,
  X = 3,
  OUT = 4,
}

// ---- k_fill: n floats at ptr -----------------------------------------------------------------------
export const enum Fill {
  N = 0,
  VALUE = 1, // f32
  PTR = 2,
}

// ---- k_matmul: c (+)= op(a) [m, k] * op(b) [k, n] ------------------------------------------------
export const enum Matmul {
  M = 0,
  N = 1,
  K = 2,
  A = 3,
  TRANS_A = 4,
  B = 5,
  TRANS_B = 6,
  C = 7,
  ACCUMULATE = 8,
  SCRATCH = 9,
  /** Scratch bytes per part. */
  PER_PART = 10,
  /** 1: the parts split the columns of c, 0: its rows. */
  SPLIT_N = 11,
}

// ---- convolutions (conv.ts, winograd.ts, conv3x3small.ts, depthwise.ts): one shared layout -------
export const enum Conv {
  BATCH = 0,
  IN_H = 1,
  IN_W = 2,
  IN_C = 3,
  OUT_H = 4,
  OUT_W = 5,
  OUT_C = 6,
  K_H = 7,
  K_W = 8,
  STRIDE_H = 9,
  STRIDE_W = 10,
  DILATION_H = 11,
  DILATION_W = 12,
  PAD_TOP = 13,
  PAD_LEFT = 14,
  /** Activation code (the `code` column of the activation table). */
  ACT = 15,
  ALPHA = 16, // f32
  /** First input: x (forward, filter gradient) or dy (input gradient). */
  IN0 = 17,
  /** Second input: the filter (forward, input gradient) or dy (filter gradient). */
  IN1 = 18,
  /** Bias, or 0. */
  BIAS = 19,
  /** Output: out, dx or dw. */
  OUT = 20,
  SCRATCH = 21,
  /** Scratch bytes per part. */
  PER_PART = 22,
  /** Depthwise only: the depth multiplier (in the scratch's slot: depthwise has no scratch). */
  DEPTH_MULT = 21,
  /** im2col GEMMs: columns of B packed at once (a multiple of NR). */
  NC = 23,
  /** Winograd: 0 forward (x -> out), 1 input gradient (dy -> dx). */
  WINO_MODE = 24,
  /** Winograd: the transformed filters U. */
  WINO_U = 25,
  /** Winograd: tiles per block. */
  WINO_TB = 26,
  /** Winograd filter gradient: parts whose partial sums k_conv2d_wino_grad_filter_sum adds. */
  WINO_PARTS = 27,
  /**
   * Winograd: the host writes 0; a part that meets an infinity or NaN in its tiles writes 1 and stops
   * (the transforms' inf - inf would give NaN where the direct sums give +-inf), and the host then
   * computes the call the direct way.
   */
  WINO_NONFINITE = 28,
}

// ---- k_conv2d_grad_filter_sum: dw[K, N] = sum over parts of the per-part partials -----------------
export const enum GradSum {
  K = 0,
  N = 1,
  SCRATCH = 2,
  /** Bytes between two parts' partials. */
  STRIDE = 3,
  PARTS = 4,
  OUT = 5,
}

// ---- pooling (pool.ts) ---------------------------------------------------------------------------
export const enum Pool {
  BATCH = 0,
  IN_H = 1,
  IN_W = 2,
  C = 3,
  OUT_H = 4,
  OUT_W = 5,
  H = 6,
  W = 7,
  STRIDE_H = 8,
  STRIDE_W = 9,
  PAD_TOP = 10,
  PAD_LEFT = 11,
  /** x (forward, max gradient; 0 for the average gradient). */
  X = 12,
  /** out (forward) or dy (gradients). */
  Y = 13,
  /** dx (gradients). */
  DX = 14,
  /** Gradients: 1 when windows do not overlap (strideH >= poolH), so parts may split output rows. */
  SPLIT_ROWS = 15,
}

// ---- optimizers (optim.ts) -----------------------------------------------------------------------
export const enum Adam {
  N = 0,
  W = 1,
  G = 2,
  M = 3,
  V = 4,
  /** AMSGrad's max of v, or 0. */
  VHAT = 5,
  /** f32: lr * sqrt(1 - beta2^t) / (1 - beta1^t). */
  LR_T = 6,
  /** f32: 1 - beta1. */
  C1 = 7,
  /** f32: 1 - beta2. */
  C2 = 8,
  EPS = 9, // f32
  /** f32: weight decay * lr. */
  WD = 10,
}

export const enum Sgd {
  N = 0,
  W = 1,
  G = 2,
  /** Velocity, or 0. */
  VEL = 3,
  LR = 4, // f32
  MOMENTUM = 5, // f32
  NESTEROV = 6,
  /** f32: weight decay * lr. */
  WD = 7,
}

export const enum Rmsprop {
  N = 0,
  W = 1,
  G = 2,
  MS = 3,
  /** Momentum buffer, or 0. */
  MOM = 4,
  /** Mean gradient (centered), or 0. */
  MG = 5,
  LR = 6, // f32
  RHO = 7, // f32
  MOMENTUM = 8, // f32
  EPS = 9, // f32
  CENTERED = 10,
}

// ---- ndimage.ts (correlate2d_f32 / correlate2d_f64, its own module build/ndimage.wasm): one i32 each --
// The block is at the start of the call's heap block; the tables it points at follow it.
export const enum Ndimage {
  /** Input address (float32 or float64 rows of WIDTH). */
  IN = 0,
  /** Output address (same dtype). */
  OUT = 1,
  /** Output rows. */
  ROWS = 2,
  /** Row width. */
  WIDTH = 3,
  /** Number of taps. */
  TAPS = 4,
  /** i32 per tap: byte offset of its input in the scratch, from the output's own position. */
  TAP_OFF = 5,
  /** f64 per tap. */
  WEIGHTS = 6,
  /** i32 per virtual row v in [0, rows + kH - 1): source row, or -1 for cval. */
  ROW_MAP = 7,
  /** i32 per padded column p in [0, width + kW - 1): source column, or -1 for cval. */
  COL_MAP = 8,
  /** Per part, (band + kH - 1) padded float64 rows. */
  SCRATCH = 9,
  /** Output rows per band. */
  BAND = 10,
  /** Kernel rows. */
  KH = 11,
  /** Padded columns left of column 0 (the kernel's anchor column). */
  CX = 12,
  /** Kernel columns. */
  KW = 13,
  /** Byte offset of an f64 (slots 16 and 17): the value outside the image ('constant' mode). */
  CVAL_BYTE = 64,
  /** Bytes of the block; the tables follow. */
  BYTES = 128,
}

// ---- the native backend (native/src, through Node-API) ----------------------------------------------
/** k_fma_peak (native only): ITERS rounds of 24 independent vector multiply-add chains on the calling thread; the bench times it. */
export const enum FmaPeak {
  ITERS = 0,
  /** Byte offset of one float32 (the chains' sum, so the loop is not optimised away). */
  OUT = 1,
}

export const enum NativeBlock {
  /** Doubles in the native parameter block (the Float64Array the addon holds; every layout above fits). */
  SLOTS = 64,
}

/** The native kernels' ids: run(id) in native/src/addon.cc, K_<NAME> in C++ (the dispatch at the end of kernels.inc). */
export const enum NativeKernel {
  MATMUL = 0,
  CONV2D = 1,
  CONV2D_GRAD_INPUT = 2,
  CONV2D_GRAD_FILTER = 3,
  MAX_POOL = 4,
  MAX_POOL_GRAD = 5,
  AVG_POOL = 6,
  AVG_POOL_GRAD = 7,
  UNARY = 8,
  UNARY_GRAD = 9,
  BINARY = 10,
  BINARY_SCALAR = 11,
  BIAS_ACT = 12,
  REDUCE = 13,
  SOFTMAX = 14,
  TRANSPOSE = 15,
  CAST = 16,
  ADAM = 17,
  SGD = 18,
  RMSPROP = 19,
  FILL = 20,
  FMA_PEAK = 21,
  MAX_POOL_GRAD_RELU = 22,
}
