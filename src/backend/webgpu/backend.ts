/**
 * The webgpu backend: every Backend method as a WGSL compute kernel (src/backend/webgpu/wgsl.ts).
 *
 * Memory. Until tensor storage moves behind the Backend seam (issue 14 step 1), tensors live in the
 * WebAssembly heap and this backend mirrors them: the first time a tensor is an input its bytes are
 * uploaded to a GPU buffer; outputs are written on the GPU only and marked newer than the heap.
 * `await read(t)` (or `await sync()` for every such tensor) copies GPU results back into the heap,
 * after which `view()`/`dataSync()` see them. A tensor written on the host after its first GPU use
 * is not re-uploaded. Every lookup of a tensor's GPUBuffer goes through `bufferOf()`, the one place
 * that changes when tensors carry a backend-owned handle.
 *
 * Buffers come from a pool by size class and return to it when the tensor's heap block is released
 * (swept every few calls). Pipelines are compiled once per kernel variant and cached. Each call
 * writes its parameters into one 128-byte uniform buffer and submits its own command buffer; the
 * queue orders writes and dispatches, so pooled buffers are reused right after a submit.
 */
import type {
  Backend, UnaryOp, Activation, BinaryOp, ReduceOp, BroadcastParams, MatMulParams, Conv2DParams,
  Pool2DParams, AdamParams, SGDParams, RMSpropParams, DepthwiseConv2DParams, ResizeAxis, FillMode, ImageInterpolation,
} from '../backend.js';
import type { Tensor } from '../../tensor/tensor.js';
import { BYTES, type TypedArray } from '../../tensor/dtype.js';
import { heap } from '../../tensor/heap.js';
import type { Rng } from '../../tensor/random.js';
import * as K from './wgsl.js';
import { castF64Shader } from './wgsl-f64.js';

// Minimal structural types of the WebGPU API this file uses (TypeScript's DOM lib has none yet).
export interface GpuBuffer { readonly size: number; destroy(): void; mapAsync(mode: number): Promise<void>; getMappedRange(): ArrayBuffer; unmap(): void }
interface GpuPipeline { getBindGroupLayout(i: number): unknown }
interface GpuPass { setPipeline(p: GpuPipeline): void; setBindGroup(i: number, g: unknown): void; dispatchWorkgroups(x: number, y?: number, z?: number): void; end(): void }
interface GpuEncoder { beginComputePass(): GpuPass; copyBufferToBuffer(s: GpuBuffer, so: number, d: GpuBuffer, doff: number, n: number): void; finish(): unknown }
export interface GpuDevice {
  readonly limits: Record<string, number>;
  readonly queue: { writeBuffer(b: GpuBuffer, off: number, data: ArrayBufferView | ArrayBufferLike, dataOff?: number, size?: number): void; submit(c: unknown[]): void; onSubmittedWorkDone(): Promise<void> };
  createBuffer(d: { size: number; usage: number }): GpuBuffer;
  createShaderModule(d: { code: string }): unknown;
  createComputePipeline(d: { layout: 'auto'; compute: { module: unknown; entryPoint: string } }): GpuPipeline;
  createBindGroup(d: { layout: unknown; entries: { binding: number; resource: { buffer: GpuBuffer; offset?: number; size?: number } }[] }): unknown;
  createCommandEncoder(): GpuEncoder;
  addEventListener?(type: string, fn: (e: { error?: { message?: string } }) => void): void;
  destroy?(): void;
}

const USAGE = { MAP_READ: 1, COPY_SRC: 4, COPY_DST: 8, UNIFORM: 0x40, STORAGE: 0x80 };
const MAP_MODE_READ = 1;
const MAX_GROUPS = 65535;

/** A GPU copy of a tensor's bytes; `dirty` when the GPU holds newer data than the heap. */
interface Mirror { buf: GpuBuffer; bytes: number; dirty: boolean }
type Use = 'in' | 'out' | 'inout';
/**
 * Where a tensor's bytes are: a buffer, and for views inside a block their byte range. `ragged`: the
 * exact byte length of a uint8 range that shares its first or last 32-bit word with other bytes
 * (`offset` is then its byte offset, any alignment): kernels see it staged in a temporary buffer,
 * moved in and out byte by byte (copyBytesShader), since WGSL stores whole words.
 */
interface Loc { buf: GpuBuffer; offset?: number; size?: number; ragged?: number }
interface Binding extends Loc { binding: number; write?: boolean }
type Entry = { binding: number; resource: { buffer: GpuBuffer; offset?: number; size?: number } };

/** A webgpu tensor block (the DataId of this backend's storage). */
export class GpuBlock {
  /**
   * For small blocks written only from the host (learning rates, step counters, labels): a copy of
   * the bytes, so that `dataSync()` works on them; dropped when a kernel writes the block.
   */
  shadow: Uint8Array | null = null;
  /** `bytes`: the buffer bytes in use (a multiple of 4); `used`: the bytes asked for (a uint8 block may end mid-word). */
  constructor(readonly buf: GpuBuffer, readonly bytes: number, readonly used = bytes) {}
}

/** Largest block kept with a host copy. */
const SHADOW_BYTES = 1 << 16;

const TYPED = { float32: Float32Array, int32: Int32Array, uint8: Uint8Array, float64: Float64Array } as const;
const round4 = (n: number): number => Math.ceil(n / 4) * 4;

/** Size classes: 256 bytes, then 2^k and 1.5 * 2^k. */
function sizeClass(bytes: number): number {
  let c = 256;
  while (c < bytes) {
    const mid = c + c / 2;
    if (mid >= bytes) return mid;
    c *= 2;
  }
  return c;
}

/** copyBytesShader's params: rows of w bytes, source rows sW apart from byte sOff, destination rows dW apart from dOff. */
function bytesParams(outer: number, w: number, sW: number, sOff: number, dW: number, dOff: number): Uint32Array {
  const u = new Uint32Array(K.PARAM_WORDS);
  const first = Math.floor(dOff / 4), end = dOff + (outer - 1) * dW + w;
  u.set([w, sW, sOff, dW, dOff, outer, first, Math.ceil(end / 4) - first]);
  return u;
}

function grid(groups: number): [number, number] {
  if (groups <= MAX_GROUPS) return [Math.max(groups, 1), 1];
  const y = Math.ceil(groups / MAX_GROUPS);
  return [Math.ceil(groups / y), y];
}

function convWords(u: Uint32Array, f: Float32Array, p: Conv2DParams): void {
  const w = [p.batch, p.inH, p.inW, p.inC, p.outH, p.outW, p.outC, p.kH, p.kW, p.strideH, p.strideW, p.dilationH, p.dilationW, p.padTop, p.padLeft];
  for (let i = 0; i < w.length; i++) u[8 + i] = w[i];
  f[23] = p.alpha;
  u[24] = K.UNARY_CODES.indexOf(p.activation);
}

function poolWords(u: Uint32Array, p: Pool2DParams): void {
  const w = [p.batch, p.inH, p.inW, p.channels, p.outH, p.outW, p.poolH, p.poolW, p.strideH, p.strideW, p.padTop, p.padLeft];
  for (let i = 0; i < w.length; i++) u[4 + i] = w[i];
}

export class WebGPUBackend implements Backend {
  readonly name = 'webgpu';
  readonly storage = 'webgpu';
  get threads(): number { return 1; }
  setThreads(_n: number): void { /* the GPU schedules its own parallelism */ }

  private readonly pipelines = new Map<string, GpuPipeline>();
  private readonly pool = new Map<number, GpuBuffer[]>();
  private readonly uniforms: GpuBuffer[] = [];
  private readonly mirrors = new Map<object, Map<string, Mirror>>();
  private calls = 0;
  private errors: string[] = [];
  /** Bytes of GPU buffers created (pooled or in use). */
  bytesAllocated = 0;

  constructor(readonly device: GpuDevice, readonly adapterName = 'webgpu') {
    device.addEventListener?.('uncapturederror', (e) => { if (this.errors.length < 3) this.errors.push((e.error?.message ?? String(e)).split('\n - While')[0]); });
  }

  // ---- memory ----------------------------------------------------------------------------------------

  private acquire(bytes: number): GpuBuffer {
    const cls = sizeClass(bytes);
    const free = this.pool.get(cls);
    if (free?.length) return free.pop()!;
    this.bytesAllocated += cls;
    return this.device.createBuffer({ size: cls, usage: USAGE.STORAGE | USAGE.COPY_SRC | USAGE.COPY_DST });
  }

  private releaseBuffer(b: GpuBuffer): void {
    let free = this.pool.get(b.size);
    if (!free) this.pool.set(b.size, (free = []));
    free.push(b);
  }

  /** Returns the buffers of tensors whose heap blocks were released to the pool. */
  private sweep(): void {
    for (const [storage, m] of this.mirrors) {
      if ((storage as { refs: number }).refs > 0) continue;
      for (const e of m.values()) this.releaseBuffer(e.buf);
      this.mirrors.delete(storage);
    }
  }

  /**
   * Where tensor `t` is on the GPU (the one lookup every kernel goes through): its block when this
   * backend stores it, else (a tensor in the WebAssembly heap, made before webgpu was selected) a
   * mirror: 'in' uploads the heap bytes on first use; 'out' and 'inout' mark the GPU copy newer.
   */
  private loc(t: Tensor, use: Use): Loc {
    if (t.disposed) throw new Error(`convnet: webgpu: a released tensor (${t.shape.join('x')}) was passed to a kernel`);
    if (this.mine(t)) {
      const blk = t.dataId as GpuBlock;
      if (use !== 'in') blk.shadow = null;
      const off = t.byteOffset, n = t.size * BYTES[t.dtype];
      // (an input may be read in whole words past its end; an output must leave those bytes alone)
      if (off % 4 || (use !== 'in' && n % 4 && off + n < blk.used)) return { buf: blk.buf, offset: off, size: n, ragged: n };
      if (off === 0) return { buf: blk.buf };
      return { buf: blk.buf, offset: off, size: round4(n) };
    }
    return { buf: this.bufferOf(t, use) };
  }

  private bufferOf(t: Tensor, use: Use): GpuBuffer {
    const storage = (t as unknown as { storage: object }).storage;
    let m = this.mirrors.get(storage);
    if (!m) this.mirrors.set(storage, (m = new Map()));
    const bytes = Math.max(4, Math.ceil((t.size * BYTES[t.dtype]) / 4) * 4);
    const key = `${t.offset}:${bytes}`;
    let e = m.get(key);
    if (!e) {
      e = { buf: this.acquire(bytes), bytes, dirty: false };
      m.set(key, e);
      if (use !== 'out') this.upload(t, e.buf);
    }
    if (use !== 'in') e.dirty = true;
    return e.buf;
  }

  private upload(t: Tensor, buf: GpuBuffer): void {
    const v = t.view();
    const n = v.byteLength;
    if (n === 0) return;
    const bytes = new Uint8Array(Math.ceil(n / 4) * 4);
    bytes.set(new Uint8Array(v.buffer, v.byteOffset, n));
    this.device.queue.writeBuffer(buf, 0, bytes.buffer, 0, bytes.byteLength);
  }

  /** Copies GPU results of these tensors back into the heap (those newer on the GPU). */
  private async download(list: { t: Tensor; e: Mirror }[]): Promise<void> {
    if (!list.length) return;
    const enc = this.device.createCommandEncoder();
    const staging = list.map(({ e }) => {
      const s = this.device.createBuffer({ size: e.bytes, usage: USAGE.MAP_READ | USAGE.COPY_DST });
      enc.copyBufferToBuffer(e.buf, 0, s, 0, e.bytes);
      return s;
    });
    this.device.queue.submit([enc.finish()]);
    await Promise.all(staging.map((s) => s.mapAsync(MAP_MODE_READ)));
    this.throwErrors();
    list.forEach(({ t, e }, i) => {
      const src = new Uint8Array(staging[i].getMappedRange());
      if (!t.disposed) {
        const v = t.view();
        new Uint8Array(v.buffer, v.byteOffset, v.byteLength).set(src.subarray(0, v.byteLength));
        e.dirty = false;
      }
      staging[i].unmap();
      staging[i].destroy();
    });
  }

  private mirrorOf(t: Tensor): Mirror | undefined {
    const storage = (t as unknown as { storage: object }).storage;
    const bytes = Math.max(4, Math.ceil((t.size * BYTES[t.dtype]) / 4) * 4);
    return this.mirrors.get(storage)?.get(`${t.offset}:${bytes}`);
  }

  /** Copies every tensor the GPU wrote back into the heap (then host reads see them). */
  async sync(): Promise<void> {
    const list: { t: Tensor; e: Mirror }[] = [];
    for (const [storage, m] of this.mirrors) {
      const s = storage as { refs: number; ptr: number };
      if (s.refs <= 0) continue;
      for (const [key, e] of m) {
        if (!e.dirty) continue;
        const [offset] = key.split(':').map(Number);
        list.push({ t: viewTensor(storage, offset, e.bytes), e });
      }
    }
    if (list.length) await this.download(list);
    else await this.device.queue.onSubmittedWorkDone();
    this.throwErrors();
  }

  /** Forgets the GPU copy of `t` (after the host wrote it) so its next use uploads the heap bytes. */
  invalidate(t: Tensor): void {
    const storage = (t as unknown as { storage: object }).storage;
    const m = this.mirrors.get(storage);
    if (!m) return;
    for (const [k, e] of m) { if (e.dirty) continue; this.releaseBuffer(e.buf); m.delete(k); }
  }

  private throwErrors(): void {
    if (!this.errors.length) return;
    const msg = this.errors.join('; ');
    this.errors = [];
    throw new Error(`convnet: webgpu: ${msg}`);
  }

  // ---- storage (BackendStorage): tensors made while webgpu is in use live in GPU buffers ------------

  /** Whether this backend stores t (else it lives in the WebAssembly heap). */
  private mine(t: Tensor): boolean { return (t.store as unknown) === this; }

  alloc(bytes: number): GpuBlock {
    const n = Math.max(4, round4(bytes));
    return new GpuBlock(this.acquire(n), n, bytes);
  }

  release(id: unknown): void { this.releaseBuffer((id as GpuBlock).buf); }

  write(t: Tensor, values: ArrayLike<number>, at = 0): void {
    t.assertLive('write');
    if (!(Number.isInteger(at) && at >= 0 && at + values.length <= t.size)) {
      throw new RangeError(`convnet: write: ${values.length} values at element ${at} do not fit a tensor of ${t.size} elements`);
    }
    if (!this.mine(t)) { this.invalidate(t); return (t.store as { write(t: Tensor, v: ArrayLike<number>, at?: number): void }).write(t, values, at); }
    if (!values.length) return;
    const B = BYTES[t.dtype];
    const typed = new TYPED[t.dtype](values.length);
    typed.set(values);
    const off = t.byteOffset + at * B, n = typed.byteLength;
    const blk = t.dataId as GpuBlock;
    const bytes = new Uint8Array(round4(n));
    bytes.set(new Uint8Array(typed.buffer, 0, n));
    if (blk.shadow) blk.shadow.set(bytes.subarray(0, n), off);
    else if (blk.bytes <= SHADOW_BYTES && off === 0 && n >= blk.used) blk.shadow = bytes.slice(0, blk.bytes);
    if (off % 4 === 0 && (n % 4 === 0 || off + n >= blk.used)) {
      this.device.queue.writeBuffer(blk.buf, off, bytes.buffer, 0, bytes.byteLength);
      return;
    }
    // uint8 bytes sharing a word with other bytes: uploaded to a temporary buffer, then moved byte by byte.
    const tmp = this.acquire(bytes.byteLength);
    this.device.queue.writeBuffer(tmp, 0, bytes.buffer, 0, bytes.byteLength);
    const enc = this.device.createCommandEncoder(), uniforms: GpuBuffer[] = [], temps = [tmp];
    this.copyBytes(enc, uniforms, temps, tmp, 0, blk.buf, off, n);
    this.submit(enc, uniforms, temps);
  }

  readSync(t: Tensor): TypedArray {
    if (!this.mine(t)) return (t.store as { readSync(t: Tensor): TypedArray }).readSync(t);
    t.assertLive('dataSync');
    const sh = (t.dataId as GpuBlock).shadow;
    if (sh) {
      const out = new TYPED[t.dtype](t.size);
      new Uint8Array(out.buffer).set(sh.subarray(t.byteOffset, t.byteOffset + out.byteLength));
      return out;
    }
    throw new Error(`convnet: a webgpu tensor ${t.shape.length ? t.shape.join('x') : 'scalar'} cannot be read synchronously (WebGPU maps buffers asynchronously): use await t.data() or await t.array()`);
  }

  /** The tensor's data: GPU tensors are copied back; heap tensors after GPU results mirrored into them. */
  async read(t: Tensor): Promise<TypedArray> {
    t.assertLive('data');
    if (!this.mine(t)) {
      const e = this.mirrorOf(t);
      if (e?.dirty) await this.download([{ t, e }]);
      this.throwErrors();
      return (t.store as { readSync(t: Tensor): TypedArray }).readSync(t);
    }
    const blk = t.dataId as GpuBlock;
    // The whole words around the tensor's bytes (a uint8 view may start mid-word).
    const first = t.byteOffset & ~3, skip = t.byteOffset - first;
    const n = t.size ? round4(t.byteOffset + t.size * BYTES[t.dtype]) - first : 0;
    const staging = this.device.createBuffer({ size: Math.max(n, 4), usage: USAGE.MAP_READ | USAGE.COPY_DST });
    const enc = this.device.createCommandEncoder();
    if (n) enc.copyBufferToBuffer(blk.buf, first, staging, 0, n);
    this.device.queue.submit([enc.finish()]);
    await staging.mapAsync(MAP_MODE_READ);
    this.throwErrors();
    const out = new TYPED[t.dtype](t.size);
    new Uint8Array(out.buffer).set(new Uint8Array(staging.getMappedRange(), skip, out.byteLength));
    staging.unmap();
    staging.destroy();
    return out;
  }

  fill(t: Tensor, value: number): void {
    t.assertLive('fill');
    if (!this.mine(t)) { this.invalidate(t); return (t.store as { fill(t: Tensor, v: number): void }).fill(t, value); }
    if ((t.dtype === 'float32' || t.dtype === 'int32') && t.byteOffset % 4 === 0) {
      if (!t.size) return;
      const blk = t.dataId as GpuBlock;
      if (blk.bytes <= SHADOW_BYTES) return this.write(t, new TYPED[t.dtype](t.size).fill(value));
      blk.shadow = null;
      const { u, f } = this.params();
      u[0] = t.size; u[2] = t.byteOffset / 4;
      if (t.dtype === 'float32') f[1] = value; else new Int32Array(u.buffer)[1] = value;
      this.elementwise('fill', K.fillShader, u, [{ binding: 1, buf: (t.dataId as GpuBlock).buf, write: true }], t.size);
      return;
    }
    this.write(t, new TYPED[t.dtype](t.size).fill(value));
  }

  copy(src: Tensor, dst: Tensor): void {
    src.assertLive('copy'); dst.assertLive('copy');
    if (src.size !== dst.size) throw new RangeError(`convnet: internal error: copy of ${src.size} elements into ${dst.size}`);
    if (src.dtype !== dst.dtype) return this.cast(src, dst);
    const n = round4(src.size * BYTES[src.dtype]);
    if (!src.size) return;
    const s = this.loc(src, 'in'), d = this.loc(dst, 'out');
    const enc = this.device.createCommandEncoder();
    if (s.ragged === undefined && d.ragged === undefined) {
      enc.copyBufferToBuffer(s.buf, s.offset ?? 0, d.buf, d.offset ?? 0, n);
      this.device.queue.submit([enc.finish()]);
    } else {
      const uniforms: GpuBuffer[] = [], temps: GpuBuffer[] = [];
      this.copyBytes(enc, uniforms, temps, s.buf, s.offset ?? 0, d.buf, d.offset ?? 0, src.size * BYTES[src.dtype]);
      this.submit(enc, uniforms, temps);
    }
    // A whole-block copy of a host-known block keeps the host copy: the optimizer's step counter and
    // learning rate stay readable synchronously after fit's non-finite rollback copies them back.
    const sh = this.mine(src) ? (src.dataId as GpuBlock).shadow : null;
    if (sh && this.mine(dst) && dst.byteOffset === 0) {
      const blk = dst.dataId as GpuBlock, bytes = src.size * BYTES[src.dtype];
      if (bytes >= blk.bytes) blk.shadow = sh.slice(src.byteOffset, src.byteOffset + blk.bytes);
    }
  }

  gatherRows(x: Tensor, indices: ArrayLike<number>, out: Tensor, rowSize: number): void {
    if (!indices.length || !rowSize) return;
    const B = BYTES[x.dtype], row = rowSize * B;
    const idx = new Uint32Array(indices.length);
    idx.set(indices);
    const ib = this.acquire(round4(idx.byteLength));
    this.device.queue.writeBuffer(ib, 0, idx.buffer, 0, idx.byteLength);
    const { u } = this.params();
    // Rows of whole 32-bit words move a word per invocation; other uint8 rows (e.g. 5x5x3 images) byte by byte.
    const bytes = row % 4 !== 0;
    if (bytes) { u[2] = indices.length * row; u[0] = Math.ceil(u[2] / 4); u[1] = row; } else { u[0] = indices.length * row / 4; u[1] = row / 4; }
    const [gx, gy] = grid(Math.ceil(u[0] / K.WG));
    this.run([{ key: bytes ? 'gatherBytes' : 'gatherRows', src: bytes ? K.gatherBytesShader : K.gatherRowsShader, params: u, groups: [gx, gy], bind: [
      { binding: 1, ...this.loc(x, 'in') }, { binding: 2, ...this.loc(out, 'out'), write: true }, { binding: 3, buf: ib },
    ] }], [ib]);
  }

  /**
   * dst[dOff + o*dW + j] = src[sOff + o*sW + j] for o < outer, j < w, all in bytes: a word per
   * invocation when every figure is whole words, else byte by byte (uint8 rows of any length).
   */
  private copy2d(src: Tensor, dst: Tensor, outer: number, w: number, sW: number, sOff: number, dW: number, dOff: number): void {
    if (!outer || !w) return;
    const bind: Binding[] = [{ binding: 1, ...this.loc(src, 'in') }, { binding: 2, ...this.loc(dst, 'inout'), write: true }];
    if ([w, sW, sOff, dW, dOff].every((v) => v % 4 === 0)) {
      const { u } = this.params();
      u[0] = outer * w / 4; u[1] = w / 4; u[2] = sW / 4; u[3] = sOff / 4; u[4] = dW / 4; u[5] = dOff / 4;
      this.elementwise('copy2d', K.copy2dShader, u, bind, u[0]);
    } else {
      const u = bytesParams(outer, w, sW, sOff, dW, dOff);
      this.elementwise('copyBytes', K.copyBytesShader, u, bind, u[7]);
    }
  }

  concat(xs: Tensor[], out: Tensor, outer: number): void {
    const o = Math.max(outer, 1), B = BYTES[out.dtype];
    const total = (out.size / o) * B;
    let off = 0;
    for (const t of xs) {
      const w = (t.size / o) * B;
      this.copy2d(t, out, outer, w, w, 0, total, off);
      off += w;
    }
  }

  sliceColumns(x: Tensor, out: Tensor, outer: number, start: number): void {
    const o = Math.max(outer, 1), B = BYTES[x.dtype];
    const total = (x.size / o) * B, w = (out.size / o) * B;
    this.copy2d(x, out, outer, w, total, start * B, w, 0);
  }

  randomMask(out: Tensor, rate: number, scale: number, rng: Rng): void {
    // Drawn on the host in element order (the same numbers as every backend for a seed), then uploaded.
    const m = new Float32Array(out.size);
    for (let i = 0; i < m.length; i++) m[i] = rng.random() >= rate ? scale : 0;
    this.write(out, m);
  }

  // ---- images (issue 14 step 1's data-movement ops) ----------------------------------------------------

  private notYet(what: string): never {
    throw new Error(`convnet: webgpu: ${what} has no WGSL kernel yet; run this layer on the wasm backend`);
  }
  shift2d(x: Tensor, out: Tensor, top: number, left: number): void {
    this.checkF32('shift2d', x, out);
    const [, h, w, c] = x.shape, [, oh, ow] = out.shape;
    const { u } = this.params();
    const i32 = new Int32Array(u.buffer);
    u[0] = out.size; u[1] = h; u[2] = w; u[3] = c; u[4] = oh; u[5] = ow; i32[6] = top; i32[7] = left;
    this.elementwise('shift2d', K.shift2dShader, u, [{ binding: 1, ...this.loc(x, 'in') }, { binding: 2, ...this.loc(out, 'out'), write: true }], out.size);
  }
  private upsample(grad: boolean, x: Tensor, out: Tensor, sh: number, sw: number): void {
    this.checkF32(grad ? 'upsample2dGrad' : 'upsample2d', x, out);
    const [, h, w, c] = grad ? out.shape : x.shape;
    const { u } = this.params();
    u[0] = out.size; u[1] = h; u[2] = w; u[3] = c; u[4] = sh; u[5] = sw;
    this.elementwise(`upsample:${grad}`, () => K.upsample2dShader(grad), u, [{ binding: 1, ...this.loc(x, 'in') }, { binding: 2, ...this.loc(out, 'out'), write: true }], out.size);
  }
  upsample2d(x: Tensor, out: Tensor, sh: number, sw: number): void { this.upsample(false, x, out, sh, sw); }
  upsample2dGrad(dy: Tensor, dx: Tensor, sh: number, sw: number): void { this.upsample(true, dy, dx, sh, sw); }
  flip2d(x: Tensor, out: Tensor, flags: ArrayLike<number>): void {
    this.checkF32('flip2d', x, out);
    const [n, h, w, c] = x.shape;
    const fl = new Uint32Array(Math.max(n, 1));
    for (let i = 0; i < n; i++) fl[i] = flags[i];
    const fb = this.acquire(fl.byteLength);
    this.device.queue.writeBuffer(fb, 0, fl.buffer, 0, fl.byteLength);
    const { u } = this.params();
    u[0] = x.size; u[1] = h; u[2] = w; u[3] = c;
    if (!x.size) { this.releaseBuffer(fb); return; }
    const [gx, gy] = grid(Math.ceil(x.size / K.WG));
    this.run([{ key: 'flip2d', src: K.flip2dShader, params: u, groups: [gx, gy], bind: [
      { binding: 1, ...this.loc(x, 'in') }, { binding: 2, ...this.loc(out, 'out'), write: true }, { binding: 3, buf: fb },
    ] }], [fb]);
  }
  /** Runs an image kernel over `total` outputs with one extra read-only table at binding 3. */
  private imageKernel(key: string, src: () => string, u: Uint32Array, x: Tensor, out: Tensor, table: Uint32Array | Float32Array): void {
    if (!out.size) return;
    const tb = this.acquire(round4(Math.max(table.byteLength, 4)));
    this.device.queue.writeBuffer(tb, 0, table.buffer, table.byteOffset, table.byteLength);
    const [gx, gy] = grid(Math.ceil(out.size / K.WG));
    this.run([{ key, src, params: u, groups: [gx, gy], bind: [
      { binding: 1, ...this.loc(x, 'in') }, { binding: 2, ...this.loc(out, 'out'), write: true }, { binding: 3, buf: tb },
    ] }], [tb]);
  }
  resize2d(x: Tensor, out: Tensor, ty: ResizeAxis, tx: ResizeAxis): void {
    this.checkF32('resize2d', x, out);
    const [, h, w, c] = x.shape;
    const th = ty.lo.length, tw = tx.lo.length;
    const tab = new Uint32Array(3 * (th + tw));
    const f = new Float32Array(tab.buffer);
    tab.set(ty.lo, 0); tab.set(ty.hi, th); f.set(ty.w, 2 * th);
    tab.set(tx.lo, 3 * th); tab.set(tx.hi, 3 * th + tw); f.set(tx.w, 3 * th + 2 * tw);
    const { u } = this.params();
    u[0] = out.size; u[1] = h; u[2] = w; u[3] = c; u[4] = th; u[5] = tw;
    this.imageKernel('resize2d', K.resize2dShader, u, x, out, tab);
  }
  resize2dGrad(dy: Tensor, dx: Tensor, ty: ResizeAxis, tx: ResizeAxis): void {
    this.checkF32('resize2dGrad', dy, dx);
    const [, h, w, c] = dx.shape;
    // Per axis, the outputs that read each input row (column) with their weights (a CSR table): the
    // gradient is then gathered per input pixel, with no atomics.
    const inverse = (a: ResizeAxis, len: number): Uint32Array => {
      const n = a.lo.length, start = new Uint32Array(len + 1);
      for (let i = 0; i < n; i++) { start[a.lo[i] + 1]++; start[a.hi[i] + 1]++; }
      for (let r = 0; r < len; r++) start[r + 1] += start[r];
      const out = new Uint32Array(len + 1 + 4 * n), f = new Float32Array(out.buffer), fill = start.slice(0, len);
      out.set(start);
      const put = (r: number, i: number, wt: number) => { const p = fill[r]++; out[len + 1 + p] = i; f[len + 1 + 2 * n + p] = wt; };
      for (let i = 0; i < n; i++) { put(a.lo[i], i, 1 - a.w[i]); put(a.hi[i], i, a.w[i]); }
      return out;
    };
    const ry = inverse(ty, h), rx = inverse(tx, w);
    const tab = new Uint32Array(ry.length + rx.length);
    tab.set(ry); tab.set(rx, ry.length);
    const { u } = this.params();
    u[0] = dx.size; u[1] = h; u[2] = w; u[3] = c; u[4] = ty.lo.length; u[5] = tx.lo.length; u[6] = ry.length;
    this.imageKernel('resize2dGrad', K.resize2dGradShader, u, dy, dx, tab);
  }
  /** Not a GPU kernel (SciPy's float64 sums): correlate()/correlateAsync() run it on the host backend and move the result here. */
  correlate(_input: Tensor, _w: Float64Array, _ws: number[], _o: number[], _m: unknown, _c: number, _out: Tensor): void {
    throw new Error('convnet: webgpu: correlate computes in float64, which WGSL lacks: call correlate() or await correlateAsync() (src/ops/ndimage.ts), which run it on the host backend and move the result to webgpu');
  }
  affine2d(x: Tensor, out: Tensor, transforms: readonly ArrayLike<number>[], fillMode: FillMode, interpolation: ImageInterpolation, fillValue: number): void {
    this.checkF32('affine2d', x, out);
    const [n, h, w, c] = x.shape;
    const tr = new Float32Array(Math.max(n, 1) * 6);
    for (let i = 0; i < n; i++) tr.set(Array.from(transforms[i]).slice(0, 6), i * 6);
    const { u, f } = this.params();
    u[0] = out.size; u[1] = h; u[2] = w; u[3] = c;
    u[4] = ({ reflect: 0, wrap: 1, constant: 2, nearest: 3 } as const)[fillMode];
    u[5] = interpolation === 'bilinear' ? 1 : 0; f[6] = fillValue;
    this.imageKernel('affine2d', K.affine2dShader, u, x, out, tr);
  }

  // ---- dispatch ----------------------------------------------------------------------------------------

  private pipeline(key: string, source: () => string): GpuPipeline {
    let p = this.pipelines.get(key);
    if (!p) {
      const module = this.device.createShaderModule({ code: source() });
      p = this.device.createComputePipeline({ layout: 'auto', compute: { module, entryPoint: 'main' } });
      this.pipelines.set(key, p);
    }
    return p;
  }

  private params(): { u: Uint32Array; f: Float32Array } {
    const u = new Uint32Array(K.PARAM_WORDS);
    return { u, f: new Float32Array(u.buffer) };
  }

  /**
   * Runs one or more dispatches in one command buffer. An input bound read-only that is also bound
   * writable (out aliases x) is first copied, since WebGPU forbids such aliasing in a dispatch.
   */
  private run(steps: { key: string; src: () => string; params: Uint32Array; bind: Binding[]; groups: [number, number, number?] }[], temps: GpuBuffer[] = []): void {
    if (++this.calls % 32 === 0) this.sweep();
    const enc = this.device.createCommandEncoder();
    const uniforms: GpuBuffer[] = [];
    for (const s of steps) {
      const written = new Set(s.bind.filter((b) => b.write).map((b) => b.buf));
      const entries: Entry[] = [];
      const after: (() => void)[] = [];
      for (const b of s.bind) {
        if (b.ragged !== undefined) {
          // uint8 bytes sharing a word with other bytes: staged, and stored back byte by byte.
          const off = b.offset!, n = b.ragged, tmp = this.acquire(Math.max(4, round4(n)));
          temps.push(tmp);
          this.copyBytes(enc, uniforms, temps, b.buf, off, tmp, 0, n);
          if (b.write) after.push(() => this.copyBytes(enc, uniforms, temps, tmp, 0, b.buf, off, n));
          entries.push({ binding: b.binding, resource: { buffer: tmp, offset: 0, size: Math.max(4, round4(n)) } });
          continue;
        }
        const unaligned = b.offset !== undefined && b.offset % 256 !== 0;
        if (unaligned || (!b.write && written.has(b.buf))) {
          // A view at an offset WebGPU cannot bind, or an input that is also the output: a copy.
          const off = b.offset ?? 0, n = b.size ?? b.buf.size - off;
          const tmp = this.acquire(n);
          enc.copyBufferToBuffer(b.buf, off, tmp, 0, n);
          temps.push(tmp);
          if (b.write) after.push(() => enc.copyBufferToBuffer(tmp, 0, b.buf, off, n));
          entries.push({ binding: b.binding, resource: { buffer: tmp, offset: 0, size: n } });
        } else {
          entries.push({ binding: b.binding, resource: b.offset === undefined ? { buffer: b.buf } : { buffer: b.buf, offset: b.offset, size: b.size } });
        }
      }
      this.pass(enc, uniforms, s.key, s.src, s.params, entries, s.groups);
      for (const f of after) f();
    }
    this.submit(enc, uniforms, temps);
  }

  /** Encodes one dispatch of pipeline `key` with `params` in a fresh uniform buffer (binding 0). */
  private pass(enc: GpuEncoder, uniforms: GpuBuffer[], key: string, src: () => string, params: Uint32Array, entries: Entry[], groups: [number, number, number?]): void {
    const pipe = this.pipeline(key, src);
    const ub = this.uniforms.pop() ?? this.device.createBuffer({ size: K.PARAM_WORDS * 4, usage: USAGE.UNIFORM | USAGE.COPY_DST });
    uniforms.push(ub);
    this.device.queue.writeBuffer(ub, 0, params.buffer, 0, K.PARAM_WORDS * 4);
    const group = this.device.createBindGroup({ layout: pipe.getBindGroupLayout(0), entries: [{ binding: 0, resource: { buffer: ub } }, ...entries] });
    const p = enc.beginComputePass();
    p.setPipeline(pipe);
    p.setBindGroup(0, group);
    p.dispatchWorkgroups(groups[0], groups[1], groups[2] ?? 1);
    p.end();
  }

  /** Submits an encoder, then returns its uniform and temporary buffers to their pools (the queue orders reuse). */
  private submit(enc: GpuEncoder, uniforms: GpuBuffer[], temps: GpuBuffer[]): void {
    this.device.queue.submit([enc.finish()]);
    for (const u of uniforms) this.uniforms.push(u);
    for (const t of temps) this.releaseBuffer(t);
  }

  /**
   * Encodes a move of n bytes from byte `from` of `src` to byte `to` of `dst`, any alignment: only
   * those bytes of dst change (copyBytesShader). Overlapping source and destination in one buffer
   * go through a temporary copy of the source words.
   */
  private copyBytes(enc: GpuEncoder, uniforms: GpuBuffer[], temps: GpuBuffer[], src: GpuBuffer, from: number, dst: GpuBuffer, to: number, n: number): void {
    if (!n) return;
    if (src === dst) {
      const first = from & ~3, len = round4(from + n) - first;
      const tmp = this.acquire(len);
      temps.push(tmp);
      enc.copyBufferToBuffer(src, first, tmp, 0, len);
      src = tmp; from -= first;
    }
    const u = bytesParams(1, n, n, from, n, to);
    const [gx, gy] = grid(Math.ceil(u[7] / K.WG));
    this.pass(enc, uniforms, 'copyBytes', K.copyBytesShader, u,
      [{ binding: 1, resource: { buffer: src } }, { binding: 2, resource: { buffer: dst } }], [gx, gy]);
  }

  /** One elementwise dispatch over `n` invocations. */
  private elementwise(key: string, src: () => string, params: Uint32Array, bind: Binding[], n: number): void {
    if (n === 0) return;
    const [x, y] = grid(Math.ceil(n / K.WG));
    this.run([{ key, src, params, bind, groups: [x, y] }]);
  }

  private checkF32(what: string, ...ts: (Tensor | null)[]): void {
    for (const t of ts) {
      if (t && t.dtype !== 'float32') throw new TypeError(`convnet: webgpu: ${what} computes in float32, got a ${t.dtype} tensor`);
    }
  }

  // ---- elementwise -------------------------------------------------------------------------------------

  unary(op: UnaryOp, x: Tensor, out: Tensor, alpha: number): void {
    this.checkF32(`unary ${op}`, x, out);
    const { u, f } = this.params();
    u[0] = x.size; f[1] = alpha; u[2] = K.UNARY_CODES.indexOf(op);
    this.elementwise('unary', K.unaryShader, u,
      [{ binding: 1, ...this.loc(x, 'in') }, { binding: 2, ...this.loc(out, 'out'), write: true }], x.size);
  }

  unaryGrad(op: Activation, x: Tensor, y: Tensor, dy: Tensor, dx: Tensor, alpha: number): void {
    this.checkF32(`unaryGrad ${op}`, x, y, dy, dx);
    const { u, f } = this.params();
    u[0] = dx.size; f[1] = alpha; u[2] = K.UNARY_CODES.indexOf(op);
    this.elementwise('unaryGrad', K.unaryGradShader, u, [
      { binding: 1, ...this.loc(x, 'in') }, { binding: 2, ...this.loc(y, 'in') },
      { binding: 3, ...this.loc(dy, 'in') }, { binding: 4, ...this.loc(dx, 'out'), write: true },
    ], dx.size);
  }

  binary(op: BinaryOp, a: Tensor, b: Tensor, out: Tensor, p: BroadcastParams): void {
    this.checkF32(`binary ${op}`, a, b, out);
    const rank = p.outShape.length;
    if (2 + 3 * rank > K.PARAM_WORDS) throw new RangeError(`convnet: webgpu: binary ${op}: rank ${rank} is above 10`);
    const { u } = this.params();
    u[0] = out.size; u[1] = rank; u[31] = K.BINARY_CODES.indexOf(op);
    for (let d = 0; d < rank; d++) { u[2 + d] = p.outShape[d]; u[2 + rank + d] = p.aStrides[d]; u[2 + 2 * rank + d] = p.bStrides[d]; }
    this.elementwise('binary', K.binaryShader, u, [
      { binding: 1, ...this.loc(a, 'in') }, { binding: 2, ...this.loc(b, 'in') },
      { binding: 3, ...this.loc(out, 'out'), write: true },
    ], out.size);
  }

  binaryScalar(op: BinaryOp, x: Tensor, s: number, out: Tensor, reverse: boolean): void {
    this.checkF32(`binaryScalar ${op}`, x, out);
    const { u, f } = this.params();
    // s is a float64: hi + lo, so the kernel rounds x op s once as the float64 backends do.
    u[0] = x.size; f[1] = s; f[2] = s - f[1]; u[3] = K.BINARY_CODES.indexOf(op); u[4] = reverse ? 1 : 0;
    this.elementwise('binaryScalar', K.binaryScalarShader, u,
      [{ binding: 1, ...this.loc(x, 'in') }, { binding: 2, ...this.loc(out, 'out'), write: true }], x.size);
  }

  biasAct(x: Tensor, bias: Tensor | null, out: Tensor, rows: number, c: number, act: Activation, alpha: number): void {
    this.checkF32(`biasAct ${act}`, x, bias, out);
    const { u, f } = this.params();
    u[0] = rows * c; u[1] = c; f[2] = alpha; u[3] = K.UNARY_CODES.indexOf(act);
    const bind: Binding[] = [{ binding: 1, ...this.loc(x, 'in') }, { binding: 2, ...this.loc(out, 'out'), write: true }];
    if (bias) bind.push({ binding: 3, ...this.loc(bias, 'in') });
    this.elementwise(`biasAct:${!!bias}`, () => K.biasActShader(!!bias), u, bind, rows * c);
  }

  reduce(op: ReduceOp, x: Tensor, out: Tensor, outer: number, n: number, inner: number): void {
    this.checkF32(`reduce ${op}`, x, out);
    const outs = outer * inner;
    if (outs === 0) return;
    const { u } = this.params();
    u[0] = outer; u[1] = n; u[2] = inner;
    const bind: Binding[] = [{ binding: 1, ...this.loc(x, 'in') }, { binding: 2, ...this.loc(out, 'out'), write: true }];
    if (n >= 256 && outs < 8192) {
      const [gx, gy] = grid(outs);
      this.run([{ key: `reduceWide:${op}`, src: () => K.reduceWideShader(op), params: u, bind, groups: [gx, gy] }]);
    } else {
      this.elementwise(`reduce:${op}`, () => K.reduceShader(op), u, bind, outs);
    }
  }

  softmax(x: Tensor, out: Tensor, rows: number, cols: number): void {
    this.checkF32('softmax', x, out);
    const { u } = this.params();
    u[0] = rows; u[1] = cols;
    this.elementwise('softmax', K.softmaxShader, u,
      [{ binding: 1, ...this.loc(x, 'in') }, { binding: 2, ...this.loc(out, 'out'), write: true }], rows);
  }

  transpose(x: Tensor, out: Tensor, perm: number[]): void {
    if (x.dtype !== out.dtype) throw new TypeError(`convnet: webgpu: transpose: dtypes differ (${x.dtype}, ${out.dtype})`);
    const xs = x.shape, rank = xs.length;
    if (2 + 2 * rank > K.PARAM_WORDS) throw new RangeError(`convnet: webgpu: transpose: rank ${rank} is above 15`);
    const xStrides: number[] = new Array(rank);
    let s = 1;
    for (let d = rank - 1; d >= 0; d--) { xStrides[d] = s; s *= xs[d]; }
    const { u } = this.params();
    u[0] = x.size; u[1] = rank;
    for (let d = 0; d < rank; d++) { u[2 + d] = xs[perm[d]]; u[2 + rank + d] = xStrides[perm[d]]; }
    const bind: Binding[] = [{ binding: 1, ...this.loc(x, 'in') }, { binding: 2, ...this.loc(out, 'out'), write: true }];
    if (x.dtype === 'uint8') this.elementwise('transpose:u8', K.transposeBytesShader, u, bind, Math.ceil(x.size / 4));
    else {
      const words = x.dtype === 'float64' ? 2 : 1;
      this.elementwise(`transpose:${words}`, () => K.transposeShader(words), u, bind, x.size);
    }
  }

  cast(x: Tensor, out: Tensor): void {
    if (x.dtype === 'float64' || out.dtype === 'float64') {
      // WGSL has no f64: the conversion works on the IEEE bits of the two words (wgsl-f64.ts).
      if (x.dtype === out.dtype) return this.copy(x, out);
      const from = x.dtype, to = out.dtype;
      const { u } = this.params();
      u[0] = x.size;
      const bind: Binding[] = [{ binding: 1, ...this.loc(x, 'in') }, { binding: 2, ...this.loc(out, 'out'), write: true }];
      this.elementwise(`cast64:${from}:${to}`, () => castF64Shader(from, to), u, bind, to === 'uint8' ? Math.ceil(x.size / 4) : x.size);
      return;
    }
    const from = x.dtype as K.GpuDType, to = out.dtype as K.GpuDType;
    const { u } = this.params();
    u[0] = x.size;
    const bind: Binding[] = [{ binding: 1, ...this.loc(x, 'in') }, { binding: 2, ...this.loc(out, 'out'), write: true }];
    this.elementwise(`cast:${from}:${to}`, () => K.castShader(from, to), u, bind, to === 'uint8' ? Math.ceil(x.size / 4) : x.size);
  }

  // ---- GEMM ---------------------------------------------------------------------------------------------

  /** A small buffer bound where a kernel variant has nothing to bind (no bias, no split-K scratch). */
  private dummyBuffer(write = false): GpuBuffer {
    const i = write ? 1 : 0;
    return (this.dummies[i] ??= this.device.createBuffer({ size: 256, usage: USAGE.STORAGE | USAGE.COPY_SRC | USAGE.COPY_DST }));
  }
  private readonly dummies: GpuBuffer[] = [];

  /**
   * Runs a GEMM-shaped kernel over an M x N output with depth K, splitting K across workgroups
   * (then summing the parts in a second pass) when the output has too few tiles to fill the GPU.
   * `aKFast`/`bNFast`: A is contiguous along k, B along n (which way the tile loads coalesce).
   */
  private gemm(key: string, src: () => string, u: Uint32Array, bind: Binding[], out: Binding,
    M: number, N: number, Kd: number, accumulate: boolean, allowSplit: boolean, aKFast: boolean, bNFast: boolean): void {
    const tn = Math.ceil(N / 64), tm = Math.ceil(M / 64);
    if (tm > MAX_GROUPS || tn > MAX_GROUPS) throw new RangeError(`convnet: webgpu: ${key}: ${M}x${N} output is too large for one dispatch`);
    let splits = 1;
    if (allowSplit && tm * tn < 64 && Kd >= 512) splits = Math.min(Math.ceil(Kd / 256), Math.ceil(128 / (tm * tn)), 256);
    const kChunk = splits > 1 ? Math.ceil(Math.ceil(Kd / splits) / 16) * 16 : Math.max(Kd, 1);
    splits = Math.ceil(Kd / kChunk);
    u[0] = M; u[1] = N; u[2] = Kd; u[3] = kChunk; u[4] = Math.max(splits, 1); u[5] = accumulate ? 1 : 0;
    u[6] = aKFast ? 1 : 0; u[7] = bNFast ? 1 : 0;
    if (splits <= 1) {
      this.run([{ key, src, params: u, bind: [...bind, out, { binding: 4, buf: this.dummyBuffer(true), write: true }], groups: [tn, tm, 1] }]);
      return;
    }
    const scratch = this.acquire(splits * M * N * 4);
    const r = new Uint32Array(K.PARAM_WORDS);
    r[0] = M * N; r[1] = splits; r[2] = accumulate ? 1 : 0;
    const [gx, gy] = grid(Math.ceil((M * N) / K.WG));
    this.run([
      { key, src, params: u, bind: [...bind, out, { binding: 4, buf: scratch, write: true }], groups: [tn, tm, splits] },
      { key: 'splitK', src: K.splitKReduceShader, params: r, bind: [{ binding: 1, buf: scratch }, { ...out, binding: 2 }], groups: [gx, gy] },
    ], [scratch]);
  }

  matmul(a: Tensor, b: Tensor, out: Tensor, p: MatMulParams): void {
    this.checkF32('matmul', a, b, out);
    const { m, n, k, transA, transB, accumulate } = p;
    if (m === 0 || n === 0) return;
    if (k === 0) { if (!accumulate) this.fill(out, 0); return; }
    const { u } = this.params();
    const outB: Binding = { binding: 3, ...this.loc(out, accumulate ? 'inout' : 'out'), write: true };
    this.gemm('matmul', K.matmulShader, u,
      [{ binding: 1, ...this.loc(a, 'in') }, { binding: 2, ...this.loc(b, 'in') }], outB, m, n, k, accumulate, true, !transA, !transB);
  }

  conv2d(x: Tensor, w: Tensor, bias: Tensor | null, out: Tensor, p: Conv2DParams): void {
    this.checkF32('conv2d', x, w, bias, out);
    const M = p.batch * p.outH * p.outW, N = p.outC, Kd = p.kH * p.kW * p.inC;
    if (M === 0 || N === 0) return;
    const { u, f } = this.params();
    convWords(u, f, p);
    u[25] = bias ? 1 : 0;
    const bind: Binding[] = [
      { binding: 1, ...this.loc(x, 'in') }, { binding: 2, ...this.loc(w, 'in') },
      bias ? { binding: 5, ...this.loc(bias, 'in') } : { binding: 5, buf: this.dummyBuffer() },
    ];
    this.gemm('conv2d', K.conv2dShader, u, bind, { binding: 3, ...this.loc(out, 'out'), write: true }, M, N, Kd, false, false, true, true);
  }

  conv2dGradInput(dy: Tensor, w: Tensor, dx: Tensor, p: Conv2DParams): void {
    this.checkF32('conv2dGradInput', dy, w, dx);
    const M = p.batch * p.inH * p.inW, N = p.inC, Kd = p.kH * p.kW * p.outC;
    if (M === 0 || N === 0) return;
    if (Kd === 0 || p.outH === 0 || p.outW === 0) { this.fill(dx, 0); return; }
    const { u, f } = this.params();
    convWords(u, f, p);
    this.gemm('conv2dGradInput', K.conv2dGradInputShader, u,
      [{ binding: 1, ...this.loc(dy, 'in') }, { binding: 2, ...this.loc(w, 'in') }],
      { binding: 3, ...this.loc(dx, 'out'), write: true }, M, N, Kd, false, true, true, false);
  }

  conv2dGradFilter(x: Tensor, dy: Tensor, dw: Tensor, p: Conv2DParams): void {
    this.checkF32('conv2dGradFilter', x, dy, dw);
    const M = p.kH * p.kW * p.inC, N = p.outC, Kd = p.batch * p.outH * p.outW;
    if (M === 0 || N === 0) return;
    if (Kd === 0) { this.fill(dw, 0); return; }
    const { u, f } = this.params();
    convWords(u, f, p);
    this.gemm('conv2dGradFilter', K.conv2dGradFilterShader, u,
      [{ binding: 1, ...this.loc(x, 'in') }, { binding: 2, ...this.loc(dy, 'in') }],
      { binding: 3, ...this.loc(dw, 'out'), write: true }, M, N, Kd, false, true, false, true);
  }

  // ---- depthwise -----------------------------------------------------------------------------------------

  depthwiseConv2d(x: Tensor, w: Tensor, bias: Tensor | null, out: Tensor, p: DepthwiseConv2DParams): void {
    this.checkF32('depthwiseConv2d', x, w, bias, out);
    const { u, f } = this.params();
    convWords(u, f, p);
    u[0] = out.size; u[1] = p.depthMultiplier;
    const bind: Binding[] = [
      { binding: 1, ...this.loc(x, 'in') }, { binding: 2, ...this.loc(w, 'in') },
      { binding: 3, ...this.loc(out, 'out'), write: true },
    ];
    if (bias) bind.push({ binding: 4, ...this.loc(bias, 'in') });
    this.elementwise(`depthwise:${!!bias}`, () => K.depthwiseShader(!!bias), u, bind, out.size);
  }

  depthwiseConv2dGradInput(dy: Tensor, w: Tensor, dx: Tensor, p: DepthwiseConv2DParams): void {
    this.checkF32('depthwiseConv2dGradInput', dy, w, dx);
    const { u, f } = this.params();
    convWords(u, f, p);
    u[0] = dx.size; u[1] = p.depthMultiplier;
    this.elementwise('depthwiseGradInput', K.depthwiseGradInputShader, u, [
      { binding: 1, ...this.loc(dy, 'in') }, { binding: 2, ...this.loc(w, 'in') },
      { binding: 3, ...this.loc(dx, 'out'), write: true },
    ], dx.size);
  }

  depthwiseConv2dGradFilter(x: Tensor, dy: Tensor, dw: Tensor, p: DepthwiseConv2DParams): void {
    this.checkF32('depthwiseConv2dGradFilter', x, dy, dw);
    if (dw.size === 0) return;
    const { u, f } = this.params();
    convWords(u, f, p);
    u[0] = dw.size; u[1] = p.depthMultiplier;
    const [gx, gy] = grid(dw.size);
    this.run([{ key: 'depthwiseGradFilter', src: K.depthwiseGradFilterShader, params: u, groups: [gx, gy], bind: [
      { binding: 1, ...this.loc(x, 'in') }, { binding: 2, ...this.loc(dy, 'in') },
      { binding: 3, ...this.loc(dw, 'out'), write: true },
    ] }]);
  }

  // ---- pooling -------------------------------------------------------------------------------------------

  private pool2d(max: boolean, x: Tensor, out: Tensor, p: Pool2DParams): void {
    this.checkF32(max ? 'maxPool2d' : 'avgPool2d', x, out);
    const { u } = this.params();
    u[0] = out.size;
    poolWords(u, p);
    this.elementwise(`pool:${max}`, () => K.poolShader(max), u,
      [{ binding: 1, ...this.loc(x, 'in') }, { binding: 2, ...this.loc(out, 'out'), write: true }], out.size);
  }

  maxPool2d(x: Tensor, out: Tensor, p: Pool2DParams): void { this.pool2d(true, x, out, p); }
  avgPool2d(x: Tensor, out: Tensor, p: Pool2DParams): void { this.pool2d(false, x, out, p); }

  maxPool2dGrad(x: Tensor, dy: Tensor, dx: Tensor, p: Pool2DParams): void {
    this.checkF32('maxPool2dGrad', x, dy, dx);
    const { u } = this.params();
    u[0] = dx.size;
    poolWords(u, p);
    this.elementwise('poolGrad:max', () => K.poolGradShader(true), u, [
      { binding: 1, ...this.loc(dy, 'in') }, { binding: 3, ...this.loc(x, 'in') },
      { binding: 2, ...this.loc(dx, 'out'), write: true },
    ], dx.size);
  }

  avgPool2dGrad(dy: Tensor, dx: Tensor, p: Pool2DParams): void {
    this.checkF32('avgPool2dGrad', dy, dx);
    const { u } = this.params();
    u[0] = dx.size;
    poolWords(u, p);
    this.elementwise('poolGrad:avg', () => K.poolGradShader(false), u,
      [{ binding: 1, ...this.loc(dy, 'in') }, { binding: 2, ...this.loc(dx, 'out'), write: true }], dx.size);
  }

  // ---- optimizers ----------------------------------------------------------------------------------------

  adamUpdate(param: Tensor, grad: Tensor, m: Tensor, v: Tensor, vhat: Tensor | null, p: AdamParams): void {
    this.checkF32('adamUpdate', param, grad, m, v, vhat);
    const { u, f } = this.params();
    const lrT = p.lr * Math.sqrt(1 - Math.pow(p.beta2, p.step)) / (1 - Math.pow(p.beta1, p.step));
    u[0] = param.size; f[1] = p.lr; f[2] = p.beta1; f[3] = p.beta2; f[4] = p.epsilon; f[5] = lrT; f[6] = p.weightDecay;
    const hv = p.amsgrad && vhat;
    const bind: Binding[] = [
      { binding: 1, ...this.loc(param, 'inout'), write: true }, { binding: 2, ...this.loc(grad, 'in') },
      { binding: 3, ...this.loc(m, 'inout'), write: true }, { binding: 4, ...this.loc(v, 'inout'), write: true },
    ];
    if (hv) bind.push({ binding: 5, ...this.loc(vhat!, 'inout'), write: true });
    this.elementwise(`adam:${!!hv}`, () => K.adamShader(!!hv), u, bind, param.size);
  }

  sgdUpdate(param: Tensor, grad: Tensor, velocity: Tensor | null, p: SGDParams): void {
    this.checkF32('sgdUpdate', param, grad, velocity);
    const { u, f } = this.params();
    const withV = !!velocity && p.momentum !== 0;
    u[0] = param.size; f[1] = p.lr; f[2] = p.momentum; u[3] = p.nesterov ? 1 : 0; f[4] = p.weightDecay;
    const bind: Binding[] = [{ binding: 1, ...this.loc(param, 'inout'), write: true }, { binding: 2, ...this.loc(grad, 'in') }];
    if (withV) bind.push({ binding: 3, ...this.loc(velocity!, 'inout'), write: true });
    this.elementwise(`sgd:${withV}`, () => K.sgdShader(withV), u, bind, param.size);
  }

  rmspropUpdate(param: Tensor, grad: Tensor, ms: Tensor, mom: Tensor | null, mg: Tensor | null, p: RMSpropParams): void {
    this.checkF32('rmspropUpdate', param, grad, ms, mom, mg);
    const { u, f } = this.params();
    const withM = !!mom && p.momentum > 0, centered = p.centered && !!mg;
    u[0] = param.size; f[1] = p.lr; f[2] = p.rho; f[3] = p.momentum; f[4] = p.epsilon;
    const bind: Binding[] = [
      { binding: 1, ...this.loc(param, 'inout'), write: true }, { binding: 2, ...this.loc(grad, 'in') },
      { binding: 3, ...this.loc(ms, 'inout'), write: true },
    ];
    if (withM) bind.push({ binding: 4, ...this.loc(mom!, 'inout'), write: true });
    if (centered) bind.push({ binding: 5, ...this.loc(mg!, 'inout'), write: true });
    this.elementwise(`rmsprop:${withM}:${centered}`, () => K.rmspropShader(withM, centered), u, bind, param.size);
  }

  /** Pipelines compiled so far (tests, figures). */
  get pipelineCount(): number { return this.pipelines.size; }
}

/** A stand-in tensor over a heap byte range (for copying GPU results back by address). */
function viewTensor(storage: object, offset: number, bytes: number): Tensor {
  const s = storage as { ptr: number; bytes: number };
  const n = Math.min(bytes, s.ptr + s.bytes - offset);
  return { disposed: false, view: () => new Uint8Array(heap().memory.buffer, offset, n) } as unknown as Tensor;
}
