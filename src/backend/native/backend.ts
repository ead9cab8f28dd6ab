/**
 * The native backend: C++ kernels (native/src, AVX-512F, AVX2+FMA or portable, picked at load time)
 * through Node-API, on a pool of native threads, on tensors where they live in the shared heap.
 *
 * The addon took the heap's base address once (a shared WebAssembly.Memory never moves when it
 * grows), so a call only writes its parameter block (doubles: sizes, op codes, heap byte offsets,
 * -1 for null) into a Float64Array the addon also holds, then calls `run(kernelId)`.
 *
 * Any Backend method this class does not implement natively (a method added to the interface
 * later, or a dtype the kernels do not take) is delegated to the WebAssembly backend (the same
 * heap, so delegation copies nothing), or to the reference backend where WebAssembly is missing.
 * `delegatedMethods` lists them.
 */
import type {
  Backend, UnaryOp, Activation, BinaryOp, ReduceOp, BroadcastParams, MatMulParams, Conv2DParams,
  Pool2DParams, AdamParams, SGDParams, RMSpropParams,
} from '../backend.js';
import type { Tensor } from '../../tensor/tensor.js';
import { BYTES } from '../../tensor/dtype.js';
import { ReferenceBackend } from '../reference.js';
import { WasmBackend } from '../wasm/backend.js';
import { HeapStorage } from '../heap-storage.js';
import { mergeBroadcastAxes, UNARY_CODE, BINARY_CODE, REDUCE_CODE, DTYPE_CODE } from '../kernel-args.js';
import {
  Block, Unary, UnaryGrad, Binary, BinaryScalar, BiasAct, Reduce, Softmax, Transpose, Cast, Fill, Matmul, Conv, Pool, Adam,
  Sgd, Rmsprop, FmaPeak, NativeBlock, NativeKernel as K,
} from '../../kernels/params.js';
import { heap } from '../../tensor/heap.js';

/** What the addon exports (native/src/addon.cc). */
export interface NativeAddon {
  /** Registers a backend object's parameter block; returns "<isa> <slot>". */
  init(heapView: Uint8Array, params: Float64Array, isa?: string): string;
  /** Runs kernel `kernel` with the parameter block and instruction set of `slot`, on `threads` threads. */
  run(kernel: number, slot: number, threads: number): number;
  setThreads(n: number): number;
  threads(): number;
  isa(): string;
  supported(): string;
  /** The hash of the parameter layouts it was built with (PARAMS_LAYOUT of native/src/params.h); missing before them. */
  layout?(): number;
}

// Kernel ids (NativeKernel, imported as K) and each kernel's parameter slots are named in
// src/kernels/params.ts, the same layouts as the wasm kernels'; native/src/params.h is generated from it.

// Op and dtype codes (the same as the wasm kernels'): src/backend/kernel-args.ts.

const f32 = (...ts: Tensor[]): boolean => ts.every((t) => t.dtype === 'float32');
const ptr = (t: Tensor | null | undefined): number => (t ? t.offset : -1);

/** The methods the native kernels implement; everything else on a Backend is delegated. */
const NATIVE_METHODS = [
  'unary', 'unaryGrad', 'binary', 'binaryScalar', 'reduce', 'softmax', 'transpose', 'cast', 'matmul', 'biasAct',
  'conv2d', 'conv2dGradInput', 'conv2dGradFilter', 'maxPool2d', 'maxPool2dGrad', 'maxPool2dGradRelu', 'avgPool2d', 'avgPool2dGrad',
  'adamUpdate', 'sgdUpdate', 'rmspropUpdate',
] as const;

/** Backend methods without a native kernel are added at construction (delegated): the interface says they exist. */
// eslint-disable-next-line @typescript-eslint/no-empty-interface
export interface NativeBackend extends Backend {}

export class NativeBackend extends HeapStorage implements Backend {
  readonly name = 'native';
  /** The instruction set the kernels run with: 'avx512', 'avx2' or 'portable'. */
  readonly isa: string;
  /** Backend methods this class hands to the fallback backend (found at construction). */
  readonly delegatedMethods: string[] = [];
  private readonly P = new Float64Array(NativeBlock.SLOTS);
  private nThreads = 1;
  private readonly slot: number;
  private fb: Backend | undefined;
  private ref: ReferenceBackend | undefined;

  constructor(private readonly addon: NativeAddon, heapBuffer: ArrayBufferLike, threads: number,
    private readonly makeFallback: () => Backend, isa?: string) {
    super();
    const [picked, slot] = addon.init(new Uint8Array(heapBuffer), this.P, isa).split(' ');
    this.isa = picked;
    this.slot = Number(slot);
    this.setThreads(threads);
    // Delegate every Backend method that is not native here (methods added to the interface later):
    // the methods both the reference and the wasm backend have (each one's private helpers are its own).
    const self = this as unknown as Record<string, unknown>;
    const wasmNames = new Set(Object.getOwnPropertyNames(WasmBackend.prototype));
    for (const n of Object.getOwnPropertyNames(ReferenceBackend.prototype)) {
      if (n === 'constructor' || n in NativeBackend.prototype || (NATIVE_METHODS as readonly string[]).includes(n)) continue;
      if (typeof (ReferenceBackend.prototype as unknown as Record<string, unknown>)[n] !== 'function') continue;
      // Listed when the wasm backend has it too (the reference's private helpers are delegated, not listed).
      if (wasmNames.has(n)) this.delegatedMethods.push(n);
      self[n] = (...args: unknown[]) => {
        const fb = this.fallback() as unknown as Record<string, (...a: unknown[]) => unknown>;
        if (typeof fb[n] === 'function') return fb[n](...args);
        this.ref ??= new ReferenceBackend();
        return (this.ref as unknown as Record<string, (...a: unknown[]) => unknown>)[n](...args);
      };
    }
  }

  get threads(): number { return this.nThreads; }

  setThreads(n: number): void {
    this.nThreads = this.addon.setThreads(Math.max(1, Math.min(64, Math.floor(n))));
    this.fb?.setThreads(this.nThreads);
  }

  /** The backend that runs what the kernels do not (wasm, else reference), created on first use. */
  fallback(): Backend {
    if (!this.fb) { this.fb = this.makeFallback(); this.fb.setThreads(this.nThreads); }
    return this.fb;
  }

  private run(kernel: K): void { this.addon.run(kernel, this.slot, this.nThreads); }

  // ---- elementwise ---------------------------------------------------------------------------

  unary(op: UnaryOp, x: Tensor, out: Tensor, alpha: number): void {
    if (!f32(x, out)) return this.fallback().unary(op, x, out, alpha);
    const P = this.P;
    P[Unary.N] = out.size; P[Unary.OP] = UNARY_CODE.get(op)!; P[Unary.ALPHA] = alpha; P[Unary.X] = x.offset; P[Unary.OUT] = out.offset;
    this.run(K.UNARY);
  }

  unaryGrad(op: Activation, x: Tensor, y: Tensor, dy: Tensor, dx: Tensor, alpha: number): void {
    if (!f32(x, y, dy, dx)) return this.fallback().unaryGrad(op, x, y, dy, dx, alpha);
    const P = this.P;
    P[UnaryGrad.N] = dx.size; P[UnaryGrad.OP] = UNARY_CODE.get(op)!; P[UnaryGrad.ALPHA] = alpha;
    P[UnaryGrad.X] = x.offset; P[UnaryGrad.Y] = y.offset; P[UnaryGrad.DY] = dy.offset; P[UnaryGrad.DX] = dx.offset;
    this.run(K.UNARY_GRAD);
  }

  binary(op: BinaryOp, a: Tensor, b: Tensor, out: Tensor, p: BroadcastParams): void {
    if (!f32(a, b, out)) return this.fallback().binary(op, a, b, out, p);
    if (out.size === 0) return;
    const { shape, aStrides: as, bStrides: bs } = mergeBroadcastAxes(p);
    if (shape.length > Block.MAX_RANK) return this.fallback().binary(op, a, b, out, p);
    const P = this.P;
    P[Binary.RANK] = shape.length; P[Binary.OP] = BINARY_CODE[op]; P[Binary.A] = a.offset; P[Binary.B] = b.offset; P[Binary.OUT] = out.offset;
    for (let d = 0; d < shape.length; d++) { P[Binary.SHAPE + d] = shape[d]; P[Binary.A_STRIDES + d] = as[d]; P[Binary.B_STRIDES + d] = bs[d]; }
    this.run(K.BINARY);
  }

  binaryScalar(op: BinaryOp, x: Tensor, s: number, out: Tensor, reverse: boolean): void {
    if (!f32(x, out)) return this.fallback().binaryScalar(op, x, s, out, reverse);
    const P = this.P;
    P[BinaryScalar.N] = out.size; P[BinaryScalar.OP] = BINARY_CODE[op]; P[BinaryScalar.REVERSE] = reverse ? 1 : 0;
    P[BinaryScalar.S] = s; P[BinaryScalar.X] = x.offset; P[BinaryScalar.OUT] = out.offset;
    this.run(K.BINARY_SCALAR);
  }

  reduce(op: ReduceOp, x: Tensor, out: Tensor, outer: number, n: number, inner: number): void {
    if (!f32(x, out)) return this.fallback().reduce(op, x, out, outer, n, inner);
    const P = this.P;
    P[Reduce.OP] = REDUCE_CODE[op]; P[Reduce.OUTER] = outer; P[Reduce.N] = n; P[Reduce.INNER] = inner;
    P[Reduce.X] = x.offset; P[Reduce.OUT] = out.offset;
    this.run(K.REDUCE);
  }

  softmax(x: Tensor, out: Tensor, rows: number, cols: number): void {
    if (!f32(x, out)) return this.fallback().softmax(x, out, rows, cols);
    const P = this.P;
    P[Softmax.ROWS] = rows; P[Softmax.COLS] = cols; P[Softmax.X] = x.offset; P[Softmax.OUT] = out.offset;
    this.run(K.SOFTMAX);
  }

  transpose(x: Tensor, out: Tensor, perm: number[]): void {
    const rank = x.shape.length;
    if (rank === 0 || rank > Block.MAX_RANK || x.dtype !== out.dtype) return this.fallback().transpose(x, out, perm);
    if (out.size === 0) return;
    const strides = new Array<number>(rank);
    let s = 1;
    for (let d = rank - 1; d >= 0; d--) { strides[d] = s; s *= x.shape[d]; }
    const P = this.P;
    P[Transpose.RANK] = rank; P[Transpose.ELEM_BYTES] = BYTES[x.dtype]; P[Transpose.TOTAL] = out.size;
    P[Transpose.X] = x.offset; P[Transpose.OUT] = out.offset;
    for (let d = 0; d < rank; d++) { P[Transpose.SHAPE + d] = x.shape[perm[d]]; P[Transpose.STRIDES + d] = strides[perm[d]]; }
    this.run(K.TRANSPOSE);
  }

  cast(x: Tensor, out: Tensor): void {
    const P = this.P;
    P[Cast.N] = x.size; P[Cast.FROM] = DTYPE_CODE[x.dtype]; P[Cast.TO] = DTYPE_CODE[out.dtype]; P[Cast.X] = x.offset; P[Cast.OUT] = out.offset;
    this.run(K.CAST);
  }

  // ---- GEMM and convolutions -------------------------------------------------------------------

  matmul(a: Tensor, b: Tensor, out: Tensor, p: MatMulParams): void {
    if (!f32(a, b, out)) return this.fallback().matmul(a, b, out, p);
    const P = this.P;
    P[Matmul.M] = p.m; P[Matmul.N] = p.n; P[Matmul.K] = p.k; P[Matmul.A] = a.offset; P[Matmul.TRANS_A] = p.transA ? 1 : 0;
    P[Matmul.B] = b.offset; P[Matmul.TRANS_B] = p.transB ? 1 : 0; P[Matmul.C] = out.offset; P[Matmul.ACCUMULATE] = p.accumulate ? 1 : 0;
    this.run(K.MATMUL);
  }

  biasAct(x: Tensor, bias: Tensor | null, out: Tensor, rows: number, c: number, act: Activation, alpha: number): void {
    if (!f32(x, out) || (bias && bias.dtype !== 'float32')) return this.fallback().biasAct(x, bias, out, rows, c, act, alpha);
    const P = this.P;
    P[BiasAct.ROWS] = rows; P[BiasAct.C] = c; P[BiasAct.ACT] = UNARY_CODE.get(act)!; P[BiasAct.ALPHA] = alpha;
    P[BiasAct.X] = x.offset; P[BiasAct.BIAS] = ptr(bias); P[BiasAct.OUT] = out.offset;
    this.run(K.BIAS_ACT);
  }

  /** The convolution block: sizes, then the inputs in0 and in1, the bias (or null) and the output. */
  private conv(kernel: K, p: Conv2DParams, in0: Tensor, in1: Tensor, bias: Tensor | null, out: Tensor): void {
    const P = this.P;
    P[Conv.BATCH] = p.batch; P[Conv.IN_H] = p.inH; P[Conv.IN_W] = p.inW; P[Conv.IN_C] = p.inC;
    P[Conv.OUT_H] = p.outH; P[Conv.OUT_W] = p.outW; P[Conv.OUT_C] = p.outC; P[Conv.K_H] = p.kH; P[Conv.K_W] = p.kW;
    P[Conv.STRIDE_H] = p.strideH; P[Conv.STRIDE_W] = p.strideW; P[Conv.DILATION_H] = p.dilationH; P[Conv.DILATION_W] = p.dilationW;
    P[Conv.PAD_TOP] = p.padTop; P[Conv.PAD_LEFT] = p.padLeft;
    P[Conv.ACT] = UNARY_CODE.get(p.activation ?? 'linear')!; P[Conv.ALPHA] = p.alpha ?? 0;
    P[Conv.IN0] = in0.offset; P[Conv.IN1] = in1.offset; P[Conv.BIAS] = ptr(bias); P[Conv.OUT] = out.offset;
    this.run(kernel);
  }

  conv2d(x: Tensor, w: Tensor, bias: Tensor | null, out: Tensor, p: Conv2DParams): void {
    if (!f32(x, w, out) || (bias && bias.dtype !== 'float32')) return this.fallback().conv2d(x, w, bias, out, p);
    this.conv(K.CONV2D, p, x, w, bias, out);
  }

  conv2dGradInput(dy: Tensor, w: Tensor, dx: Tensor, p: Conv2DParams): void {
    if (!f32(dy, w, dx)) return this.fallback().conv2dGradInput(dy, w, dx, p);
    this.conv(K.CONV2D_GRAD_INPUT, p, dy, w, null, dx);
  }

  conv2dGradFilter(x: Tensor, dy: Tensor, dw: Tensor, p: Conv2DParams): void {
    if (!f32(x, dy, dw)) return this.fallback().conv2dGradFilter(x, dy, dw, p);
    this.conv(K.CONV2D_GRAD_FILTER, p, x, dy, null, dw);
  }

  // ---- pooling -------------------------------------------------------------------------------

  /** The pooling block: x (or -1), y (out or dy), dx (or -1), as heap offsets. */
  private pool(kernel: K, p: Pool2DParams, x: number, y: number, dx: number): void {
    const P = this.P;
    P[Pool.BATCH] = p.batch; P[Pool.IN_H] = p.inH; P[Pool.IN_W] = p.inW; P[Pool.C] = p.channels; P[Pool.OUT_H] = p.outH; P[Pool.OUT_W] = p.outW;
    P[Pool.H] = p.poolH; P[Pool.W] = p.poolW; P[Pool.STRIDE_H] = p.strideH; P[Pool.STRIDE_W] = p.strideW;
    P[Pool.PAD_TOP] = p.padTop; P[Pool.PAD_LEFT] = p.padLeft;
    P[Pool.X] = x; P[Pool.Y] = y; P[Pool.DX] = dx;
    this.run(kernel);
  }

  maxPool2d(x: Tensor, out: Tensor, p: Pool2DParams): void {
    if (!f32(x, out)) return this.fallback().maxPool2d(x, out, p);
    this.pool(K.MAX_POOL, p, x.offset, out.offset, -1);
  }

  maxPool2dGrad(x: Tensor, dy: Tensor, dx: Tensor, p: Pool2DParams): void {
    if (!f32(x, dy, dx)) return this.fallback().maxPool2dGrad(x, dy, dx, p);
    this.pool(K.MAX_POOL_GRAD, p, x.offset, dy.offset, dx.offset);
  }

  maxPool2dGradRelu(x: Tensor, dy: Tensor, dx: Tensor, p: Pool2DParams): void {
    if (!f32(x, dy, dx)) { this.maxPool2dGrad(x, dy, dx, p); this.unaryGrad('relu', x, x, dx, dx, 0); return; }
    this.pool(K.MAX_POOL_GRAD_RELU, p, x.offset, dy.offset, dx.offset);
  }

  avgPool2d(x: Tensor, out: Tensor, p: Pool2DParams): void {
    if (!f32(x, out)) return this.fallback().avgPool2d(x, out, p);
    this.pool(K.AVG_POOL, p, x.offset, out.offset, -1);
  }

  avgPool2dGrad(dy: Tensor, dx: Tensor, p: Pool2DParams): void {
    if (!f32(dy, dx)) return this.fallback().avgPool2dGrad(dy, dx, p);
    this.pool(K.AVG_POOL_GRAD, p, -1, dy.offset, dx.offset);
  }

  // ---- optimizers ------------------------------------------------------------------------------

  adamUpdate(param: Tensor, grad: Tensor, m: Tensor, v: Tensor, vhat: Tensor | null, p: AdamParams): void {
    if (!f32(param, grad, m, v)) return this.fallback().adamUpdate(param, grad, m, v, vhat, p);
    const P = this.P;
    P[Adam.N] = param.size; P[Adam.W] = param.offset; P[Adam.G] = grad.offset; P[Adam.M] = m.offset; P[Adam.V] = v.offset;
    P[Adam.VHAT] = vhat && p.amsgrad ? vhat.offset : -1;
    P[Adam.LR_T] = p.lr * Math.sqrt(1 - Math.pow(p.beta2, p.step)) / (1 - Math.pow(p.beta1, p.step));
    P[Adam.C1] = 1 - p.beta1; P[Adam.C2] = 1 - p.beta2; P[Adam.EPS] = p.epsilon; P[Adam.WD] = p.weightDecay * p.lr;
    this.run(K.ADAM);
  }

  sgdUpdate(param: Tensor, grad: Tensor, velocity: Tensor | null, p: SGDParams): void {
    if (!f32(param, grad)) return this.fallback().sgdUpdate(param, grad, velocity, p);
    const P = this.P;
    P[Sgd.N] = param.size; P[Sgd.W] = param.offset; P[Sgd.G] = grad.offset; P[Sgd.VEL] = ptr(velocity);
    P[Sgd.LR] = p.lr; P[Sgd.MOMENTUM] = p.momentum; P[Sgd.NESTEROV] = p.nesterov ? 1 : 0; P[Sgd.WD] = p.weightDecay * p.lr;
    this.run(K.SGD);
  }

  rmspropUpdate(param: Tensor, grad: Tensor, ms: Tensor, mom: Tensor | null, mg: Tensor | null, p: RMSpropParams): void {
    if (!f32(param, grad, ms)) return this.fallback().rmspropUpdate(param, grad, ms, mom, mg, p);
    const P = this.P;
    P[Rmsprop.N] = param.size; P[Rmsprop.W] = param.offset; P[Rmsprop.G] = grad.offset; P[Rmsprop.MS] = ms.offset;
    P[Rmsprop.MOM] = ptr(mom); P[Rmsprop.MG] = ptr(mg); P[Rmsprop.LR] = p.lr; P[Rmsprop.RHO] = p.rho;
    P[Rmsprop.MOMENTUM] = p.momentum; P[Rmsprop.EPS] = p.epsilon; P[Rmsprop.CENTERED] = p.centered ? 1 : 0;
    this.run(K.RMSPROP);
  }

  /** Sets every element of t (the fill kernel for float32, host code otherwise). */
  override fill(t: Tensor, value: number): void {
    t.assertLive('fill');
    if (t.dtype === 'float32') this.fillF32(t.offset, t.size, value);
    else super.fill(t, value);
  }

  /**
   * The FMA peak of one core (GFLOP/s, wall clock and per CPU-second): 24 independent vector
   * multiply-add chains on the calling thread for about `seconds`, the best of three. The bench sets
   * the GEMM beside it: no kernel can beat what the core's multiply-add units do on that day.
   */
  fmaPeak(seconds = 0.3): { wall: number; cpu: number; lanes: number } {
    const P = this.P;
    const out = this.alloc(8) as number;
    try {
      let best = { wall: 0, cpu: 0 }, lanes = 0, iters = 1 << 16;
      for (let r = 0; r < 3; r++) {
        for (;;) {
          P[FmaPeak.ITERS] = iters; P[FmaPeak.OUT] = out;
          const t = performance.now(), c = process.cpuUsage();
          this.addon.run(K.FMA_PEAK, this.slot, 1);
          const wall = (performance.now() - t) / 1000, u = process.cpuUsage(c), cpu = (u.user + u.system) / 1e6;
          lanes = new Float32Array(heap().memory.buffer, out + 4, 1)[0];
          const flops = iters * 24 * lanes * 2;
          if (wall < seconds / 3 && r === 0) { iters *= 2; continue; }
          best = { wall: Math.max(best.wall, flops / wall / 1e9), cpu: Math.max(best.cpu, cpu > 0 ? flops / cpu / 1e9 : 0) };
          break;
        }
      }
      return { ...best, lanes };
    } finally {
      this.release(out);
    }
  }

  /** Fills n floats at a heap byte offset. */
  fillF32(offset: number, n: number, value: number): void {
    const P = this.P;
    P[Fill.N] = n; P[Fill.VALUE] = value; P[Fill.PTR] = offset;
    this.run(K.FILL);
  }
}
