/**
 * The WebAssembly backend: AssemblyScript SIMD kernels (src/kernels, built to build/kernels.wasm)
 * run on a thread pool over the one shared heap. Each method writes the kernel's parameter block
 * (plain integers, pointers and reals in 32-bit slots) into the control area and dispatches the
 * kernel in a fixed number of parts; small calls run in one part on the calling thread.
 */
import type {
  Backend, UnaryOp, Activation, BinaryOp, ReduceOp, BroadcastParams, MatMulParams, Conv2DParams,
  Pool2DParams, AdamParams, SGDParams, RMSpropParams, DepthwiseConv2DParams,
} from '../backend.js';
import type { Tensor } from '../../tensor/tensor.js';
import type { DType } from '../../tensor/dtype.js';
import { heap } from '../../tensor/heap.js';
import { ReferenceBackend } from '../reference.js';
import { HeapStorage } from '../heap-storage.js';
import * as C from '../../kernels/constants.js';
import { UNARY_OPS, UNARY_TABLE } from '../activations.js';
import { ThreadPool, MAX_PARTS } from './pool.js';

/** Kernel exports, in the order of their ids (shared with the workers). */
export const KERNELS = [
  'k_matmul', 'k_conv2d', 'k_conv2d_grad_input', 'k_conv2d_grad_filter', 'k_conv2d_grad_filter_sum',
  'k_max_pool', 'k_avg_pool', 'k_max_pool_grad', 'k_avg_pool_grad',
  'k_unary', 'k_unary_grad', 'k_binary', 'k_binary_scalar', 'k_bias_act', 'k_reduce', 'k_reduce_sum',
  'k_softmax', 'k_transpose', 'k_cast', 'k_fill', 'k_adam', 'k_sgd', 'k_rmsprop',
  'k_wino_weights', 'k_conv2d_wino', 'k_conv2d_wino_grad_filter', 'k_conv2d_wino_grad_filter_sum',
  'k_conv2d_3x3_small', 'k_conv2d_3x3_small_grad_filter',
  'k_depthwise_conv2d', 'k_depthwise_conv2d_grad_input', 'k_depthwise_conv2d_grad_filter',
] as const;
type KernelName = typeof KERNELS[number];
const K = Object.fromEntries(KERNELS.map((n, i) => [n, i])) as Record<KernelName, number>;

/** Unary op codes of the kernels (src/kernels/common.ts): the `code` column of the activation table. */
export { UNARY_OPS };
const UNARY_CODE = new Map<UnaryOp, number>(Object.entries(UNARY_TABLE).map(([op, r]) => [op as UnaryOp, r.code]));
const BINARY_CODE: Record<BinaryOp, number> = {
  add: C.BIN_ADD, sub: C.BIN_SUB, mul: C.BIN_MUL, div: C.BIN_DIV, max: C.BIN_MAX, min: C.BIN_MIN, pow: C.BIN_POW,
  greater: C.BIN_GREATER, less: C.BIN_LESS, equal: C.BIN_EQUAL,
};
const REDUCE_CODE: Record<ReduceOp, number> = { sum: C.RED_SUM, max: C.RED_MAX, min: C.RED_MIN, mean: C.RED_MEAN, prod: C.RED_PROD };
const DTYPE_CODE: Record<DType, number> = { float32: C.DT_FLOAT32, int32: C.DT_INT32, uint8: C.DT_UINT8, float64: C.DT_FLOAT64 };

/** The parameter block's address and the GEMM blocking: the kernels' own constants (src/kernels/constants.ts). */
const { PARAMS, MR, NR, KC, MC, NC, KCMAX, KCP, CHUNK } = C;
const MATMUL_SCRATCH = (KC * NC + MC * KC + 64) * 4;
/** Work (multiply-adds or elements) below which a call runs in one part. */
const SMALL_ELEMENTS = 1 << 15;
const SMALL_FLOPS = 1 << 21;
/** Parts per thread of the big convolution, pooling and elementwise calls. */
const SPLIT = 4;

function roundUp(x: number, m: number): number { return Math.ceil(x / m) * m; }
function kBlock(k: number): number { const nb = Math.ceil(k / KCMAX); return Math.ceil(k / nb); }

export class WasmBackend extends HeapStorage implements Backend {
  readonly name = 'wasm';
  private nThreads = 1;
  private readonly ref = new ReferenceBackend();
  private scratchPtr = 0;
  private scratchBytes = 0;
  private i32!: Int32Array;
  private u32!: Uint32Array;
  private f32!: Float32Array;
  private f64!: Float64Array;
  private buffer: ArrayBufferLike | undefined;

  constructor(private readonly memory: WebAssembly.Memory, private readonly pool: ThreadPool, threads: number) {
    super();
    this.setThreads(threads);
  }

  get threads(): number { return this.nThreads; }

  /** Resolves once the workers for the current thread count have started (calls work before, on fewer threads). */
  async ready(timeoutMs = 10000): Promise<void> {
    const until = Date.now() + timeoutMs;
    while (this.pool.readyWorkers < Math.min(this.nThreads - 1, this.pool.workerCount) && Date.now() < until) {
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  setThreads(n: number): void {
    const shared = typeof SharedArrayBuffer !== 'undefined' && this.memory.buffer instanceof SharedArrayBuffer;
    this.nThreads = shared ? Math.max(1, Math.min(MAX_PARTS, Math.floor(n))) : 1;
    this.pool.ensureWorkers(this.nThreads - 1);
  }

  // ---- parameter block and scratch ---------------------------------------------------------

  /** Fresh views of the parameter block (the buffer object changes when the heap grows). */
  private params(): void {
    const buf = this.memory.buffer;
    if (buf !== this.buffer) {
      this.buffer = buf;
      this.i32 = new Int32Array(buf, PARAMS, 128);
      this.u32 = new Uint32Array(buf, PARAMS, 128);
      this.f32 = new Float32Array(buf, PARAMS, 128);
      this.f64 = new Float64Array(buf, PARAMS, 64);
    }
  }

  /** A heap block of `bytes` for kernel scratch, kept and grown as needed (never shrunk). */
  private scratch(bytes: number): number {
    if (bytes > this.scratchBytes) {
      if (this.scratchPtr) heap().release(this.scratchPtr);
      this.scratchBytes = roundUp(Math.max(bytes, this.scratchBytes * 1.25), 65536);
      this.scratchPtr = heap().alloc(this.scratchBytes);
      this.buffer = undefined;
    }
    return this.scratchPtr;
  }

  /**
   * Parts of a call: 1 below `small` work, else `perThread` per thread (claimed dynamically, so a
   * thread the OS pauses on a shared machine holds up less of the call), at most `maxParts`.
   * The count depends only on the thread count, so results stay the same run to run.
   */
  private parts(work: number, small: number, maxParts = MAX_PARTS, perThread = 1): number {
    if (work < small || this.nThreads === 1) return 1;
    return Math.max(1, Math.min(this.nThreads * perThread, maxParts, MAX_PARTS));
  }

  private run(kernel: KernelName, parts: number): void {
    this.pool.run(K[kernel], PARAMS, parts);
  }

  // ---- elementwise -------------------------------------------------------------------------

  unary(op: UnaryOp, x: Tensor, out: Tensor, alpha: number): void {
    if (x.dtype !== 'float32' || out.dtype !== 'float32') return this.ref.unary(op, x, out, alpha);
    this.params();
    const n = out.size;
    this.i32[0] = n; this.i32[1] = UNARY_CODE.get(op)!; this.f32[2] = alpha;
    this.u32[3] = x.offset; this.u32[4] = out.offset;
    this.run('k_unary', this.parts(n, SMALL_ELEMENTS, MAX_PARTS, SPLIT));
  }

  unaryGrad(op: Activation, x: Tensor, y: Tensor, dy: Tensor, dx: Tensor, alpha: number): void {
    this.params();
    const n = dx.size;
    this.i32[0] = n; this.i32[1] = UNARY_CODE.get(op)!; this.f32[2] = alpha;
    this.u32[3] = x.offset; this.u32[4] = y.offset; this.u32[5] = dy.offset; this.u32[6] = dx.offset;
    this.run('k_unary_grad', this.parts(n, SMALL_ELEMENTS, MAX_PARTS, SPLIT));
  }

  binary(op: BinaryOp, a: Tensor, b: Tensor, out: Tensor, p: BroadcastParams): void {
    if (a.dtype !== 'float32' || b.dtype !== 'float32' || out.dtype !== 'float32') return this.ref.binary(op, a, b, out, p);
    // Drop unit axes and merge axes that are contiguous in both inputs.
    const shape: number[] = [], as: number[] = [], bs: number[] = [];
    for (let d = 0; d < p.outShape.length; d++) {
      const n = p.outShape[d];
      if (n === 1) continue;
      const k = shape.length - 1;
      if (k >= 0 && as[k] === p.aStrides[d] * n && bs[k] === p.bStrides[d] * n) {
        shape[k] *= n; as[k] = p.aStrides[d]; bs[k] = p.bStrides[d];
      } else { shape.push(n); as.push(p.aStrides[d]); bs.push(p.bStrides[d]); }
    }
    if (shape.length === 0) { shape.push(1); as.push(0); bs.push(0); }
    if (shape.length > 8) return this.ref.binary(op, a, b, out, p);
    const total = out.size;
    if (total === 0) return;
    this.params();
    const i = this.i32;
    i[0] = shape.length; i[1] = BINARY_CODE[op]; this.u32[2] = a.offset; this.u32[3] = b.offset; this.u32[4] = out.offset; i[5] = total;
    for (let d = 0; d < shape.length; d++) { i[8 + d] = shape[d]; i[16 + d] = as[d]; i[24 + d] = bs[d]; }
    this.run('k_binary', this.parts(total, SMALL_ELEMENTS, MAX_PARTS, SPLIT));
  }

  binaryScalar(op: BinaryOp, x: Tensor, s: number, out: Tensor, reverse: boolean): void {
    if (x.dtype !== 'float32' || out.dtype !== 'float32') return this.ref.binaryScalar(op, x, s, out, reverse);
    this.params();
    const n = out.size;
    this.i32[0] = n; this.i32[1] = BINARY_CODE[op]; this.i32[2] = reverse ? 1 : 0;
    this.u32[3] = x.offset; this.u32[4] = out.offset; this.f64[3] = s;
    this.run('k_binary_scalar', this.parts(n, SMALL_ELEMENTS));
  }

  reduce(op: ReduceOp, x: Tensor, out: Tensor, outer: number, n: number, inner: number): void {
    if (x.dtype !== 'float32' || out.dtype !== 'float32') return this.ref.reduce(op, x, out, outer, n, inner);
    const total = outer * n * inner;
    let parts = this.parts(total, SMALL_ELEMENTS);
    const splitN = parts > 1 && outer < parts * 4 && n >= parts * 4;
    if (!splitN) parts = Math.max(1, Math.min(parts, outer));
    const perPart = roundUp(CHUNK * 8 + (splitN ? outer * inner * 8 : 0), 64);
    const scratch = this.scratch(perPart * parts);
    this.params();
    const i = this.i32;
    i[0] = REDUCE_CODE[op]; i[1] = outer; i[2] = n; i[3] = inner; this.u32[4] = x.offset; this.u32[5] = out.offset;
    this.u32[6] = scratch; i[7] = perPart; i[8] = splitN ? 1 : 0; i[9] = parts;
    this.run('k_reduce', parts);
    if (splitN) this.run('k_reduce_sum', this.parts(outer * inner * parts, SMALL_ELEMENTS));
  }

  softmax(x: Tensor, out: Tensor, rows: number, cols: number): void {
    this.params();
    this.i32[0] = rows; this.i32[1] = cols; this.u32[2] = x.offset; this.u32[3] = out.offset;
    this.run('k_softmax', this.parts(rows * cols, SMALL_ELEMENTS / 4, rows));
  }

  transpose(x: Tensor, out: Tensor, perm: number[]): void {
    const rank = x.shape.length;
    if (x.dtype === 'uint8' || x.dtype === 'float64' || rank > 8 || rank === 0) return this.ref.transpose(x, out, perm);
    const strides = new Array<number>(rank);
    let s = 1;
    for (let d = rank - 1; d >= 0; d--) { strides[d] = s; s *= x.shape[d]; }
    if (out.size === 0) return;
    this.params();
    const i = this.i32;
    i[0] = rank; i[1] = out.size; this.u32[2] = x.offset; this.u32[3] = out.offset;
    for (let d = 0; d < rank; d++) { i[8 + d] = x.shape[perm[d]]; i[16 + d] = strides[perm[d]]; }
    this.run('k_transpose', this.parts(out.size, SMALL_ELEMENTS));
  }

  cast(x: Tensor, out: Tensor): void {
    this.params();
    this.i32[0] = x.size; this.i32[1] = DTYPE_CODE[x.dtype]; this.i32[2] = DTYPE_CODE[out.dtype];
    this.u32[3] = x.offset; this.u32[4] = out.offset;
    this.run('k_cast', this.parts(x.size, SMALL_ELEMENTS));
  }

  /** Sets every element of t (the fill kernel for float32, host code otherwise). */
  override fill(t: Tensor, value: number): void {
    t.assertLive('fill');
    if (t.dtype === 'float32') this.fillF32(t.offset, t.size, value);
    else super.fill(t, value);
  }

  /** Fills n floats at a heap byte offset. */
  fillF32(ptr: number, n: number, value: number): void {
    this.params();
    this.i32[0] = n; this.f32[1] = value; this.u32[2] = ptr;
    this.run('k_fill', this.parts(n, SMALL_ELEMENTS * 4));
  }

  // ---- GEMM and convolutions ----------------------------------------------------------------

  matmul(a: Tensor, b: Tensor, out: Tensor, p: MatMulParams): void {
    const { m, n, k } = p;
    if (m === 0 || n === 0) return;
    const flops = 2 * m * n * k;
    const splitN = n >= m;
    const parts = this.parts(flops, SMALL_FLOPS, splitN ? Math.ceil(n / NR) : Math.ceil(m / MR));
    const scratch = this.scratch(MATMUL_SCRATCH * parts);
    this.params();
    const i = this.i32, u = this.u32;
    i[0] = m; i[1] = n; i[2] = k; u[3] = a.offset; i[4] = p.transA ? 1 : 0; u[5] = b.offset; i[6] = p.transB ? 1 : 0;
    u[7] = out.offset; i[8] = p.accumulate ? 1 : 0; u[9] = scratch; i[10] = MATMUL_SCRATCH; i[11] = splitN ? 1 : 0;
    this.run('k_matmul', parts);
  }

  biasAct(x: Tensor, bias: Tensor | null, out: Tensor, rows: number, c: number, act: Activation, alpha: number): void {
    this.params();
    const i = this.i32;
    i[0] = rows; i[1] = c; i[2] = UNARY_CODE.get(act)!; this.f32[3] = alpha;
    this.u32[4] = x.offset; this.u32[5] = bias ? bias.offset : 0; this.u32[6] = out.offset;
    this.run('k_bias_act', this.parts(rows * c, SMALL_ELEMENTS, rows));
  }

  /** Writes the conv parameter block (slots 0..16). */
  private convParams(p: Conv2DParams): void {
    this.params();
    const i = this.i32;
    i[0] = p.batch; i[1] = p.inH; i[2] = p.inW; i[3] = p.inC; i[4] = p.outH; i[5] = p.outW; i[6] = p.outC;
    i[7] = p.kH; i[8] = p.kW; i[9] = p.strideH; i[10] = p.strideW; i[11] = p.dilationH; i[12] = p.dilationW;
    i[13] = p.padTop; i[14] = p.padLeft; i[15] = UNARY_CODE.get(p.activation ?? 'linear')!; this.f32[16] = p.alpha ?? 0;
  }

  /** Scratch per part of a conv GEMM with depth K and N columns: packed B, an im2col tile, an edge tile. */
  private convGemmScratch(K: number, N: number): { perPart: number; nc: number } {
    const ncMax = Math.max(NR, Math.floor((4 << 20) / (K * 4 * NR)) * NR);
    const nc = Math.min(roundUp(N, NR), ncMax);
    return { perPart: roundUp(K * nc * 4 + MC * kBlock(K) * 4 + 128, 64), nc };
  }

  /**
   * Whether a conv runs as Winograd F(2x2, 3x3) (3x3, stride 1, no dilation, 'same'; channel
   * counts multiples of 4 and at least 8 read, where the tile GEMMs pay off).
   */
  private winograd(p: Conv2DParams, cin: number, cout: number): boolean {
    return p.kH === 3 && p.kW === 3 && p.strideH === 1 && p.strideW === 1 && p.dilationH === 1 && p.dilationW === 1 &&
      p.padTop === 1 && p.padLeft === 1 && p.outH === p.inH && p.outW === p.inW &&
      cin % 4 === 0 && cout % 4 === 0 && cin >= 8 && p.batch * p.outH * p.outW > 0;
  }

  /**
   * Whether a conv runs on the few-channel 3x3 kernels (src/kernels/conv3x3small.ts): 3x3, stride 1,
   * no dilation, 'same', at most 4 input channels and output channels a multiple of 8.
   */
  private small3x3(p: Conv2DParams): boolean {
    return p.kH === 3 && p.kW === 3 && p.strideH === 1 && p.strideW === 1 && p.dilationH === 1 && p.dilationW === 1 &&
      p.padTop === 1 && p.padLeft === 1 && p.outH === p.inH && p.outW === p.inW &&
      p.inC >= 1 && p.inC <= 4 && p.outC % 8 === 0 && p.batch * p.outH * p.outW > 0;
  }

  /** Runs a Winograd conv: forward (mode 0: x -> out) or input gradient (mode 1: dy -> dx). */
  private convWinograd(mode: 0 | 1, input: Tensor, w: Tensor, bias: Tensor | null, out: Tensor, p: Conv2DParams): void {
    const cin = mode ? p.outC : p.inC, cout = mode ? p.inC : p.outC;
    const tiles = p.batch * Math.ceil(p.outH / 2) * Math.ceil(p.outW / 2);
    // 12 tiles per block: the block's transformed inputs and products stay in L1 between the
    // transforms and the 16 GEMMs (measured best from 4 to 64 on conv2 to conv4; 64 was 10 to 15% slower).
    const tb = 12;
    const uBytes = roundUp(16 * cin * roundUp(cout, NR) * 4, 64);
    const perPart = roundUp(16 * tb * (cin + cout) * 4 + 128, 64);
    const parts = this.parts(2 * tiles * 16 * cin * cout, SMALL_FLOPS, Math.ceil(tiles / MR), SPLIT);
    const scratch = this.scratch(uBytes + perPart * parts);
    this.convParams(p);
    const i = this.i32, u = this.u32;
    u[17] = input.offset; u[18] = w.offset; u[19] = bias ? bias.offset : 0; u[20] = out.offset;
    u[21] = scratch + uBytes; u[22] = perPart; i[24] = mode; u[25] = scratch; i[26] = tb;
    this.run('k_wino_weights', this.parts(16 * cin * cout * 8, SMALL_ELEMENTS, cin));
    this.run('k_conv2d_wino', parts);
  }

  /** Winograd filter gradient: per-part partial sums of the 16 tile products, then one transform back. */
  private convWinogradGradFilter(x: Tensor, dy: Tensor, dw: Tensor, p: Conv2DParams): void {
    const cin = p.inC, cout = p.outC;
    const tiles = p.batch * Math.ceil(p.outH / 2) * Math.ceil(p.outW / 2);
    const tb = Math.max(16, Math.min(96, Math.floor(16384 / (cin + cout) / MR) * MR));
    const perPart = roundUp(roundUp(16 * cin * cout, 16) * 4 + 16 * tb * (roundUp(cin, NR) + cout) * 4 + 128, 64);
    const parts = this.parts(2 * tiles * 16 * cin * cout, SMALL_FLOPS, Math.ceil(tiles / MR), SPLIT);
    const scratch = this.scratch(perPart * parts);
    this.convParams(p);
    const i = this.i32, u = this.u32;
    u[17] = x.offset; u[18] = dy.offset; u[20] = dw.offset; u[21] = scratch; u[22] = perPart; i[26] = tb; i[27] = parts;
    this.run('k_conv2d_wino_grad_filter', parts);
    this.run('k_conv2d_wino_grad_filter_sum', this.parts(16 * cin * cout * parts, SMALL_ELEMENTS, cin));
  }

  /** Few-channel 3x3 filter gradient: per-part partials [9C (rounded up to 4), outC], summed in part order. */
  private conv3x3SmallGradFilter(x: Tensor, dy: Tensor, dw: Tensor, p: Conv2DParams): void {
    const K = 9 * p.inC, N = p.outC;
    const perPart = roundUp((roundUp(K, 4) * N + 3 * p.inC * (p.inW + 2)) * 4 + 64, 64);
    const parts = this.parts(2 * p.batch * p.outH * p.outW * K * N, SMALL_FLOPS, p.batch * p.outH, SPLIT);
    const scratch = this.scratch(perPart * parts);
    this.convParams(p);
    const u = this.u32;
    u[17] = x.offset; u[18] = dy.offset; u[21] = scratch; u[22] = perPart;
    this.run('k_conv2d_3x3_small_grad_filter', parts);
    this.params();
    const i = this.i32;
    i[0] = K * N; i[1] = 1; u[2] = scratch; i[3] = perPart; i[4] = parts; u[5] = dw.offset;
    this.run('k_conv2d_grad_filter_sum', this.parts(K * N * parts, SMALL_ELEMENTS, K * N));
  }

  conv2d(x: Tensor, w: Tensor, bias: Tensor | null, out: Tensor, p: Conv2DParams): void {
    const M = p.batch * p.outH * p.outW, K = p.kH * p.kW * p.inC, N = p.outC;
    if (M === 0 || N === 0) return;
    const act = p.activation ?? 'linear';
    if ((act === 'linear' || act === 'relu') && this.winograd(p, p.inC, p.outC)) return this.convWinograd(0, x, w, bias, out, p);
    if (K === 0) return this.ref.conv2d(x, w, bias, out, p);
    if ((act === 'linear' || act === 'relu') && this.small3x3(p)) {
      const perPart = roundUp(3 * (roundUp(p.inW, 6) + 2) * p.inC * 4 + 64, 64);
      const parts = this.parts(2 * M * K * N, SMALL_FLOPS, p.batch * p.outH, SPLIT);
      const scratch = this.scratch(perPart * parts);
      this.convParams(p);
      const u = this.u32;
      u[17] = x.offset; u[18] = w.offset; u[19] = bias ? bias.offset : 0; u[20] = out.offset; u[21] = scratch; u[22] = perPart;
      this.run('k_conv2d_3x3_small', parts);
      return;
    }
    const { perPart, nc } = this.convGemmScratch(K, N);
    const parts = this.parts(2 * M * K * N, SMALL_FLOPS, Math.ceil(M / MR), SPLIT);
    const scratch = this.scratch(perPart * parts);
    this.convParams(p);
    const u = this.u32;
    u[17] = x.offset; u[18] = w.offset; u[19] = bias ? bias.offset : 0; u[20] = out.offset;
    u[21] = scratch; u[22] = perPart; this.i32[23] = nc;
    this.run('k_conv2d', parts);
  }

  conv2dGradInput(dy: Tensor, w: Tensor, dx: Tensor, p: Conv2DParams): void {
    const M = p.batch * p.inH * p.inW, K = p.kH * p.kW * p.outC, N = p.inC;
    if (M === 0 || N === 0) return;
    if (K === 0 || p.outH * p.outW === 0) { this.fillF32(dx.offset, dx.size, 0); return; }
    if (this.winograd(p, p.outC, p.inC)) return this.convWinograd(1, dy, w, null, dx, p);
    const { perPart, nc } = this.convGemmScratch(K, N);
    const parts = this.parts(2 * M * K * N, SMALL_FLOPS, Math.ceil(M / MR), SPLIT);
    const scratch = this.scratch(perPart * parts);
    this.convParams(p);
    const u = this.u32;
    u[17] = dy.offset; u[18] = w.offset; u[19] = 0; u[20] = dx.offset;
    u[21] = scratch; u[22] = perPart; this.i32[23] = nc;
    this.run('k_conv2d_grad_input', parts);
  }

  conv2dGradFilter(x: Tensor, dy: Tensor, dw: Tensor, p: Conv2DParams): void {
    const P = p.batch * p.outH * p.outW, K = p.kH * p.kW * p.inC, N = p.outC;
    if (K === 0 || N === 0) return;
    if (P === 0) { this.fillF32(dw.offset, dw.size, 0); return; }
    if (this.winograd(p, p.inC, p.outC)) return this.convWinogradGradFilter(x, dy, dw, p);
    if (this.small3x3(p)) return this.conv3x3SmallGradFilter(x, dy, dw, p);
    const partial = roundUp(K * N, 16) * 4;
    const perPart = roundUp(partial + N * KCP * 4 + KCP * NR * 4 + 128 + 128 + (p.inC % NR === 0 ? 0 : KCP * K * 4), 64);
    const parts = this.parts(2 * P * K * N, SMALL_FLOPS, P, SPLIT);
    const scratch = this.scratch(perPart * parts);
    this.convParams(p);
    const u = this.u32;
    u[17] = x.offset; u[18] = dy.offset; u[21] = scratch; u[22] = perPart;
    this.run('k_conv2d_grad_filter', parts);
    this.params();
    const i = this.i32;
    i[0] = K; i[1] = N; u[2] = scratch; i[3] = perPart; i[4] = parts; u[5] = dw.offset;
    this.run('k_conv2d_grad_filter_sum', this.parts(K * N * parts, SMALL_ELEMENTS, K));
  }

  // ---- depthwise convolution ---------------------------------------------------------------

  private depthwiseParams(p: DepthwiseConv2DParams, a: Tensor, b: Tensor, bias: Tensor | null, out: Tensor): void {
    this.convParams(p);
    const u = this.u32;
    u[17] = a.offset; u[18] = b.offset; u[19] = bias ? bias.offset : 0; u[20] = out.offset; this.i32[21] = p.depthMultiplier;
  }

  depthwiseConv2d(x: Tensor, w: Tensor, bias: Tensor | null, out: Tensor, p: DepthwiseConv2DParams): void {
    if (out.size === 0) return;
    this.depthwiseParams(p, x, w, bias, out);
    this.run('k_depthwise_conv2d', this.parts(2 * out.size * p.kH * p.kW, SMALL_ELEMENTS, p.batch * p.outH, SPLIT));
  }

  depthwiseConv2dGradInput(dy: Tensor, w: Tensor, dx: Tensor, p: DepthwiseConv2DParams): void {
    if (dx.size === 0) return;
    this.depthwiseParams(p, dy, w, null, dx);
    this.run('k_depthwise_conv2d_grad_input', this.parts(2 * dy.size * p.kH * p.kW, SMALL_ELEMENTS, p.batch * p.inH, SPLIT));
  }

  depthwiseConv2dGradFilter(x: Tensor, dy: Tensor, dw: Tensor, p: DepthwiseConv2DParams): void {
    if (dw.size === 0) return;
    this.depthwiseParams(p, x, dy, null, dw);
    this.run('k_depthwise_conv2d_grad_filter', this.parts(2 * dy.size * p.kH * p.kW, SMALL_ELEMENTS, p.kH * p.kW));
  }

  // ---- pooling -------------------------------------------------------------------------------

  private poolParams(p: Pool2DParams, a: number, b: number, c: number): void {
    this.params();
    const i = this.i32;
    i[0] = p.batch; i[1] = p.inH; i[2] = p.inW; i[3] = p.channels; i[4] = p.outH; i[5] = p.outW;
    i[6] = p.poolH; i[7] = p.poolW; i[8] = p.strideH; i[9] = p.strideW; i[10] = p.padTop; i[11] = p.padLeft;
    this.u32[12] = a; this.u32[13] = b; this.u32[14] = c; i[15] = p.strideH >= p.poolH ? 1 : 0;
  }

  maxPool2d(x: Tensor, out: Tensor, p: Pool2DParams): void {
    if (out.size === 0) return;
    this.poolParams(p, x.offset, out.offset, 0);
    this.run('k_max_pool', this.parts(out.size * p.poolH * p.poolW, SMALL_ELEMENTS, p.batch * p.outH, SPLIT));
  }

  avgPool2d(x: Tensor, out: Tensor, p: Pool2DParams): void {
    if (out.size === 0) return;
    this.poolParams(p, x.offset, out.offset, 0);
    this.run('k_avg_pool', this.parts(out.size * p.poolH * p.poolW, SMALL_ELEMENTS, p.batch * p.outH, SPLIT));
  }

  private poolGrad(kernel: KernelName, x: Tensor | null, dy: Tensor, dx: Tensor, p: Pool2DParams): void {
    // Max pooling 2x2 / stride 2 with windows inside the input writes every dx element itself (src/kernels/pool.ts).
    const writesAll = kernel === 'k_max_pool_grad' && p.poolH === 2 && p.poolW === 2 && p.strideH === 2 && p.strideW === 2 &&
      p.padTop === 0 && p.padLeft === 0 && p.channels % 4 === 0 && p.outH > 0 && p.outW > 0 &&
      2 * p.outH <= p.inH && 2 * p.outW <= p.inW;
    if (!writesAll) this.fillF32(dx.offset, dx.size, 0);
    if (dy.size === 0) return;
    this.poolParams(p, x ? x.offset : 0, dy.offset, dx.offset);
    const units = p.strideH >= p.poolH ? p.batch * p.outH : p.batch;
    this.run(kernel, this.parts(dy.size * p.poolH * p.poolW, SMALL_ELEMENTS, units, SPLIT));
  }

  maxPool2dGrad(x: Tensor, dy: Tensor, dx: Tensor, p: Pool2DParams): void { this.poolGrad('k_max_pool_grad', x, dy, dx, p); }
  avgPool2dGrad(dy: Tensor, dx: Tensor, p: Pool2DParams): void { this.poolGrad('k_avg_pool_grad', null, dy, dx, p); }

  // ---- optimizers ------------------------------------------------------------------------------

  adamUpdate(param: Tensor, grad: Tensor, m: Tensor, v: Tensor, vhat: Tensor | null, p: AdamParams): void {
    this.params();
    const u = this.u32, f = this.f32;
    this.i32[0] = param.size; u[1] = param.offset; u[2] = grad.offset; u[3] = m.offset; u[4] = v.offset;
    u[5] = vhat && p.amsgrad ? vhat.offset : 0;
    f[6] = p.lr * Math.sqrt(1 - Math.pow(p.beta2, p.step)) / (1 - Math.pow(p.beta1, p.step));
    f[7] = 1 - p.beta1; f[8] = 1 - p.beta2; f[9] = p.epsilon; f[10] = p.weightDecay * p.lr;
    this.run('k_adam', this.parts(param.size, SMALL_ELEMENTS * 2));
  }

  sgdUpdate(param: Tensor, grad: Tensor, velocity: Tensor | null, p: SGDParams): void {
    this.params();
    const u = this.u32, f = this.f32;
    this.i32[0] = param.size; u[1] = param.offset; u[2] = grad.offset; u[3] = velocity ? velocity.offset : 0;
    f[4] = p.lr; f[5] = p.momentum; this.i32[6] = p.nesterov ? 1 : 0; f[7] = p.weightDecay * p.lr;
    this.run('k_sgd', this.parts(param.size, SMALL_ELEMENTS * 2));
  }

  rmspropUpdate(param: Tensor, grad: Tensor, ms: Tensor, mom: Tensor | null, mg: Tensor | null, p: RMSpropParams): void {
    this.params();
    const u = this.u32, f = this.f32;
    this.i32[0] = param.size; u[1] = param.offset; u[2] = grad.offset; u[3] = ms.offset;
    u[4] = mom ? mom.offset : 0; u[5] = mg ? mg.offset : 0;
    f[6] = p.lr; f[7] = p.rho; f[8] = p.momentum; f[9] = p.epsilon; this.i32[10] = p.centered ? 1 : 0;
    this.run('k_rmsprop', this.parts(param.size, SMALL_ELEMENTS * 2));
  }
}
