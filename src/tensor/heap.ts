/**
 * The memory every tensor lives in: one WebAssembly.Memory, shared between the main thread and
 * the kernel workers when SharedArrayBuffer is available, so kernels never copy their inputs.
 *
 * Allocation is done here in JavaScript (the kernels never allocate). Small blocks are rounded up
 * to a size class and kept on a free list per class when released. Large blocks (activations,
 * gradients) come from an address-ordered free list, best fit, split and coalesced with their
 * neighbours, so a training step's peak heap stays close to its peak of live bytes, and a loop
 * that allocates the same shapes every step stops growing the heap after step one.
 */
const PAGE = 65536;
/** Bytes at the bottom of the heap kept for kernel statics and the thread pool's control block. */
export const RESERVED_BYTES = 1 << 20;
const ALIGN = 64;
/** Requests of at least this many bytes take the large-block path. */
const LARGE = 1 << 20;
/** Large blocks are multiples of this; a free remainder smaller than it is not split off. */
const LARGE_GRAIN = 1 << 16;
/** WebAssembly memory32 limit. */
export const MAX_HEAP_BYTES = 65536 * PAGE;

function sizeClass(bytes: number): number {
  if (bytes <= ALIGN) return ALIGN;
  // Classes 2^k and 1.5*2^k: at most a third wasted, few distinct classes.
  const k = 31 - Math.clz32(bytes - 1);
  const p = 2 ** k;
  if (bytes <= p) return p;
  const mid = p + p / 2;
  if (bytes <= mid) return Math.ceil(mid / ALIGN) * ALIGN;
  return p * 2;
}

export class Heap {
  readonly memory: WebAssembly.Memory;
  readonly shared: boolean;
  private top = RESERVED_BYTES;
  private readonly freeLists = new Map<number, number[]>();
  private readonly live = new Map<number, number>(); // ptr -> block size
  /** Live blocks that came from the large-block path. */
  private readonly largeLive = new Set<number>();
  /** Free large regions, sorted by address, never adjacent (coalesced). */
  private readonly largeFree: { ptr: number; size: number }[] = [];
  /** Highest `top` ever reached: the heap's real footprint. */
  peakBytes = RESERVED_BYTES;
  /** Bytes handed out and not yet released. */
  bytesInUse = 0;
  /**
   * Called before the heap would grow (or give up at 4 GiB): frees what it can (tensors that are
   * garbage but not yet finalized, see src/tensor/tensor.ts) and says whether it freed anything.
   * `hard` is true when the allocation would fail otherwise.
   */
  reclaim: ((hard: boolean) => boolean) | null = null;
  /** Bytes of live tensors made outside any scope (freed by dispose() or by the garbage collector). */
  outsideScopeBytes = 0;
  private reclaiming = false;

  constructor(initialBytes = 64 << 20) {
    const shared = typeof SharedArrayBuffer !== 'undefined' &&
      (typeof (globalThis as any).crossOriginIsolated === 'undefined' || (globalThis as any).crossOriginIsolated === true);
    const initial = Math.ceil(initialBytes / PAGE);
    let memory: WebAssembly.Memory;
    try {
      memory = new WebAssembly.Memory({ initial, maximum: 65536, shared } as WebAssembly.MemoryDescriptor);
    } catch {
      memory = new WebAssembly.Memory({ initial, maximum: 65536 });
    }
    this.memory = memory;
    this.shared = typeof SharedArrayBuffer !== 'undefined' && memory.buffer instanceof SharedArrayBuffer;
  }

  /** End of the used part of the heap (lowered again when its topmost large block is freed). */
  get bytesReserved(): number { return this.top; }
  get byteLength(): number { return this.memory.buffer.byteLength; }

  /** Returns the byte offset of a fresh 64-byte-aligned block of at least `bytes` bytes. */
  alloc(bytes: number): number {
    if (!Number.isFinite(bytes) || bytes < 0) throw new RangeError(`convnet: internal error: heap.alloc(${bytes})`);
    const want = Math.max(1, bytes);
    if (this.reclaim && !this.reclaiming && this.needsTop(want)) {
      // Growing the memory (or failing) is the moment to collect garbage tensors first; nothing is
      // mutated yet, so the reclaim's releases and this allocation do not interleave.
      const size = want >= LARGE ? Math.ceil(want / LARGE_GRAIN) * LARGE_GRAIN : sizeClass(want);
      this.reclaiming = true;
      try { this.reclaim(this.top + size > MAX_HEAP_BYTES); } finally { this.reclaiming = false; }
    }
    const ptr = want >= LARGE ? this.allocLarge(Math.ceil(want / LARGE_GRAIN) * LARGE_GRAIN, bytes) : this.allocSmall(sizeClass(want), bytes);
    this.bytesInUse += this.live.get(ptr)!;
    return ptr;
  }

  /** Whether an allocation of `want` bytes must take fresh space past the end of the memory. */
  private needsTop(want: number): boolean {
    if (want >= LARGE) {
      const size = Math.ceil(want / LARGE_GRAIN) * LARGE_GRAIN;
      for (const r of this.largeFree) if (r.size >= size) return false;
      const last = this.largeFree[this.largeFree.length - 1];
      const start = last && last.ptr + last.size === this.top ? last.ptr : this.top;
      return start + size > this.memory.buffer.byteLength;
    }
    const cls = sizeClass(want);
    const list = this.freeLists.get(cls);
    return !(list && list.length > 0) && this.top + cls > this.memory.buffer.byteLength;
  }

  private allocSmall(cls: number, bytes: number): number {
    const list = this.freeLists.get(cls);
    const ptr = list && list.length > 0 ? list.pop()! : this.fromTop(cls, bytes);
    this.live.set(ptr, cls);
    return ptr;
  }

  private allocLarge(size: number, bytes: number): number {
    const free = this.largeFree;
    let best = -1;
    for (let i = 0; i < free.length; i++) {
      if (free[i].size >= size && (best < 0 || free[i].size < free[best].size)) best = i;
    }
    let ptr: number;
    if (best >= 0) {
      const r = free[best];
      ptr = r.ptr;
      if (r.size - size >= LARGE_GRAIN) { r.ptr += size; r.size -= size; } else { size = r.size; free.splice(best, 1); }
    } else if (free.length && free[free.length - 1].ptr + free[free.length - 1].size === this.top) {
      // The last free region touches the top: extend it instead of leaving it behind.
      const r = free.pop()!;
      this.top = r.ptr;
      ptr = this.fromTop(size, bytes);
    } else {
      ptr = this.fromTop(size, bytes);
    }
    this.live.set(ptr, size);
    this.largeLive.add(ptr);
    return ptr;
  }

  private fromTop(size: number, bytes: number): number {
    const ptr = this.top;
    const end = ptr + size;
    if (end > MAX_HEAP_BYTES) {
      const outside = this.outsideScopeBytes > 0
        ? ` ${fmtBytes(this.outsideScopeBytes)} of it is held by tensors made outside any scope and not disposed: dispose() them, or work inside scope().`
        : '';
      throw new RangeError(
        `convnet: out of tensor memory: asked for ${fmtBytes(bytes)} with ${fmtBytes(this.bytesInUse)} in use ` +
        `(the WebAssembly heap is limited to 4 GiB). Use a smaller batch size or image size.${outside}`);
    }
    if (end > this.memory.buffer.byteLength) {
      const need = end - this.memory.buffer.byteLength;
      const grow = Math.max(need, Math.min(this.memory.buffer.byteLength, 256 << 20));
      const pages = Math.min(Math.ceil(grow / PAGE), 65536 - this.memory.buffer.byteLength / PAGE);
      this.memory.grow(pages);
    }
    this.top = end;
    if (end > this.peakBytes) this.peakBytes = end;
    return ptr;
  }

  release(ptr: number): void {
    const size = this.live.get(ptr);
    if (size === undefined) throw new Error(`convnet: internal error: double free of heap block ${ptr}`);
    this.live.delete(ptr);
    this.bytesInUse -= size;
    if (this.largeLive.delete(ptr)) { this.releaseLarge(ptr, size); return; }
    let list = this.freeLists.get(size);
    if (!list) { list = []; this.freeLists.set(size, list); }
    list.push(ptr);
  }

  private releaseLarge(ptr: number, size: number): void {
    const free = this.largeFree;
    let lo = 0, hi = free.length;
    while (lo < hi) { const mid = (lo + hi) >> 1; if (free[mid].ptr < ptr) lo = mid + 1; else hi = mid; }
    let i = lo;
    free.splice(i, 0, { ptr, size });
    if (i > 0 && free[i - 1].ptr + free[i - 1].size === ptr) { free[i - 1].size += size; free.splice(i, 1); i--; }
    if (i + 1 < free.length && free[i].ptr + free[i].size === free[i + 1].ptr) { free[i].size += free[i + 1].size; free.splice(i + 1, 1); }
    const r = free[i];
    if (r.ptr + r.size === this.top) { this.top = r.ptr; free.splice(i, 1); }
  }

  /** Number of live blocks (for leak tests). */
  get liveBlocks(): number { return this.live.size; }
}

export function fmtBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1 << 20) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1 << 30) return `${(n / (1 << 20)).toFixed(1)} MiB`;
  return `${(n / (1 << 30)).toFixed(2)} GiB`;
}

let theHeap: Heap | undefined;
/** The process-wide heap (created on first use). */
export function heap(): Heap {
  if (!theHeap) theHeap = new Heap();
  return theHeap;
}
