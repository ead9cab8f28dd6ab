/**
 * A decode worker: decodes and resizes one image per message (and applies its augmentation), off the
 * main thread. Loaded by `pool.ts`; the TypeScript source runs under tsx, the built .js file otherwise.
 */
import { parentPort } from 'node:worker_threads';
import sharp from 'sharp';
import { processImage, type ImageTask } from './process.js';

// One libvips thread per worker: the pool itself supplies the parallelism.
sharp.concurrency(1);
sharp.cache(false);

parentPort!.on('message', async (task: ImageTask & { id: number }) => {
  const r = await processImage(task);
  const transfer: ArrayBuffer[] = [];
  if (r.ok) {
    if (r.raw) transfer.push(r.raw.buffer as ArrayBuffer);
    if (r.out && r.out.buffer !== r.raw?.buffer) transfer.push(r.out.buffer as ArrayBuffer);
  }
  parentPort!.postMessage({ id: task.id, ...r }, transfer);
});
