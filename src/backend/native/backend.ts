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
import type { DType } from '../../tensor/dtype.js';
import { BYTES } from '../../tensor/dtype.js';
import { ReferenceBackend } from '../reference.js';
import { WasmBackend } from '../wasm/backend.js';
import { HeapStorage } from '../heap-storage.js';
import { UNARY_TABLE } from '../activations.js';

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
}

/** Kernel ids (native/src/common.h). */
const K = {
  matmul: 0, conv2d: 1, conv2dGradInput: 2, conv2dGradFilter: 3, maxPool: 4, maxPoolGrad: 5, avgPool: 6, avgPoolGrad: 7,
  unary: 8, unaryGrad: 9, binary: 10, binaryScalar: 11, biasAct: 12, reduce: 13, softmax: 14, transpose: 15, cast: 16,
  adam: 17, sgd: 18, rmsprop: 19, fill: 20,
} as const;

/** Unary op codes (native/src/kernels.inc, the same codes as the wasm kernels'): the `code` column of the activation table. */
const UNARY_CODE = new Map<UnaryOp, number>(Object.entries(UNARY_TABLE).map(([op, r]) => [op as UnaryOp, r.code]));
const BINARY_CODE: Record<BinaryOp, number> = { add: 0, sub: 1, mul: 2, div: 3, max: 4, min: 5, pow: 6, greater: 7, less: 8, equal: 9 };
const REDUCE_CODE: Record<ReduceOp, number> = { sum: 0, max: 1, min: 2, mean: 3, prod: 4 };
const DTYPE_CODE: Record<DType, number> = { float32: 0, int32: 1, uint8: 2, float64: 3 };

const f32 = (...ts: Tensor[]): boolean => ts.every((t) => t.dtype === 'float32');
const ptr = (t: Tensor | null | undefined): number => (t ? t.offset : -1);

/** The methods the native kernels implement; everything else on a Backend is delegated. */
const NATIVE_METHODS = [
  'unary', 'unaryGrad', 'binary', 'binaryScalar', 'reduce', 'softmax', 'transpose', 'cast', 'matmul', 'biasAct',
  'conv2d', 'conv2dGradInput', 'conv2dGradFilter', 'maxPool2d', 'maxPool2dGrad', 'avgPool2d', 'avgPool2dGrad',
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
  private readonly P = new Float64Array(64);
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

  private run(kernel: number): void { this.addon.run(kernel, this.slot, this.nThreads); }

  // ---- elementwise ---------------------------------------------------------------------------

  unary(op: UnaryOp, x: Tensor, out: Tensor, alpha: number): void {
    if (!f32(x, out)) return this.fallback().unary(op, x, out, alpha);
    const P = this.P;
    P[0] = out.size; P[1] = UNARY_CODE.get(op)!; P[2] = alpha; P[3] = x.offset; P[4] = out.offset;
    this.run(K.unary);
  }

  unaryGrad(op: Activation, x: Tensor, y: Tensor, dy: Tensor, dx: Tensor, alpha: number): void {
    if (!f32(x, y, dy, dx)) return this.fallback().unaryGrad(op, x, y, dy, dx, alpha);
    const P = this.P;
    P[0] = dx.size; P[1] = UNARY_CODE.get(op)!; P[2] = alpha; P[3] = x.offset; P[4] = y.offset; P[5] = dy.offset; P[6] = dx.offset;
    this.run(K.unaryGrad);
  }

  binary(op: BinaryOp, a: Tensor, b: Tensor, out: Tensor, p: BroadcastParams): void {
    if (!f32(a, b, out)) return this.fallback().binary(op, a, b, out, p);
    if (out.size === 0) return;
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
    if (shape.length > 8) return this.fallback().binary(op, a, b, out, p);
    const P = this.P;
    P[0] = shape.length; P[1] = BINARY_CODE[op]; P[2] = a.offset; P[3] = b.offset; P[4] = out.offset;
    for (let d = 0; d < shape.length; d++) { P[8 + d] = shape[d]; P[16 + d] = as[d]; P[24 + d] = bs[d]; }
    this.run(K.binary);
  }

  binaryScalar(op: BinaryOp, x: Tensor, s: number, out: Tensor, reverse: boolean): void {
    if (!f32(x, out)) return this.fallback().binaryScalar(op, x, s, out, reverse);
    const P = this.P;
    P[0] = out.size; P[1] = BINARY_CODE[op]; P[2] = reverse ? 1 : 0; P[3] = s; P[4] = x.offset; P[5] = out.offset;
    this.run(K.binaryScalar);
  }

  reduce(op: ReduceOp, x: Tensor, out: Tensor, outer: number, n: number, inner: number): void {
    if (!f32(x, out)) return this.fallback().reduce(op, x, out, outer, n, inner);
    const P = this.P;
    P[0] = REDUCE_CODE[op]; P[1] = outer; P[2] = n; P[3] = inner; P[4] = x.offset; P[5] = out.offset;
    this.run(K.reduce);
  }

  softmax(x: Tensor, out: Tensor, rows: number, cols: number): void {
    if (!f32(x, out)) return this.fallback().softmax(x, out, rows, cols);
    const P = this.P;
    P[0] = rows; P[1] = cols; P[2] = x.offset; P[3] = out.offset;
    this.run(K.softmax);
  }

  transpose(x: Tensor, out: Tensor, perm: number[]): void {
    const rank = x.shape.length;
    if (rank === 0 || rank > 8 || x.dtype !== out.dtype) return this.fallback().transpose(x, out, perm);
    if (out.size === 0) return;
    const strides = new Array<number>(rank);
    let s = 1;
    for (let d = rank - 1; d >= 0; d--) { strides[d] = s; s *= x.shape[d]; }
    const P = this.P;
    P[0] = rank; P[1] = BYTES[x.dtype]; P[2] = out.size; P[3] = x.offset; P[4] = out.offset;
    for (let d = 0; d < rank; d++) { P[8 + d] = x.shape[perm[d]]; P[16 + d] = strides[perm[d]]; }
    this.run(K.transpose);
  }

  cast(x: Tensor, out: Tensor): void {
    const P = this.P;
    P[0] = x.size; P[1] = DTYPE_CODE[x.dtype]; P[2] = DTYPE_CODE[out.dtype]; P[3] = x.offset; P[4] = out.offset;
    this.run(K.cast);
  }

  // ---- GEMM and convolutions -------------------------------------------------------------------

  matmul(a: Tensor, b: Tensor, out: Tensor, p: MatMulParams): void {
    if (!f32(a, b, out)) return this.fallback().matmul(a, b, out, p);
    const P = this.P;
    P[0] = p.m; P[1] = p.n; P[2] = p.k; P[3] = a.offset; P[4] = p.transA ? 1 : 0; P[5] = b.offset; P[6] = p.transB ? 1 : 0;
    P[7] = out.offset; P[8] = p.accumulate ? 1 : 0;
    this.run(K.matmul);
  }

  biasAct(x: Tensor, bias: Tensor | null, out: Tensor, rows: number, c: number, act: Activation, alpha: number): void {
    if (!f32(x, out) || (bias && bias.dtype !== 'float32')) return this.fallback().biasAct(x, bias, out, rows, c, act, alpha);
    const P = this.P;
    P[0] = rows; P[1] = c; P[2] = UNARY_CODE.get(act)!; P[3] = alpha; P[4] = x.offset; P[5] = ptr(bias); P[6] = out.offset;
    this.run(K.biasAct);
  }

  private convParams(p: Conv2DParams): void {
    const P = this.P;
    P[0] = p.batch; P[1] = p.inH; P[2] = p.inW; P[3] = p.inC; P[4] = p.outH; P[5] = p.outW; P[6] = p.outC;
    P[7] = p.kH; P[8] = p.kW; P[9] = p.strideH; P[10] = p.strideW; P[11] = p.dilationH; P[12] = p.dilationW;
    P[13] = p.padTop; P[14] = p.padLeft; P[15] = UNARY_CODE.get(p.activation ?? 'linear')!; P[16] = p.alpha ?? 0;
  }

  conv2d(x: Tensor, w: Tensor, bias: Tensor | null, out: Tensor, p: Conv2DParams): void {
    if (!f32(x, w, out) || (bias && bias.dtype !== 'float32')) return this.fallback().conv2d(x, w, bias, out, p);
    this.convParams(p);
    const P = this.P;
    P[17] = x.offset; P[18] = w.offset; P[19] = ptr(bias); P[20] = out.offset;
    this.run(K.conv2d);
  }

  conv2dGradInput(dy: Tensor, w: Tensor, dx: Tensor, p: Conv2DParams): void {
    if (!f32(dy, w, dx)) return this.fallback().conv2dGradInput(dy, w, dx, p);
    this.convParams(p);
    const P = this.P;
    P[17] = dy.offset; P[18] = w.offset; P[19] = -1; P[20] = dx.offset;
    this.run(K.conv2dGradInput);
  }

  conv2dGradFilter(x: Tensor, dy: Tensor, dw: Tensor, p: Conv2DParams): void {
    if (!f32(x, dy, dw)) return this.fallback().conv2dGradFilter(x, dy, dw, p);
    this.convParams(p);
    const P = this.P;
    P[17] = x.offset; P[18] = dy.offset; P[19] = -1; P[20] = dw.offset;
    this.run(K.conv2dGradFilter);
  }

  // ---- pooling -------------------------------------------------------------------------------

  private pool(kernel: number, p: Pool2DParams, a: number, b: number, c: number): void {
    const P = this.P;
    P[0] = p.batch; P[1] = p.inH; P[2] = p.inW; P[3] = p.channels; P[4] = p.outH; P[5] = p.outW;
    P[6] = p.poolH; P[7] = p.poolW; P[8] = p.strideH; P[9] = p.strideW; P[10] = p.padTop; P[11] = p.padLeft;
    P[12] = a; P[13] = b; P[14] = c;
    this.run(kernel);
  }

  maxPool2d(x: Tensor, out: Tensor, p: Pool2DParams): void {
    if (!f32(x, out)) return this.fallback().maxPool2d(x, out, p);
    this.pool(K.maxPool, p, x.offset, out.offset, -1);
  }

  maxPool2dGrad(x: Tensor, dy: Tensor, dx: Tensor, p: Pool2DParams): void {
    if (!f32(x, dy, dx)) return this.fallback().maxPool2dGrad(x, dy, dx, p);
    this.pool(K.maxPoolGrad, p, x.offset, dy.offset, dx.offset);
  }

  avgPool2d(x: Tensor, out: Tensor, p: Pool2DParams): void {
    if (!f32(x, out)) return this.fallback().avgPool2d(x, out, p);
    this.pool(K.avgPool, p, x.offset, out.offset, -1);
  }

  avgPool2dGrad(dy: Tensor, dx: Tensor, p: Pool2DParams): void {
    if (!f32(dy, dx)) return this.fallback().avgPool2dGrad(dy, dx, p);
    this.pool(K.avgPoolGrad, p, -1, dy.offset, dx.offset);
  }

  // ---- optimizers ------------------------------------------------------------------------------

  adamUpdate(param: Tensor, grad: Tensor, m: Tensor, v: Tensor, vhat: Tensor | null, p: AdamParams): void {
    if (!f32(param, grad, m, v)) return this.fallback().adamUpdate(param, grad, m, v, vhat, p);
    const P = this.P;
    P[0] = param.size; P[1] = param.offset; P[2] = grad.offset; P[3] = m.offset; P[4] = v.offset;
    P[5] = vhat && p.amsgrad ? vhat.offset : -1;
    P[6] = p.lr * Math.sqrt(1 - Math.pow(p.beta2, p.step)) / (1 - Math.pow(p.beta1, p.step));
    P[7] = 1 - p.beta1; P[8] = 1 - p.beta2; P[9] = p.epsilon; P[10] = p.weightDecay * p.lr;
    this.run(K.adam);
  }

  sgdUpdate(param: Tensor, grad: Tensor, velocity: Tensor | null, p: SGDParams): void {
    if (!f32(param, grad)) return this.fallback().sgdUpdate(param, grad, velocity, p);
    const P = this.P;
    P[0] = param.size; P[1] = param.offset; P[2] = grad.offset; P[3] = ptr(velocity);
    P[4] = p.lr; P[5] = p.momentum; P[6] = p.nesterov ? 1 : 0; P[7] = p.weightDecay * p.lr;
    this.run(K.sgd);
  }

  rmspropUpdate(param: Tensor, grad: Tensor, ms: Tensor, mom: Tensor | null, mg: Tensor | null, p: RMSpropParams): void {
    if (!f32(param, grad, ms)) return this.fallback().rmspropUpdate(param, grad, ms, mom, mg, p);
    const P = this.P;
    P[0] = param.size; P[1] = param.offset; P[2] = grad.offset; P[3] = ms.offset; P[4] = ptr(mom); P[5] = ptr(mg);
    P[6] = p.lr; P[7] = p.rho; P[8] = p.momentum; P[9] = p.epsilon; P[10] = p.centered ? 1 : 0;
    this.run(K.rmsprop);
  }

  /** Sets every element of t (the fill kernel for float32, host code otherwise). */
  override fill(t: Tensor, value: number): void {
    t.assertLive('fill');
    if (t.dtype === 'float32') this.fillF32(t.offset, t.size, value);
    else super.fill(t, value);
  }

  /** Fills n floats at a heap byte offset. */
  fillF32(offset: number, n: number, value: number): void {
    const P = this.P;
    P[0] = n; P[1] = value; P[2] = offset;
    this.run(K.fill);
  }
}
