/**
 * `convnet bench` section `pipeline` (issue 12): does the input pipeline keep up with the engine?
 *
 * `fit` trains the notebook's model (src/notebook/model.ts, batch 128) for 2 epochs on the JPEGs of
 * ../shared/data/pets-dev at 150x150 through `flowFromDirectory` (decoded images cached after epoch 1,
 * uploaded as uint8 and rescaled in the engine). The figure is epoch 2's images/s, and its ratio to
 * the same `fit` over synthetic batches already in memory, measured in the same run on the same
 * backend (an epoch of up to 512 images after a warm-up epoch, before and after the folder run; their
 * mean). Target: ratio >= 0.85. On a shared machine the load drifts between those runs, so
 * `pipeline_ratio_paired` also times one more `fit` whose batches alternate between the folder (warm
 * cache) and the in-memory batch: the ratio of their mean batch times, each including its getBatch.
 * `--quick` uses 64 photos per class (links in a temporary folder, one batch per epoch) instead of all
 * 2,000, and measures the synthetic rate once.
 */
import { rmSync } from 'node:fs';
import { setSeed, type Tensor } from '../tensor/index.js';
import { backend, getThreads } from '../backend/index.js';
import { clearSession } from '../layers/index.js';
import { Callback } from '../models/callbacks.js';
import type { Sequential } from '../models/index.js';
import type { Batch, BatchIterator } from '../data/types.js';
import { ImageDataGenerator } from '../data/generator.js';
import { compiledModelFromConfig } from '../notebook/model.js';
import { NOTEBOOK_CONFIG } from '../notebook/space.js';
import { petsDevDir, linkSubset } from './decode.js';

type Figures = Record<string, number | string | null>;
const SIZE = 150;
const BATCH = 128;

/** Wall and CPU seconds of each epoch. */
class EpochTimer extends Callback {
  wall: number[] = [];
  cpu: number[] = [];
  private t = 0;
  private c = process.cpuUsage();
  async onEpochBegin(): Promise<void> { this.t = performance.now(); this.c = process.cpuUsage(); }
  async onEpochEnd(): Promise<void> {
    const u = process.cpuUsage(this.c);
    this.wall.push((performance.now() - this.t) / 1000);
    this.cpu.push((u.user + u.system) / 1e6);
  }
}

/**
 * `samples` images in batches of 128 already in memory: one batch of the same photos (decoded once,
 * rescaled), handed out again and again as copies, so the engine does the same work on the same
 * kind of pixels as in the folder run, with no input pipeline.
 */
class SyntheticBatches implements BatchIterator {
  readonly length: number;
  readonly batchSize = BATCH;
  constructor(readonly samples: number, private x: Tensor, private y: Tensor) {
    this.length = Math.ceil(samples / BATCH);
  }
  async getBatch(i: number): Promise<Batch> {
    const n = Math.min(BATCH, this.samples - i * BATCH);
    if (n === BATCH) return { x: this.x.clone(), y: this.y.clone() };
    return { x: this.x.sliceBatch(0, n).clone(), y: this.y.sliceBatch(0, n).clone() };
  }
  onEpochEnd(): void {}
  reset(): void {}
}

/** Wall seconds of each training batch, from the end of the batch before (or the epoch's start). */
class BatchTimer extends Callback {
  times: number[] = [];
  private last = 0;
  async onEpochBegin(): Promise<void> { this.last = performance.now(); }
  async onTrainBatchEnd(): Promise<void> {
    const t = performance.now();
    this.times.push((t - this.last) / 1000);
    this.last = t;
  }
}

/** 2k batches: even ones are batches 0..k-1 of the folder iterator's epoch, odd ones copies of the in-memory batch. */
class PairedBatches implements BatchIterator {
  readonly length: number;
  readonly samples: number;
  readonly batchSize = BATCH;
  constructor(private it: BatchIterator, private mem: Batch, k: number) {
    this.length = 2 * k;
    this.samples = this.length * BATCH;
  }
  async getBatch(i: number): Promise<Batch> {
    if (i % 2 === 0) return this.it.getBatch(i / 2);
    return { x: this.mem.x.clone(), y: this.mem.y!.clone() };
  }
  onEpochEnd(): void { this.it.onEpochEnd(); }
  reset(): void { this.it.reset(); }
}

function model(): Sequential {
  clearSession();
  setSeed(1);
  return compiledModelFromConfig(NOTEBOOK_CONFIG, SIZE, 1);
}

const round = (x: number, d = 1): number => Math.round(x * 10 ** d) / 10 ** d;

/** Images/s (wall) and per CPU-second of `fit` over synthetic batches: one warm-up epoch, then one timed. */
async function synthetic(samples: number, batch: Batch): Promise<{ wall: number; cpu: number }> {
  const m = model();
  const data = new SyntheticBatches(samples, batch.x, batch.y!);
  const timer = new EpochTimer();
  try {
    await m.fit(data, { epochs: 2, verbose: 0, callbacks: [timer] });
  } finally {
    m.dispose();
  }
  return { wall: samples / timer.wall[1], cpu: samples / timer.cpu[1] };
}

export async function run(opts: { quick: boolean; log: (line: string) => void }): Promise<Figures> {
  const { quick, log } = opts;
  const dir = petsDevDir();
  const out: Figures = { backend: backend().name, threads: getThreads() };
  if (!dir) {
    log('pipeline: ../shared/data/pets-dev not found, skipped');
    return { ...out, pipeline_img_s: null, synthetic_train_img_s: null, pipeline_ratio: null };
  }
  let root = dir;
  let tmp: string | null = null;
  if (quick) {
    // 64 photos per class: one batch per epoch.
    tmp = linkSubset(dir, 64, 'convnet-pipeline-');
    root = tmp;
  }
  try {
    const gen = new ImageDataGenerator({ rescale: 1 / 255 });
    const it = await gen.flowFromDirectory(root, { targetSize: [SIZE, SIZE], batchSize: BATCH, classMode: 'binary', seed: 42, verbose: false });
    const samples = it.samples;
    log(`pipeline: ${samples} photos of pets-dev at ${SIZE}x${SIZE}, batch ${BATCH}, notebook model, backend ${out.backend}, ${out.threads} threads`);

    const synthSamples = Math.min(samples, 4 * BATCH);
    // The in-memory batch: 128 of the photos, decoded by a separate iterator that is then closed.
    const one = await gen.flowFromDirectory(root, { targetSize: [SIZE, SIZE], batchSize: BATCH, classMode: 'binary', seed: 1, verbose: false, cache: false });
    const first = await one.getBatch(0);
    await one.close();
    first.x.keep(); first.y!.keep();
    const s1 = await synthetic(synthSamples, first);
    log(`pipeline: fit on synthetic batches in memory: ${round(s1.wall)} images/s (${round(s1.cpu)} per CPU-second)`);

    const m = model();
    const timer = new EpochTimer();
    let alone = 0, aloneCpu = 0, paired: number | null = null;
    let info = it.cacheInfo;
    let workers = 0;
    try {
      await m.fit(it, { epochs: 2, verbose: 0, callbacks: [timer] });
      workers = it.decodeWorkers;
      info = it.cacheInfo;
      // The pipeline alone on a warm cache: one more epoch of batches, no training (its headroom).
      const t0 = performance.now(), c0 = process.cpuUsage();
      for (let i = 0; i < it.length; i++) { const b = await it.getBatch(i); b.x.dispose(); b.y?.dispose(); }
      it.onEpochEnd();
      const cu = process.cpuUsage(c0);
      alone = samples / ((performance.now() - t0) / 1000);
      aloneCpu = samples / ((cu.user + cu.system) / 1e6);
      // Paired: one fit whose batches alternate between the folder (warm cache) and the in-memory
      // batch, each batch timed from the end of the one before (so its getBatch counts): load that
      // drifts over minutes hits both sides alike.
      const k = Math.min(8, Math.floor(samples / BATCH));
      if (k >= 2) {
        const p = new PairedBatches(it, first, k);
        const bt = new BatchTimer();
        await m.fit(p, { epochs: 1, verbose: 0, callbacks: [bt] });
        const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
        // Batch 0 is fetched before fit's loop starts: its time has no getBatch in it; left out.
        const folder = bt.times.filter((_, b) => b > 0 && b % 2 === 0), memory = bt.times.filter((_, b) => b % 2 === 1);
        paired = mean(memory) / mean(folder);
      }
    } finally {
      m.dispose();
    }
    await it.close();
    const e1 = samples / timer.wall[0], e2 = samples / timer.wall[1], e2cpu = samples / timer.cpu[1];
    log(`pipeline: fit on the folder: epoch 1 (decoding) ${round(e1)} images/s, epoch 2 (${info.kind} cache, ${info.count} images; ${workers} decode workers left) ${round(e2)} images/s (${round(e2cpu)} per CPU-second)`);

    log(`pipeline: batches alone from the warm cache (no training): ${round(alone, 0)} images/s (${round(aloneCpu, 0)} per CPU-second)`);
    if (paired !== null) log(`pipeline: fit alternating folder and in-memory batches: a folder batch takes ${(100 / paired).toFixed(1)}% of the time of an in-memory one (ratio ${round(paired, 3)})`);
    const s2 = quick ? s1 : await synthetic(synthSamples, first);
    first.x.dispose(); first.y!.dispose();
    if (!quick) log(`pipeline: fit on synthetic batches again: ${round(s2.wall)} images/s (${round(s2.cpu)} per CPU-second)`);
    const synth = (s1.wall + s2.wall) / 2, synthCpu = (s1.cpu + s2.cpu) / 2;
    const ratio = e2 / synth;
    log(`pipeline: epoch 2 reaches ${(100 * ratio).toFixed(0)}% of the synthetic rate (${(100 * e2cpu / synthCpu).toFixed(0)}% per CPU-second); target 85%`);
    return {
      ...out,
      pipeline_images: samples,
      pipeline_cache: info.kind,
      pipeline_epoch1_img_s: round(e1),
      pipeline_img_s: round(e2),
      pipeline_img_per_cpu_s: round(e2cpu),
      pipeline_batches_alone_img_s: round(alone, 0),
      pipeline_batches_alone_img_per_cpu_s: round(aloneCpu, 0),
      synthetic_train_img_s: round(synth),
      synthetic_train_img_per_cpu_s: round(synthCpu),
      pipeline_ratio: round(ratio, 3),
      pipeline_ratio_per_cpu: round(e2cpu / synthCpu, 3),
      pipeline_ratio_paired: paired === null ? null : round(paired, 3),
    };
  } finally {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  }
}
