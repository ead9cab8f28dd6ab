/**
 * Tensor: a shape, a dtype and a handle to data owned by a backend (issue 14 step 1: TF.js's dataId
 * pattern). The backend in use when a tensor is made allocates its block (`Backend.alloc`); every
 * read and write of the data goes through that backend (`t.store`): `dataSync()`/`toArray()` read
 * synchronously where the backend can, `await t.data()`/`await t.array()` everywhere. The heap
 * backends (reference, wasm, native) keep blocks in the shared WebAssembly heap, and their kernels
 * address them directly through `offset` (zero copy).
 *
 * Memory is the engine's job. Tensors made inside `scope(fn)` are released when the scope ends,
 * unless returned by `fn` or marked with `keep()` (weights, optimizer state). Tensors made outside
 * any scope are released when they are garbage-collected, or at once by `dispose()`.
 */
import { BYTES, DType, TypedArray, typedView, dtypeOfArray, checkDType } from './dtype.js';
import { heap } from './heap.js';
import type { BackendStorage, DataId } from '../backend/backend.js';

/** Returns the storage new tensors are made in (the backend in use); set by src/backend/index.ts. */
let storeResolver: (() => BackendStorage) | null = null;
/** @internal */
export function setStoreResolver(f: () => BackendStorage): void { storeResolver = f; }
function currentStore(): BackendStorage {
  if (!storeResolver) throw new Error('convnet: internal error: no backend registered for tensor storage (import the package root or src/backend/index.js)');
  return storeResolver();
}

let nextId = 1;

/** Set by autograd so that reshapes of watched tensors are recorded on the tape. */
let reshapeHook: ((x: Tensor, y: Tensor) => void) | null = null;
/** @internal */
export function setReshapeHook(h: (x: Tensor, y: Tensor) => void): void { reshapeHook = h; }

/**
 * What the garbage collector needs to release a block: its pointer and whether it counts as
 * "outside any scope". Held by the finalization registry, so it must not point at its Storage.
 */
interface BlockRecord { store: BackendStorage; id: DataId; bytes: number; outside: boolean }

/** A backend's block shared by a tensor and its reshaped views. */
class Storage {
  refs = 1;
  readonly rec: BlockRecord;
  /** The heap address of the block for heap storage, else -1. */
  readonly ptr: number;
  constructor(readonly store: BackendStorage, readonly id: DataId, readonly bytes: number) {
    this.rec = { store, id, bytes, outside: false };
    this.ptr = store.storage === 'heap' ? (id as number) : -1;
  }
}

function setOutside(rec: BlockRecord, outside: boolean): void {
  if (rec.outside === outside) return;
  rec.outside = outside;
  heap().outsideScopeBytes += outside ? rec.bytes : -rec.bytes;
}

function finalize(rec: BlockRecord): void {
  setOutside(rec, false);
  rec.store.release(rec.id);
}

// ---- garbage collection of tensors made outside scopes (issue 11 §7) ------------------------
//
// Tensors made outside any scope are released when garbage-collected. But JavaScript's GC sees
// only the small Tensor objects, not the heap blocks behind them, and finalizers run only between
// tasks: a loop that drops a 4 MB tensor per step filled the 4 GiB heap without a collection. So
// the heap asks here before it grows: when tensors made outside scopes hold enough bytes, force a
// garbage collection and run the finalizers at once (FinalizationRegistry.cleanupSome, from a
// context made with V8's flag for it), then allocate from what they released. That needs Node with
// process.getBuiltinModule (20.16+) on V8 9-11 (Node 20), where the flag is known to exist. On
// later V8s the collection is still forced but its finalizers run at the next task (enough for
// loops that await, such as fit's); in browsers finalizers run between tasks as usual. Either way
// the out-of-memory error names the bytes still held outside scopes.

type Registry = FinalizationRegistry<BlockRecord> & { cleanupSome?: (cb?: (h: BlockRecord) => void) => void };
interface Collector { gc: () => void; registry: Registry; sync: boolean }

function makeCollector(): Collector | null {
  try {
    const proc = (globalThis as any).process;
    const get = proc?.getBuiltinModule as ((id: string) => any) | undefined;
    const v8major = Number(String(proc?.versions?.v8 ?? '').split('.')[0]);
    if (!get || !(v8major >= 9)) return null;
    const v8 = get('node:v8'), vm = get('node:vm');
    let gc = (globalThis as any).gc as (() => void) | undefined;
    if (typeof gc !== 'function') v8.setFlagsFromString('--expose-gc');
    // Only where the flag is known to exist: an unknown flag prints an error line.
    if (v8major <= 11) v8.setFlagsFromString('--harmony-weak-refs-with-cleanup-some');
    const ctx = vm.createContext({});
    if (typeof gc !== 'function') gc = vm.runInContext('gc', ctx) as () => void;
    if (typeof gc !== 'function') return null;
    const FR = vm.runInContext('FinalizationRegistry', ctx) as typeof FinalizationRegistry;
    const registry = new FR<BlockRecord>(finalize) as Registry;
    return { gc, registry, sync: typeof registry.cleanupSome === 'function' };
  } catch {
    return null;
  }
}

const collector = makeCollector();
const registry: Registry | undefined = collector?.registry ??
  (typeof FinalizationRegistry !== 'undefined' ? new FinalizationRegistry<BlockRecord>(finalize) : undefined);

/** Whether unreachable tensors can be released synchronously (inside a loop that never yields). */
export function synchronousCollection(): boolean { return !!collector?.sync; }

/** Collect when tensors outside scopes hold at least this many bytes (doubles with what survives). */
const MIN_COLLECT_BYTES = 256 << 20;
let collectAt = MIN_COLLECT_BYTES;
let collections = 0;

/** Forces a collection of unreachable tensors now; returns the heap bytes it released. */
export function collectGarbageTensors(): number {
  if (!collector) return 0;
  const h = heap();
  const before = h.bytesInUse;
  collector.gc();
  collector.registry.cleanupSome?.();
  collections++;
  // Synchronous: what survived is live, collect again when it has doubled. Otherwise the finalizers
  // have not run yet: collect again after another MIN_COLLECT_BYTES.
  collectAt = collector.sync ? Math.max(MIN_COLLECT_BYTES, 2 * h.outsideScopeBytes) : h.outsideScopeBytes + MIN_COLLECT_BYTES;
  return before - h.bytesInUse;
}

/** @internal How many forced collections ran (tests). */
export function garbageCollections(): number { return collections; }

if (collector) {
  heap().reclaim = (hard) => {
    const h = heap();
    if (h.outsideScopeBytes === 0 || (!hard && h.outsideScopeBytes < collectAt)) return false;
    return collectGarbageTensors() > 0;
  };
}

function releaseStorage(s: Storage): void {
  if (--s.refs === 0) {
    registry?.unregister(s);
    setOutside(s.rec, false);
    s.store.release(s.id);
  }
}

// ---- scopes -------------------------------------------------------------------------------
const scopes: Tensor[][] = [];

/** Runs `fn`; every tensor it creates is released at the end unless returned or kept. */
export function scope<T>(fn: () => T): T {
  scopes.push([]);
  let result: T;
  try {
    result = fn();
  } catch (e) {
    endScope(undefined);
    throw e;
  }
  endScope(result);
  return result;
}

/** Opens a scope by hand (for loops that await); close it with `endScope(keep)`. */
export function startScope(): void { scopes.push([]); }

/** Closes the innermost scope, releasing its tensors except those found in `keep`. */
export function endScope(keep: unknown): void {
  const list = scopes.pop();
  if (!list) throw new Error('convnet: endScope() without startScope()');
  const kept = new Set<Tensor>();
  collectTensors(keep, kept);
  for (const t of list) {
    if (t.disposed || t.kept) continue;
    if (kept.has(t)) {
      // Move the survivor to the enclosing scope so it is released there; out of the last scope,
      // it is the garbage collector's.
      if (scopes.length) scopes[scopes.length - 1].push(t);
      else t.markOutsideScope();
      continue;
    }
    t.dispose();
  }
}

function collectTensors(x: unknown, out: Set<Tensor>, depth = 0): void {
  if (x == null || depth > 4) return;
  if (x instanceof Tensor) { out.add(x); return; }
  if (Array.isArray(x)) { for (const v of x) collectTensors(v, out, depth + 1); return; }
  if (x instanceof Map) { for (const v of x.values()) collectTensors(v, out, depth + 1); return; }
  if (typeof x === 'object' && Object.getPrototypeOf(x) === Object.prototype) {
    for (const v of Object.values(x as object)) collectTensors(v, out, depth + 1);
  }
}

export type Nested = number | Nested[];

export class Tensor {
  readonly id = nextId++;
  readonly shape: readonly number[];
  readonly dtype: DType;
  readonly size: number;
  /** Byte offset of element 0 in its backend's block (views made by reshape/sliceBatch share a block). */
  readonly byteOffset: number;
  /**
   * @internal Heap backends only: the absolute byte address of element 0 in the WebAssembly heap,
   * which kernels read and write directly; -1 for other storage. Never used outside src/backend.
   */
  readonly offset: number;
  /** Released tensors keep their shape but may not be read. */
  disposed = false;
  /** Kept tensors survive the scope they were made in. */
  kept = false;
  /** Set by autograd on tensors whose gradient is wanted. */
  requiresGrad = false;
  /** Optional name (weights carry their Keras path). */
  name?: string;
  private readonly storage: Storage;

  /** @internal Use the creation functions (`tensor`, `zeros`, ...) instead. */
  constructor(shape: readonly number[], dtype: DType, storage?: Storage, byteOffset?: number) {
    checkDType(dtype, 'Tensor');
    this.shape = Object.freeze(shape.slice());
    this.dtype = dtype;
    this.size = sizeOf(this.shape);
    if (storage) {
      storage.refs++;
      this.storage = storage;
      this.byteOffset = byteOffset!;
    } else {
      const bytes = Math.max(1, this.size * BYTES[dtype]);
      const store = currentStore();
      this.storage = new Storage(store, store.alloc(bytes), bytes);
      registry?.register(this.storage, this.storage.rec, this.storage);
      this.byteOffset = 0;
    }
    this.offset = this.storage.ptr < 0 ? -1 : this.storage.ptr + this.byteOffset;
    if (scopes.length) scopes[scopes.length - 1].push(this);
    else if (!storage) setOutside(this.storage.rec, true);
  }

  get rank(): number { return this.shape.length; }

  /** @internal The backend that owns this tensor's data (reads and writes go through it). */
  get store(): BackendStorage { return this.storage.store; }
  /** @internal The owning backend's handle of the block. */
  get dataId(): DataId { return this.storage.id; }

  /**
   * @internal For heap backends' kernels only: a live view of the data in the WebAssembly heap. Do not
   * hold it across other allocations (the heap may grow). Elsewhere use dataSync()/data()/write.
   */
  view(): TypedArray {
    this.assertLive('view');
    if (this.offset < 0) throw new Error(`convnet: view(): tensor ${fmtShape(this.shape)} lives on the '${this.storage.store.storage}' backend's storage, not in the WebAssembly heap; read it with await t.data()`);
    return typedView(heap().memory.buffer, this.dtype, this.offset, this.size);
  }
  /** Float32 view (throws when the dtype differs). */
  f32(): Float32Array {
    if (this.dtype !== 'float32') throw new TypeError(`convnet: expected a float32 tensor, got ${this.dtype} ${fmtShape(this.shape)}`);
    return this.view() as Float32Array;
  }

  /**
   * A copy of the data as a typed array, read synchronously. Backends that cannot (webgpu) throw
   * an error pointing at `await t.data()`.
   */
  dataSync(): TypedArray {
    this.assertLive('dataSync');
    return this.storage.store.readSync(this);
  }
  /** A copy of the data as a typed array, once the backend's pending work is done (every backend). */
  async data(): Promise<TypedArray> {
    this.assertLive('data');
    return this.storage.store.read(this);
  }

  /** The data as nested arrays (a number for a scalar), read synchronously (see dataSync). */
  toArray(): Nested { return this.nest(this.dataSync()); }
  /** The data as nested arrays (a number for a scalar), on every backend. */
  async array(): Promise<Nested> { return this.nest(await this.data()); }

  /** Sets elements [at, at + values.length) (converting to this dtype like a typed-array set). */
  write(values: ArrayLike<number>, at = 0): this {
    this.assertLive('write');
    this.storage.store.write(this, values, at);
    return this;
  }

  private nest(v: TypedArray): Nested {
    if (this.shape.length === 0) return v[0];
    const build = (dim: number, off: number): Nested[] => {
      const n = this.shape[dim];
      const out: Nested[] = new Array(n);
      if (dim === this.shape.length - 1) {
        for (let i = 0; i < n; i++) out[i] = v[off + i];
      } else {
        const stride = sizeOf(this.shape.slice(dim + 1));
        for (let i = 0; i < n; i++) out[i] = build(dim + 1, off + i * stride);
      }
      return out;
    };
    return build(0, 0);
  }

  /** Same data, another shape (no copy; gradients flow through it). One dimension may be -1. */
  reshape(shape: readonly number[]): Tensor {
    this.assertLive('reshape');
    const s = inferShape(shape, this.size, 'reshape', this.shape);
    const y = new Tensor(s, this.dtype, this.storage, this.byteOffset);
    reshapeHook?.(this, y);
    return y;
  }

  /** Rows `start` to `end` (exclusive) along the first axis, sharing the data (no copy). */
  sliceBatch(start: number, end: number): Tensor {
    this.assertLive('sliceBatch');
    const n = this.shape[0];
    if (this.shape.length === 0 || !(Number.isInteger(start) && Number.isInteger(end)) || start < 0 || end > n || start > end) {
      throw new RangeError(`convnet: sliceBatch(${start}, ${end}) is out of range for shape ${fmtShape(this.shape)}`);
    }
    const row = this.size / (n || 1);
    return new Tensor([end - start, ...this.shape.slice(1)], this.dtype, this.storage, this.byteOffset + start * row * BYTES[this.dtype]);
  }

  /** A deep copy with its own storage. */
  clone(): Tensor {
    this.assertLive('clone');
    const t = new Tensor(this.shape, this.dtype);
    copyInto(this, t);
    return t;
  }

  /** @internal True when no other tensor shares this one's storage (so it may be updated in place). */
  get exclusive(): boolean { return this.storage.refs === 1; }

  /** Keeps this tensor alive past the scope it was made in (weights, state). */
  keep(): this {
    this.kept = true;
    setOutside(this.storage.rec, false); // meant to live: not garbage to look for
    return this;
  }

  /** @internal Counts this tensor's block as held outside any scope (it left the last scope alive). */
  markOutsideScope(): void { if (!this.kept && !this.disposed) setOutside(this.storage.rec, true); }

  /** Releases the memory now. Safe to call twice. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    releaseStorage(this.storage);
  }

  assertLive(what: string): void {
    if (this.disposed) throw new Error(`convnet: ${what}: tensor ${fmtShape(this.shape)} was already released (keep() tensors you need after their scope)`);
  }

  toString(): string {
    return `Tensor(${fmtShape(this.shape)}, ${this.dtype})`;
  }
}

/**
 * @internal dst = src (same size): on the owning backend when both share a storage, else through a
 * host copy. A dtype change converts as the backend's cast does.
 */
export function copyInto(src: Tensor, dst: Tensor): void {
  src.assertLive('copy'); dst.assertLive('copy');
  if (src.store.storage === dst.store.storage) dst.store.copy(src, dst);
  else dst.store.write(dst, src.store.readSync(src));
}

export function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Formats a shape like Python: (1, 153, 230, 1), (32,), (). */
export function fmtShape(shape: readonly (number | null)[]): string {
  const parts = shape.map((d) => (d === null ? 'None' : String(d)));
  return parts.length === 1 ? `(${parts[0]},)` : `(${parts.join(', ')})`;
}

function inferShape(shape: readonly number[], size: number, op: string, from: readonly number[]): number[] {
  const s = shape.slice();
  const neg = s.indexOf(-1);
  if (s.some((d, i) => !Number.isInteger(d) || (d < 0 && i !== neg)) || s.lastIndexOf(-1) !== neg) {
    throw new RangeError(`convnet: ${op}: invalid shape ${fmtShape(shape)}`);
  }
  if (neg >= 0) {
    const rest = sizeOf(s.filter((_, i) => i !== neg));
    if (rest === 0 || size % rest !== 0) throw new RangeError(`convnet: ${op}: cannot reshape ${fmtShape(from)} (${size} elements) to ${fmtShape(shape)}`);
    s[neg] = size / rest;
  }
  if (sizeOf(s) !== size) throw new RangeError(`convnet: ${op}: cannot reshape ${fmtShape(from)} (${size} elements) to ${fmtShape(shape)}`);
  return s;
}

function validateShape(shape: readonly number[], op: string): void {
  if (!Array.isArray(shape) || shape.some((d) => !Number.isInteger(d) || d < 0)) {
    throw new RangeError(`convnet: ${op}: shape must be a list of non-negative integers, got ${JSON.stringify(shape)}`);
  }
}

// ---- creation -----------------------------------------------------------------------------

/** An uninitialised tensor (contents are whatever the heap block held). */
export function empty(shape: readonly number[], dtype: DType = 'float32'): Tensor {
  checkDType(dtype, 'empty');
  validateShape(shape, 'empty');
  return new Tensor(shape, dtype);
}

export function full(shape: readonly number[], value: number, dtype: DType = 'float32', op = 'full'): Tensor {
  checkDType(dtype, op);
  validateShape(shape, op);
  const t = new Tensor(shape, dtype);
  t.store.fill(t, value);
  return t;
}
export function zeros(shape: readonly number[], dtype: DType = 'float32'): Tensor { return full(shape, 0, dtype, 'zeros'); }
export function ones(shape: readonly number[], dtype: DType = 'float32'): Tensor { return full(shape, 1, dtype, 'ones'); }
export function scalar(value: number, dtype: DType = 'float32'): Tensor { return full([], value, dtype, 'scalar'); }

/**
 * Creates a tensor from nested arrays, a flat array or a typed array.
 * `tensor([[1, 2], [3, 4]])` has shape [2, 2]; `tensor(new Uint8Array(12), [2, 2, 3])` keeps uint8.
 */
export function tensor(values: Nested | TypedArray | readonly number[], shape?: readonly number[], dtype?: DType): Tensor {
  if (dtype !== undefined) checkDType(dtype, 'tensor');
  if (ArrayBuffer.isView(values)) {
    const arr = values as TypedArray;
    const dt = dtype ?? dtypeOfArray(arr);
    const s = shape ?? [arr.length];
    validateShape(s, 'tensor');
    if (sizeOf(s) !== arr.length) throw new RangeError(`convnet: tensor: ${arr.length} values do not fill shape ${fmtShape(s)}`);
    const t = new Tensor(s, dt);
    t.store.write(t, arr as ArrayLike<number>);
    return t;
  }
  const inferred: number[] = [];
  let v: unknown = values;
  while (Array.isArray(v)) { inferred.push(v.length); v = v[0]; }
  const flat: number[] = [];
  const walk = (x: unknown, dim: number): void => {
    if (dim === inferred.length) {
      if (typeof x !== 'number' && typeof x !== 'boolean') throw new TypeError(`convnet: tensor: expected numbers, found ${JSON.stringify(x)}`);
      flat.push(Number(x));
      return;
    }
    if (!Array.isArray(x) || x.length !== inferred[dim]) throw new RangeError(`convnet: tensor: ragged nested array at depth ${dim} (expected length ${inferred[dim]})`);
    for (const e of x) walk(e, dim + 1);
  };
  walk(values, 0);
  const s = shape ?? inferred;
  validateShape(s, 'tensor');
  if (sizeOf(s) !== flat.length) throw new RangeError(`convnet: tensor: ${flat.length} values do not fill shape ${fmtShape(s)}`);
  const t = new Tensor(s, dtype ?? 'float32');
  t.store.write(t, flat);
  return t;
}
