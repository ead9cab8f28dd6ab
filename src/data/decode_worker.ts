/**
 * A decode worker: decodes and resizes one image per message (and applies its augmentation), off the
 * main thread. Loaded by `pool.ts`; the TypeScript source runs under tsx, the built .js file otherwise.
 */
import { parentPort } from 'node:worker_threads';
import { setPriority } from 'node:os';
import sharp from 'sharp';
import { processImage, type ImageTask } from './process.js';

// One libvips thread per worker: the pool itself supplies the parallelism.
sharp.concurrency(1);
sharp.cache(false);

// Decoding yields to the engine's compute threads: on Linux, setpriority(pid 0) renices the calling
// thread only, i.e. this worker (and threads it starts). CONVNET_DECODE_NICE sets the niceness (0 turns it off).
{
  const nice = Number(process.env.CONVNET_DECODE_NICE ?? 10);
  if (Number.isInteger(nice) && nice > 0 && nice <= 19) {
    try { setPriority(0, nice); } catch { /* not permitted here: run at normal priority */ }
  }
}

parentPort!.on('message', async (task: ImageTask & { id: number }) => {
  const r = await processImage(task);
  const transfer: ArrayBuffer[] = [];
  if (r.ok) {
    if (r.raw) transfer.push(r.raw.buffer as ArrayBuffer);
    if (r.out && r.out.buffer !== r.raw?.buffer) transfer.push(r.out.buffer as ArrayBuffer);
  }
  parentPort!.postMessage({ id: task.id, ...r }, transfer);
});
