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
import { heap } from '../../tensor/heap.js';
import { ReferenceBackend } from '../reference.js';
import { HeapStorage } from '../heap-storage.js';
import { mergeBroadcastAxes, UNARY_CODE, BINARY_CODE, REDUCE_CODE, DTYPE_CODE } from '../kernel-args.js';
import * as C from '../../kernels/constants.js';
import {
  Block, Unary, UnaryGrad, Binary, BinaryScalar, BiasAct, Reduce, Softmax, Transpose, Cast, Fill, Matmul, Conv, GradSum,
  Pool, Adam, Sgd, Rmsprop,
} from '../../kernels/params.js';
import { UNARY_OPS } from '../activations.js';
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

/** The unary ops the kernels implement (their codes: src/backend/kernel-args.ts). */
export { UNARY_OPS };

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
      this.i32 = new Int32Array(buf, PARAMS, Block.SLOTS);
      this.u32 = new Uint32Array(buf, PARAMS, Block.SLOTS);
      this.f32 = new Float32Array(buf, PARAMS, Block.SLOTS);
      this.f64 = new Float64Array(buf, PARAMS, Block.SLOTS >> 1);
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
    this.i32[Unary.N] = n; this.i32[Unary.OP] = UNARY_CODE.get(op)!; this.f32[Unary.ALPHA] = alpha;
    this.u32[Unary.X] = x.offset; this.u32[Unary.OUT] = out.offset;
    this.run('k_unary', this.parts(n, SMALL_ELEMENTS, MAX_PARTS, SPLIT));
  }

  unaryGrad(op: Activation, x: Tensor, y: Tensor, dy: Tensor, dx: Tensor, alpha: number): void {
    this.params();
    const n = dx.size;
    this.i32[UnaryGrad.N] = n; this.i32[UnaryGrad.OP] = UNARY_CODE.get(op)!; this.f32[UnaryGrad.ALPHA] = alpha;
    this.u32[UnaryGrad.X] = x.offset; this.u32[UnaryGrad.Y] = y.offset; this.u32[UnaryGrad.DY] = dy.offset; this.u32[UnaryGrad.DX] = dx.offset;
    this.run('k_unary_grad', this.parts(n, SMALL_ELEMENTS, MAX_PARTS, SPLIT));
  }

  binary(op: BinaryOp, a: Tensor, b: Tensor, out: Tensor, p: BroadcastParams): void {
    if (a.dtype !== 'float32' || b.dtype !== 'float32' || out.dtype !== 'float32') return this.ref.binary(op, a, b, out, p);
    const { shape, aStrides: as, bStrides: bs } = mergeBroadcastAxes(p);
    if (shape.length > Block.MAX_RANK) return this.ref.binary(op, a, b, out, p);
    const total = out.size;
    if (total === 0) return;
    this.params();
    const i = this.i32;
    i[Binary.RANK] = shape.length; i[Binary.OP] = BINARY_CODE[op]; i[Binary.TOTAL] = total;
    this.u32[Binary.A] = a.offset; this.u32[Binary.B] = b.offset; this.u32[Binary.OUT] = out.offset;
    for (let d = 0; d < shape.length; d++) { i[Binary.SHAPE + d] = shape[d]; i[Binary.A_STRIDES + d] = as[d]; i[Binary.B_STRIDES + d] = bs[d]; }
    this.run('k_binary', this.parts(total, SMALL_ELEMENTS, MAX_PARTS, SPLIT));
  }

  binaryScalar(op: BinaryOp, x: Tensor, s: number, out: Tensor, reverse: boolean): void {
    if (x.dtype !== 'float32' || out.dtype !== 'float32') return this.ref.binaryScalar(op, x, s, out, reverse);
    this.params();
    const n = out.size;
    this.i32[BinaryScalar.N] = n; this.i32[BinaryScalar.OP] = BINARY_CODE[op]; this.i32[BinaryScalar.REVERSE] = reverse ? 1 : 0;
    this.u32[BinaryScalar.X] = x.offset; this.u32[BinaryScalar.OUT] = out.offset; this.f64[BinaryScalar.S >> 1] = s;
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
    i[Reduce.OP] = REDUCE_CODE[op]; i[Reduce.OUTER] = outer; i[Reduce.N] = n; i[Reduce.INNER] = inner;
    this.u32[Reduce.X] = x.offset; this.u32[Reduce.OUT] = out.offset;
    this.u32[Reduce.SCRATCH] = scratch; i[Reduce.PER_PART] = perPart; i[Reduce.SPLIT_N] = splitN ? 1 : 0; i[Reduce.PARTS] = parts;
    this.run('k_reduce', parts);
    if (splitN) this.run('k_reduce_sum', this.parts(outer * inner * parts, SMALL_ELEMENTS));
  }

  softmax(x: Tensor, out: Tensor, rows: number, cols: number): void {
    this.params();
    this.i32[Softmax.ROWS] = rows; this.i32[Softmax.COLS] = cols; this.u32[Softmax.X] = x.offset; this.u32[Softmax.OUT] = out.offset;
    this.run('k_softmax', this.parts(rows * cols, SMALL_ELEMENTS / 4, rows));
  }

  transpose(x: Tensor, out: Tensor, perm: number[]): void {
    const rank = x.shape.length;
    if (x.dtype === 'uint8' || x.dtype === 'float64' || rank > Block.MAX_RANK || rank === 0) return this.ref.transpose(x, out, perm);
    const strides = new Array<number>(rank);
    let s = 1;
    for (let d = rank - 1; d >= 0; d--) { strides[d] = s; s *= x.shape[d]; }
    if (out.size === 0) return;
    this.params();
    const i = this.i32;
    i[Transpose.RANK] = rank; i[Transpose.TOTAL] = out.size; this.u32[Transpose.X] = x.offset; this.u32[Transpose.OUT] = out.offset;
    for (let d = 0; d < rank; d++) { i[Transpose.SHAPE + d] = x.shape[perm[d]]; i[Transpose.STRIDES + d] = strides[perm[d]]; }
    this.run('k_transpose', this.parts(out.size, SMALL_ELEMENTS));
  }

  cast(x: Tensor, out: Tensor): void {
    this.params();
    this.i32[Cast.N] = x.size; this.i32[Cast.FROM] = DTYPE_CODE[x.dtype]; this.i32[Cast.TO] = DTYPE_CODE[out.dtype];
    this.u32[Cast.X] = x.offset; this.u32[Cast.OUT] = out.offset;
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
    this.i32[Fill.N] = n; this.f32[Fill.VALUE] = value; this.u32[Fill.PTR] = ptr;
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
    i[Matmul.M] = m; i[Matmul.N] = n; i[Matmul.K] = k;
    u[Matmul.A] = a.offset; i[Matmul.TRANS_A] = p.transA ? 1 : 0; u[Matmul.B] = b.offset; i[Matmul.TRANS_B] = p.transB ? 1 : 0;
    u[Matmul.C] = out.offset; i[Matmul.ACCUMULATE] = p.accumulate ? 1 : 0;
    u[Matmul.SCRATCH] = scratch; i[Matmul.PER_PART] = MATMUL_SCRATCH; i[Matmul.SPLIT_N] = splitN ? 1 : 0;
    this.run('k_matmul', parts);
  }

  biasAct(x: Tensor, bias: Tensor | null, out: Tensor, rows: number, c: number, act: Activation, alpha: number): void {
    this.params();
    const i = this.i32;
    i[BiasAct.ROWS] = rows; i[BiasAct.C] = c; i[BiasAct.ACT] = UNARY_CODE.get(act)!; this.f32[BiasAct.ALPHA] = alpha;
    this.u32[BiasAct.X] = x.offset; this.u32[BiasAct.BIAS] = bias ? bias.offset : 0; this.u32[BiasAct.OUT] = out.offset;
    this.run('k_bias_act', this.parts(rows * c, SMALL_ELEMENTS, rows));
  }

  /** Writes the shape, activation and alpha of the conv parameter block (Conv.BATCH .. Conv.ALPHA). */
  private convParams(p: Conv2DParams): void {
    this.params();
    const i = this.i32;
    i[Conv.BATCH] = p.batch; i[Conv.IN_H] = p.inH; i[Conv.IN_W] = p.inW; i[Conv.IN_C] = p.inC;
    i[Conv.OUT_H] = p.outH; i[Conv.OUT_W] = p.outW; i[Conv.OUT_C] = p.outC; i[Conv.K_H] = p.kH; i[Conv.K_W] = p.kW;
    i[Conv.STRIDE_H] = p.strideH; i[Conv.STRIDE_W] = p.strideW; i[Conv.DILATION_H] = p.dilationH; i[Conv.DILATION_W] = p.dilationW;
    i[Conv.PAD_TOP] = p.padTop; i[Conv.PAD_LEFT] = p.padLeft;
    i[Conv.ACT] = UNARY_CODE.get(p.activation ?? 'linear')!; this.f32[Conv.ALPHA] = p.alpha ?? 0;
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

  /**
   * Runs a Winograd conv: forward (mode 0: x -> out) or input gradient (mode 1: dy -> dx). False, with
   * out partly written, when the input holds an infinity or NaN (the transforms' inf - inf would give NaN
   * where the direct sums give +-inf): the caller then computes it the direct way.
   */
  private convWinograd(mode: 0 | 1, input: Tensor, w: Tensor, bias: Tensor | null, out: Tensor, p: Conv2DParams): boolean {
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
    u[Conv.IN0] = input.offset; u[Conv.IN1] = w.offset; u[Conv.BIAS] = bias ? bias.offset : 0; u[Conv.OUT] = out.offset;
    u[Conv.SCRATCH] = scratch + uBytes; u[Conv.PER_PART] = perPart; i[Conv.WINO_MODE] = mode; u[Conv.WINO_U] = scratch; i[Conv.WINO_TB] = tb;
    i[Conv.WINO_NONFINITE] = 0;
    this.run('k_wino_weights', this.parts(16 * cin * cout * 8, SMALL_ELEMENTS, cin));
    this.run('k_conv2d_wino', parts);
    this.params();
    return this.i32[Conv.WINO_NONFINITE] === 0;
  }

  /**
   * Winograd filter gradient: per-part partial sums of the 16 tile products, then one transform back.
   * False, with dw untouched, when x or dy holds an infinity or NaN (as convWinograd).
   */
  private convWinogradGradFilter(x: Tensor, dy: Tensor, dw: Tensor, p: Conv2DParams): boolean {
    const cin = p.inC, cout = p.outC;
    const tiles = p.batch * Math.ceil(p.outH / 2) * Math.ceil(p.outW / 2);
    const tb = Math.max(16, Math.min(96, Math.floor(16384 / (cin + cout) / MR) * MR));
    const perPart = roundUp(roundUp(16 * cin * cout, 16) * 4 + 16 * tb * (roundUp(cin, NR) + cout) * 4 + 128, 64);
    const parts = this.parts(2 * tiles * 16 * cin * cout, SMALL_FLOPS, Math.ceil(tiles / MR), SPLIT);
    const scratch = this.scratch(perPart * parts);
    this.convParams(p);
    const i = this.i32, u = this.u32;
    u[Conv.IN0] = x.offset; u[Conv.IN1] = dy.offset; u[Conv.OUT] = dw.offset; u[Conv.SCRATCH] = scratch; u[Conv.PER_PART] = perPart;
    i[Conv.WINO_TB] = tb; i[Conv.WINO_PARTS] = parts; i[Conv.WINO_NONFINITE] = 0;
    this.run('k_conv2d_wino_grad_filter', parts);
    this.params();
    if (this.i32[Conv.WINO_NONFINITE] !== 0) return false;
    this.run('k_conv2d_wino_grad_filter_sum', this.parts(16 * cin * cout * parts, SMALL_ELEMENTS, cin));
    return true;
  }

  /** Few-channel 3x3 filter gradient: per-part partials [9C (rounded up to 4), outC], summed in part order. */
  private conv3x3SmallGradFilter(x: Tensor, dy: Tensor, dw: Tensor, p: Conv2DParams): void {
    const K = 9 * p.inC, N = p.outC;
    const perPart = roundUp((roundUp(K, 4) * N + 3 * p.inC * (p.inW + 2)) * 4 + 64, 64);
    const parts = this.parts(2 * p.batch * p.outH * p.outW * K * N, SMALL_FLOPS, p.batch * p.outH, SPLIT);
    const scratch = this.scratch(perPart * parts);
    this.convParams(p);
    const u = this.u32;
    u[Conv.IN0] = x.offset; u[Conv.IN1] = dy.offset; u[Conv.SCRATCH] = scratch; u[Conv.PER_PART] = perPart;
    this.run('k_conv2d_3x3_small_grad_filter', parts);
    this.params();
    const i = this.i32;
    i[GradSum.K] = K * N; i[GradSum.N] = 1; u[GradSum.SCRATCH] = scratch; i[GradSum.STRIDE] = perPart; i[GradSum.PARTS] = parts;
    u[GradSum.OUT] = dw.offset;
    this.run('k_conv2d_grad_filter_sum', this.parts(K * N * parts, SMALL_ELEMENTS, K * N));
  }

  conv2d(x: Tensor, w: Tensor, bias: Tensor | null, out: Tensor, p: Conv2DParams): void {
    const M = p.batch * p.outH * p.outW, K = p.kH * p.kW * p.inC, N = p.outC;
    if (M === 0 || N === 0) return;
    const act = p.activation ?? 'linear';
    if ((act === 'linear' || act === 'relu') && this.winograd(p, p.inC, p.outC) && this.convWinograd(0, x, w, bias, out, p)) return;
    if (K === 0) return this.ref.conv2d(x, w, bias, out, p);
    if ((act === 'linear' || act === 'relu') && this.small3x3(p)) {
      const perPart = roundUp(3 * (roundUp(p.inW, 6) + 2) * p.inC * 4 + 64, 64);
      const parts = this.parts(2 * M * K * N, SMALL_FLOPS, p.batch * p.outH, SPLIT);
      const scratch = this.scratch(perPart * parts);
      this.convParams(p);
      const u = this.u32;
      u[Conv.IN0] = x.offset; u[Conv.IN1] = w.offset; u[Conv.BIAS] = bias ? bias.offset : 0; u[Conv.OUT] = out.offset;
      u[Conv.SCRATCH] = scratch; u[Conv.PER_PART] = perPart;
      this.run('k_conv2d_3x3_small', parts);
      return;
    }
    const { perPart, nc } = this.convGemmScratch(K, N);
    const parts = this.parts(2 * M * K * N, SMALL_FLOPS, Math.ceil(M / MR), SPLIT);
    const scratch = this.scratch(perPart * parts);
    this.convParams(p);
    const u = this.u32;
    u[Conv.IN0] = x.offset; u[Conv.IN1] = w.offset; u[Conv.BIAS] = bias ? bias.offset : 0; u[Conv.OUT] = out.offset;
    u[Conv.SCRATCH] = scratch; u[Conv.PER_PART] = perPart; this.i32[Conv.NC] = nc;
    this.run('k_conv2d', parts);
  }

  conv2dGradInput(dy: Tensor, w: Tensor, dx: Tensor, p: Conv2DParams): void {
    const M = p.batch * p.inH * p.inW, K = p.kH * p.kW * p.outC, N = p.inC;
    if (M === 0 || N === 0) return;
    if (K === 0 || p.outH * p.outW === 0) { this.fillF32(dx.offset, dx.size, 0); return; }
    if (this.winograd(p, p.outC, p.inC) && this.convWinograd(1, dy, w, null, dx, p)) return;
    const { perPart, nc } = this.convGemmScratch(K, N);
    const parts = this.parts(2 * M * K * N, SMALL_FLOPS, Math.ceil(M / MR), SPLIT);
    const scratch = this.scratch(perPart * parts);
    this.convParams(p);
    const u = this.u32;
    u[Conv.IN0] = dy.offset; u[Conv.IN1] = w.offset; u[Conv.BIAS] = 0; u[Conv.OUT] = dx.offset;
    u[Conv.SCRATCH] = scratch; u[Conv.PER_PART] = perPart; this.i32[Conv.NC] = nc;
    this.run('k_conv2d_grad_input', parts);
  }

  conv2dGradFilter(x: Tensor, dy: Tensor, dw: Tensor, p: Conv2DParams): void {
    const P = p.batch * p.outH * p.outW, K = p.kH * p.kW * p.inC, N = p.outC;
    if (K === 0 || N === 0) return;
    if (P === 0) { this.fillF32(dw.offset, dw.size, 0); return; }
    if (this.winograd(p, p.inC, p.outC) && this.convWinogradGradFilter(x, dy, dw, p)) return;
    if (this.small3x3(p)) return this.conv3x3SmallGradFilter(x, dy, dw, p);
    const partial = roundUp(K * N, 16) * 4;
    const perPart = roundUp(partial + N * KCP * 4 + KCP * NR * 4 + 128 + 128 + (p.inC % NR === 0 ? 0 : KCP * K * 4), 64);
    const parts = this.parts(2 * P * K * N, SMALL_FLOPS, P, SPLIT);
    const scratch = this.scratch(perPart * parts);
    this.convParams(p);
    const u = this.u32;
    u[Conv.IN0] = x.offset; u[Conv.IN1] = dy.offset; u[Conv.SCRATCH] = scratch; u[Conv.PER_PART] = perPart;
    this.run('k_conv2d_grad_filter', parts);
    this.params();
    const i = this.i32;
    i[GradSum.K] = K; i[GradSum.N] = N; u[GradSum.SCRATCH] = scratch; i[GradSum.STRIDE] = perPart; i[GradSum.PARTS] = parts;
    u[GradSum.OUT] = dw.offset;
    this.run('k_conv2d_grad_filter_sum', this.parts(K * N * parts, SMALL_ELEMENTS, K));
  }

  // ---- depthwise convolution ---------------------------------------------------------------

  private depthwiseParams(p: DepthwiseConv2DParams, a: Tensor, b: Tensor, bias: Tensor | null, out: Tensor): void {
    this.convParams(p);
    const u = this.u32;
    u[Conv.IN0] = a.offset; u[Conv.IN1] = b.offset; u[Conv.BIAS] = bias ? bias.offset : 0; u[Conv.OUT] = out.offset;
    this.i32[Conv.DEPTH_MULT] = p.depthMultiplier;
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
    i[Pool.BATCH] = p.batch; i[Pool.IN_H] = p.inH; i[Pool.IN_W] = p.inW; i[Pool.C] = p.channels;
    i[Pool.OUT_H] = p.outH; i[Pool.OUT_W] = p.outW; i[Pool.H] = p.poolH; i[Pool.W] = p.poolW;
    i[Pool.STRIDE_H] = p.strideH; i[Pool.STRIDE_W] = p.strideW; i[Pool.PAD_TOP] = p.padTop; i[Pool.PAD_LEFT] = p.padLeft;
    this.u32[Pool.X] = a; this.u32[Pool.Y] = b; this.u32[Pool.DX] = c; i[Pool.SPLIT_ROWS] = p.strideH >= p.poolH ? 1 : 0;
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
    this.i32[Adam.N] = param.size; u[Adam.W] = param.offset; u[Adam.G] = grad.offset; u[Adam.M] = m.offset; u[Adam.V] = v.offset;
    u[Adam.VHAT] = vhat && p.amsgrad ? vhat.offset : 0;
    f[Adam.LR_T] = p.lr * Math.sqrt(1 - Math.pow(p.beta2, p.step)) / (1 - Math.pow(p.beta1, p.step));
    f[Adam.C1] = 1 - p.beta1; f[Adam.C2] = 1 - p.beta2; f[Adam.EPS] = p.epsilon; f[Adam.WD] = p.weightDecay * p.lr;
    this.run('k_adam', this.parts(param.size, SMALL_ELEMENTS * 2));
  }

  sgdUpdate(param: Tensor, grad: Tensor, velocity: Tensor | null, p: SGDParams): void {
    this.params();
    const u = this.u32, f = this.f32;
    this.i32[Sgd.N] = param.size; u[Sgd.W] = param.offset; u[Sgd.G] = grad.offset; u[Sgd.VEL] = velocity ? velocity.offset : 0;
    f[Sgd.LR] = p.lr; f[Sgd.MOMENTUM] = p.momentum; this.i32[Sgd.NESTEROV] = p.nesterov ? 1 : 0; f[Sgd.WD] = p.weightDecay * p.lr;
    this.run('k_sgd', this.parts(param.size, SMALL_ELEMENTS * 2));
  }

  rmspropUpdate(param: Tensor, grad: Tensor, ms: Tensor, mom: Tensor | null, mg: Tensor | null, p: RMSpropParams): void {
    this.params();
    const u = this.u32, f = this.f32;
    this.i32[Rmsprop.N] = param.size; u[Rmsprop.W] = param.offset; u[Rmsprop.G] = grad.offset; u[Rmsprop.MS] = ms.offset;
    u[Rmsprop.MOM] = mom ? mom.offset : 0; u[Rmsprop.MG] = mg ? mg.offset : 0;
    f[Rmsprop.LR] = p.lr; f[Rmsprop.RHO] = p.rho; f[Rmsprop.MOMENTUM] = p.momentum; f[Rmsprop.EPS] = p.epsilon;
    this.i32[Rmsprop.CENTERED] = p.centered ? 1 : 0;
    this.run('k_rmsprop', this.parts(param.size, SMALL_ELEMENTS * 2));
  }
}
