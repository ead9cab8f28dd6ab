/**
 * The memory every tensor lives in: one WebAssembly.Memory, shared between the main thread and
 * the kernel workers when SharedArrayBuffer is available, so kernels never copy their inputs.
 *
 * Allocation is done here in JavaScript (the kernels never allocate): blocks are rounded up to a
 * size class and kept on a free list per class when released, so a training loop that allocates
 * the same shapes every step reuses the same blocks and the heap stops growing after step one.
 */
const PAGE = 65536;
/** Bytes at the bottom of the heap kept for kernel statics and the thread pool's control block. */
export const RESERVED_BYTES = 1 << 20;
const ALIGN = 64;
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
  private readonly live = new Map<number, number>(); // ptr -> class size
  /** Bytes handed out and not yet released. */
  bytesInUse = 0;

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

  /** High-water mark: bytes of the heap ever used for tensors (plus the reserved area). */
  get bytesReserved(): number { return this.top; }
  get byteLength(): number { return this.memory.buffer.byteLength; }

  /** Returns the byte offset of a fresh 64-byte-aligned block of at least `bytes` bytes. */
  alloc(bytes: number): number {
    const cls = sizeClass(Math.max(1, bytes));
    const list = this.freeLists.get(cls);
    let ptr: number;
    if (list && list.length > 0) {
      ptr = list.pop()!;
    } else {
      ptr = this.top;
      const end = ptr + cls;
      if (end > MAX_HEAP_BYTES) {
        throw new RangeError(
          `convnet: out of tensor memory: asked for ${fmtBytes(bytes)} with ${fmtBytes(this.bytesInUse)} in use ` +
          `(the WebAssembly heap is limited to 4 GiB). Use a smaller batch size or image size.`);
      }
      if (end > this.memory.buffer.byteLength) {
        const need = end - this.memory.buffer.byteLength;
        const grow = Math.max(need, Math.min(this.memory.buffer.byteLength, 256 << 20));
        const pages = Math.min(Math.ceil(grow / PAGE), 65536 - this.memory.buffer.byteLength / PAGE);
        this.memory.grow(pages);
      }
      this.top = end;
    }
    this.live.set(ptr, cls);
    this.bytesInUse += cls;
    return ptr;
  }

  release(ptr: number): void {
    const cls = this.live.get(ptr);
    if (cls === undefined) throw new Error(`convnet: internal error: double free of heap block ${ptr}`);
    this.live.delete(ptr);
    this.bytesInUse -= cls;
    let list = this.freeLists.get(cls);
    if (!list) { list = []; this.freeLists.set(cls, list); }
    list.push(ptr);
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
