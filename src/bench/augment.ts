/**
 * Augment bench section: augmented batches per second out of `flowFromDirectory` with
 * `augmentOn: 'host'` (the decode workers, Keras-exact) and `'device'` (the engine) on the backend in
 * use, no training, each the other's peer in the same run: the course notebook's augmentation at
 * 150x150, batch 128, on the first 256 photos per class of ../shared/data/pets-dev (64 with --quick),
 * decoded images cached (epoch 1 decodes and is not timed; epoch 2 is). Skips without the data.
 */
import { rmSync } from 'node:fs';
import { backend, getThreads } from '../backend/index.js';
import { ImageDataGenerator } from '../data/generator.js';
import { petsDevDir, linkSubset } from './decode.js';

/** Chollet's augmentation in the course notebook. */
const NOTEBOOK_AUGMENTATION = {
  rescale: 1 / 255, rotation_range: 40, width_shift_range: 0.2, height_shift_range: 0.2, shear_range: 0.2, zoom_range: 0.2, horizontal_flip: true,
};

async function throughput(root: string, augmentOn: 'host' | 'device'): Promise<{ wall: number; cpu: number }> {
  const gen = new ImageDataGenerator(NOTEBOOK_AUGMENTATION);
  const it = await gen.flowFromDirectory(root, { targetSize: [150, 150], batchSize: 128, classMode: 'binary', seed: 1, cache: true, augmentOn, verbose: false });
  try {
    const epoch = async (): Promise<void> => {
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
    return { wall: it.samples / s, cpu: it.samples / ((cu.user + cu.system) / 1e6) };
  } finally {
    await it.close();
  }
}

export async function run(opts: { quick: boolean; log: (line: string) => void }): Promise<Record<string, number | string | null>> {
  const { quick, log } = opts;
  const out: Record<string, number | string | null> = { backend: backend().name, threads: getThreads() };
  const dir = petsDevDir();
  if (!dir) {
    log('augment: ../shared/data/pets-dev not found, skipped');
    return { ...out, host_img_s: null, device_img_s: null };
  }
  const per = quick ? 64 : 256;
  const root = linkSubset(dir, per, 'convnet-augbench-');
  try {
    for (const on of ['host', 'device'] as const) {
      const r = await throughput(root, on);
      out[`${on}_img_s`] = Math.round(r.wall);
      out[`${on}_img_per_cpu_s`] = Math.round(r.cpu);
      log(`augment (${on}): ${2 * per} photos, notebook augmentation, 150x150, batch 128, backend ${out.backend}: ` +
        `${out[`${on}_img_s`]} images/s, ${out[`${on}_img_per_cpu_s`]} per CPU-second`);
    }
    out.device_vs_host = Math.round(((out.device_img_s as number) / (out.host_img_s as number)) * 100) / 100;
    return out;
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}
