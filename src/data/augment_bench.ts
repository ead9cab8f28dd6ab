/**
 * How fast augmented batches come out of `flowFromDirectory` with augmentOn 'host' and 'device' on the
 * backend in use (no training): the notebook's augmentation at 150x150, batch 128, decoded images
 * cached (epoch 1 decodes and is not timed; epoch 2 is). Run:
 *   npx tsx src/data/augment_bench.ts [folder (default ../shared/data/pets-dev)] [photos per class (default 256)]
 * with CONVNET_BACKEND=native|wasm|reference. Prints one JSON line per path.
 */
import { mkdtempSync, mkdirSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { tmpdir } from 'node:os';
import { backend, getThreads } from '../backend/index.js';
import { ImageDataGenerator } from './generator.js';

/** Chollet's augmentation in the course notebook. */
export const NOTEBOOK_AUGMENTATION = {
  rescale: 1 / 255, rotation_range: 40, width_shift_range: 0.2, height_shift_range: 0.2, shear_range: 0.2, zoom_range: 0.2, horizontal_flip: true,
};

export async function augmentThroughput(root: string, augmentOn: 'host' | 'device', size = 150, batch = 128): Promise<{ images: number; img_s: number; img_per_cpu_s: number }> {
  const gen = new ImageDataGenerator(NOTEBOOK_AUGMENTATION);
  const it = await gen.flowFromDirectory(root, { targetSize: [size, size], batchSize: batch, classMode: 'binary', seed: 1, cache: true, augmentOn, verbose: false });
  try {
    const epoch = async () => {
      for (let i = 0; i < it.length; i++) {
        const b = await it.getBatch(i);
        await b.x.data(); // finished (on a GPU backend the work is queued until read)
        b.x.dispose(); b.y?.dispose();
      }
      it.onEpochEnd();
    };
    await epoch();
    const t0 = performance.now(), c0 = process.cpuUsage();
    await epoch();
    const s = (performance.now() - t0) / 1000, cu = process.cpuUsage(c0);
    return { images: it.samples, img_s: Math.round(it.samples / s), img_per_cpu_s: Math.round(it.samples / ((cu.user + cu.system) / 1e6)) };
  } finally {
    await it.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const dir = resolve(process.argv[2] ?? '../shared/data/pets-dev');
  const per = Number(process.argv[3] ?? 256);
  const tmp = mkdtempSync(join(tmpdir(), 'convnet-augbench-'));
  try {
    for (const c of readdirSync(dir).filter((d) => !d.startsWith('.')).sort()) {
      mkdirSync(join(tmp, c));
      for (const f of readdirSync(join(dir, c)).sort().slice(0, per)) symlinkSync(join(dir, c, f), join(tmp, c, f));
    }
    for (const on of ['host', 'device'] as const) {
      const r = await augmentThroughput(tmp, on);
      console.log(JSON.stringify({ augmentOn: on, backend: backend().name, threads: getThreads(), ...r }));
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
