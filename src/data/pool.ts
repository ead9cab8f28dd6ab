/**
 * A small pool of decode workers (worker_threads). Each worker takes a couple of images at a time so
 * it never waits on the main thread; workers only keep the process alive while they have work.
 */
import { Worker } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { processImage, type ImageTask, type ImageResult } from './process.js';

interface Slot { worker: Worker; busy: number; tasks: Map<number, Pending> }
interface Pending { task: ImageTask; resolve: (r: ImageResult) => void }

/** Default number of decode workers: every core (the main thread mostly waits on them). */
export function defaultWorkers(): number { return Math.max(1, availableParallelism()); }

/** A worker script that registers tsx's loader, then imports the TypeScript worker (null without tsx). */
function tsxBoot(url: URL): string | null {
  try {
    const api = pathToFileURL(createRequire(import.meta.url).resolve('tsx/esm/api').replace(/\.cjs$/, '.mjs')).href;
    return `import(${JSON.stringify(api)}).then((m) => { m.register(); return import(${JSON.stringify(url.href)}); });`;
  } catch {
    return null;
  }
}

export class DecodePool {
  private slots: Slot[] = [];
  private queue: Pending[] = [];
  private waiting = new Map<number, (r: ImageResult) => void>();
  private nextId = 1;
  private failed = false;
  private closed = false;

  constructor(readonly size: number, private readonly perWorker = 2) {
    if (size <= 0) return;
    const here = new URL(import.meta.url);
    const ext = here.pathname.endsWith('.ts') ? '.ts' : '.js';
    const url = new URL(`./decode_worker${ext}`, here);
    // Under tsx (tests, `tsx src/...`) worker threads do not inherit its loader: the worker registers it first.
    const boot = ext === '.ts' ? tsxBoot(url) : null;
    try {
      for (let i = 0; i < size; i++) {
        const worker = boot ? new Worker(boot, { eval: true }) : new Worker(url);
        worker.unref();
        const slot: Slot = { worker, busy: 0, tasks: new Map() };
        worker.on('message', (m: ImageResult & { id: number }) => {
          slot.busy--;
          slot.tasks.delete(m.id);
          this.updateRef(slot);
          const done = this.waiting.get(m.id);
          this.waiting.delete(m.id);
          const { id: _id, ...r } = m;
          done?.(r as ImageResult);
          this.pump();
        });
        worker.on('error', (e) => this.onWorkerError(slot, e));
        this.slots.push(slot);
      }
    } catch {
      this.failed = true;
    }
  }

  private updateRef(s: Slot): void { if (s.busy > 0) s.worker.ref(); else s.worker.unref(); }

  private onWorkerError(slot: Slot, e: Error): void {
    // A worker that dies (it should not) fails its images; the rest carry on, on the main thread if none is left.
    this.slots = this.slots.filter((s) => s !== slot);
    if (!this.slots.length) this.failed = true;
    for (const [id, p] of slot.tasks) { this.waiting.delete(id); this.queue.unshift(p); }
    slot.tasks.clear();
    void slot.worker.terminate().catch(() => {});
    if (process.env.CONVNET_DEBUG) console.warn(`convnet: decode worker stopped: ${e.message}`);
    this.pump();
  }

  /** Decodes (and augments) one image. */
  run(task: ImageTask): Promise<ImageResult> {
    if (this.failed || this.closed || this.size <= 0) return processImage(task);
    return new Promise((resolve) => { this.queue.push({ task, resolve }); this.pump(); });
  }

  private pump(): void {
    while (this.queue.length) {
      if (this.failed) { const p = this.queue.shift()!; processImage(p.task).then(p.resolve); continue; }
      let best: Slot | undefined;
      for (const s of this.slots) if (s.busy < this.perWorker && (!best || s.busy < best.busy)) best = s;
      if (!best) return;
      const p = this.queue.shift()!;
      const id = this.nextId++;
      this.waiting.set(id, p.resolve);
      best.tasks.set(id, p);
      best.busy++;
      this.updateRef(best);
      best.worker.postMessage({ id, ...p.task });
    }
  }

  /** No image queued or in a worker. */
  get idle(): boolean { return this.queue.length === 0 && this.waiting.size === 0; }

  /** Workers running (0 once closed). */
  get running(): number { return this.closed || this.failed ? 0 : this.slots.length; }

  /** Stops the workers. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
    this.slots = [];
  }
}
