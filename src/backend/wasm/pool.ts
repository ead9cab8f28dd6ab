/**
 * The kernel thread pool: workers that share the heap memory and run parts of a kernel call.
 *
 * Dispatch is synchronous and lock-free through the control block at heap bytes [0, 64 KiB):
 * the main thread writes the kernel id and parameter pointer, publishes a new generation in the
 * CLAIM word and wakes the workers; every thread (the main thread too, as thread 0) claims parts
 * with compare-and-swap until none is left; the main thread then waits until all parts are done.
 * A part's work is fixed by its index, never by which thread runs it, so results depend only on
 * the number of parts. Workers never keep the process alive (unref).
 */
const SEQ = 0, CLAIM = 1, DONE = 2, KERNEL = 3, NPARTS = 4, PARAMS = 5, READY = 6, ERROR = 7;
/** The most parts (and threads) one call is split into: CLAIM keeps the part index in 8 bits. */
export const MAX_PARTS = 64;

type KernelFn = (params: number, part: number, parts: number) => void;

interface WorkerLike { terminate(): unknown; unref?(): void; postMessage?(m: unknown): void }

const isNode = typeof process !== 'undefined' && !!process.versions?.node;
const nodeWorkers: typeof import('node:worker_threads') | undefined = isNode ? await import('node:worker_threads') : undefined;

/**
 * Whether this thread may block on Atomics.wait: Node's threads and a browser's Web Workers may; a
 * browser page's main thread may not, so there `run` spin-waits for the workers' parts (the call is
 * synchronous either way, and the main thread has run its own share of the parts first).
 */
let canWait = isNode || typeof (globalThis as { WorkerGlobalScope?: unknown }).WorkerGlobalScope !== 'undefined';

export class ThreadPool {
  private readonly ctl: Int32Array;
  private readonly workers: WorkerLike[] = [];
  private gen = 0;

  constructor(
    private readonly memory: WebAssembly.Memory,
    private readonly module: WebAssembly.Module,
    private readonly kernels: readonly string[],
    private readonly fns: KernelFn[],
  ) {
    this.ctl = new Int32Array(memory.buffer, 0, 1024);
    Atomics.store(this.ctl, CLAIM, 0xff);
    Atomics.store(this.ctl, NPARTS, 0);
  }

  /** Workers started so far (not all may be ready yet: the main thread then runs their parts). */
  get workerCount(): number { return this.workers.length; }
  get readyWorkers(): number { return Atomics.load(this.ctl, READY); }

  /** Makes sure `n` workers exist (they are never stopped, only left idle). */
  ensureWorkers(n: number): void {
    const shared = typeof SharedArrayBuffer !== 'undefined' && this.memory.buffer instanceof SharedArrayBuffer;
    if (!shared) return;
    while (this.workers.length < n) {
      const url = new URL('../../../lib/wasm-worker.mjs', import.meta.url);
      const data = { memory: this.memory, module: this.module, kernels: this.kernels };
      if (nodeWorkers) {
        const w = new nodeWorkers.Worker(url, { workerData: data });
        w.unref();
        w.on('error', () => { /* a dead worker only costs parallelism: the main thread claims its parts */ });
        this.workers.push(w);
      } else if (typeof Worker !== 'undefined') {
        const w = new Worker(url, { type: 'module' });
        w.postMessage(data);
        this.workers.push(w as unknown as WorkerLike);
      } else return;
    }
  }

  /** Runs parts 0..parts-1 of kernel `id` with the parameter block at `params`, on all threads. */
  run(id: number, params: number, parts: number): void {
    const fns = this.fns;
    if (parts <= 1 || this.workers.length === 0) {
      for (let i = 0; i < parts; i++) fns[id](params, i, parts);
      return;
    }
    const ctl = this.ctl;
    // Close the previous job first: a worker that read its CLAIM word must fail its CAS now.
    Atomics.store(ctl, CLAIM, 0xff);
    Atomics.store(ctl, KERNEL, id);
    Atomics.store(ctl, PARAMS, params);
    Atomics.store(ctl, NPARTS, parts);
    Atomics.store(ctl, DONE, 0);
    Atomics.store(ctl, ERROR, 0);
    this.gen = (this.gen + 1) & 0x7fffff;
    Atomics.store(ctl, CLAIM, this.gen << 8);
    Atomics.add(ctl, SEQ, 1);
    Atomics.notify(ctl, SEQ, parts - 1);
    let failure: unknown;
    // Thread 0: claim parts like any worker.
    for (;;) {
      const w = Atomics.load(ctl, CLAIM);
      const part = w & 0xff;
      if (part >= parts) break;
      if (Atomics.compareExchange(ctl, CLAIM, w, w + 1) !== w) continue;
      try { fns[id](params, part, parts); } catch (e) { failure ??= e; }
      Atomics.add(ctl, DONE, 1);
    }
    let d = Atomics.load(ctl, DONE);
    for (let i = 0; d < parts && i < 20000; i++) d = Atomics.load(ctl, DONE);
    while (d < parts) {
      if (canWait) {
        try { Atomics.wait(ctl, DONE, d, 100); } catch { canWait = false; }
      }
      d = Atomics.load(ctl, DONE);
    }
    if (failure) throw failure;
    if (Atomics.load(ctl, ERROR)) throw new Error(`convnet: internal error: kernel ${this.kernels[id]} failed in a worker`);
  }

  terminate(): void {
    for (const w of this.workers) w.terminate();
    this.workers.length = 0;
  }
}
