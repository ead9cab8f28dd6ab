/**
 * DirectoryIterator: Keras's `flow_from_directory` iterator. Same files, same subsets, same batch
 * order and augmentation parameters for a given seed (NumPy's RandomState seeded with
 * `seed + total_batches_seen` before each batch, as Keras's `Iterator.__getitem__` does), with images
 * decoded in worker threads ahead of training and bad files reported and skipped instead of crashing.
 */
import { join } from 'node:path';
import { empty, rng, type Tensor } from '../tensor/index.js';
import { backend } from '../backend/index.js';
import type { Batch, BatchIterator } from './types.js';
import type { ImageDataGenerator } from './generator.js';
import type { TransformParams } from './augment.js';
import { transformBatch } from './augment_device.js';
import { NumpyRandomState } from './numpy_random.js';
import { KerasIterator } from './keras_iterator.js';
import { listDirectory, splitRange, type ListingNote } from './listing.js';
import { readHeader, mapLimit, DEFAULT_MAX_PIXELS } from './header.js';
import { checkInterpolation, channelsOf, type ColorMode, type DecodeOptions, type Interpolation } from './decode.js';
import { DecodePool, defaultWorkers } from './pool.js';
import { MemoryCache, FileCache, cacheKey, cacheDir, freeDisk, memoryBudget, memoryReserved, type ImageCache } from './cache.js';
import { normalizeOptions } from './options.js';
import type { ImageResult } from './process.js';

export type ClassMode = 'binary' | 'categorical' | 'sparse' | 'input' | null;

export interface FlowFromDirectoryOptions {
  /** [height, width], default [256, 256]. */
  targetSize?: [number, number];
  colorMode?: ColorMode;
  /** Class sub-folders to use, in label order (default: every sub-folder, sorted). */
  classes?: string[] | null;
  classMode?: ClassMode;
  batchSize?: number;
  shuffle?: boolean;
  seed?: number | null;
  followLinks?: boolean;
  subset?: 'training' | 'validation' | null;
  interpolation?: Interpolation;
  /** Centre-crop to the target's aspect ratio before resizing. */
  keepAspectRatio?: boolean;
  /** Decode workers (default: one per core; 0 decodes on the main thread). */
  workers?: number;
  /** Batches decoded ahead of the one asked for (default 2). */
  prefetch?: number;
  /**
   * Keeps the decoded, resized images (uint8, before augmentation) so later epochs skip decoding.
   * 'auto' (default): in memory when they fit the memory budget (`memoryBudget()` in src/data/cache.ts:
   * the smaller of a quarter of the machine's memory and half of what is free, or
   * `CONVNET_CACHE_MEMORY_MB`), else in a file under `CONVNET_CACHE_DIR` (default `<tmpdir>/convnet-cache`),
   * named by the files and settings so the next run reuses it; no cache when the disk is short.
   * true: in memory whatever the size; a path: in that file; false: decode every epoch.
   */
  cache?: boolean | string;
  /** Images with more pixels are left out (default Pillow's limit, 89,478,485). */
  maxPixels?: number;
  /**
   * Where augmentation, conversion to float and rescaling run. 'host': in the decode workers (Keras-exact,
   * float32 batches uploaded); 'device': in the engine on uint8 batches (affine2d, flip2d, reductions and
   * casts: what a GPU needs, the host only decodes); 'auto' (default): 'device' when the backend keeps
   * tensors off the host (webgpu), else 'host'. A preprocessingFunction always runs on the host.
   */
  augmentOn?: 'auto' | 'host' | 'device';
  /** Print the scan summary (default true). */
  verbose?: boolean;
  /** Where messages go (default console.log). */
  log?: (line: string) => void;
}

const KNOWN = ['targetSize', 'colorMode', 'classes', 'classMode', 'batchSize', 'shuffle', 'seed', 'followLinks', 'subset',
  'interpolation', 'keepAspectRatio', 'workers', 'prefetch', 'cache', 'maxPixels', 'augmentOn', 'verbose', 'log'];
const UNSUPPORTED = {
  saveToDir: 'saving augmented images is not implemented', savePrefix: 'saving augmented images is not implemented',
  saveFormat: 'saving augmented images is not implemented', dataFormat: "only 'channels_last' is supported",
};
const CLASS_MODES = ['binary', 'categorical', 'sparse', 'input', null];

/** A file left out while scanning, or dropped during an epoch. */
export interface SkippedFile { path: string; reason: string }

interface Plan {
  indices: Int32Array;
  params: TransformParams[];
  /** RNG state and batch count right after planning, for onEpochEnd. */
  rngState: NumpyRandomState;
  total: number;
  images: Promise<(ImageResult | null)[]>;
  /** Planned for the engine (images decoded only) or the host (augmented in the workers). */
  onDevice: boolean;
}

export class DirectoryIterator extends KerasIterator implements BatchIterator {
  readonly directory: string;
  readonly classIndices: Record<string, number>;
  readonly numClasses: number;
  /** Keras's filenames: '<class>/<file>', in class then walk order. */
  readonly filenames: string[];
  readonly filepaths: string[];
  /** Class index of each file. */
  readonly classes: Int32Array;
  readonly samples: number;
  readonly batchSize: number;
  readonly length: number;
  readonly shuffle: boolean;
  readonly seed: number | null;
  readonly subset: 'training' | 'validation' | null;
  readonly targetSize: [number, number];
  readonly colorMode: ColorMode;
  readonly classMode: ClassMode;
  readonly interpolation: Interpolation;
  readonly keepAspectRatio: boolean;
  /** Where batches are augmented and rescaled (see FlowFromDirectoryOptions.augmentOn). */
  readonly augmentOn: 'auto' | 'host' | 'device';
  /** [height, width, channels] of each image in a batch. */
  readonly imageShape: [number, number, number];
  /** Files left out by the scan, with the reason. */
  readonly skipped: SkippedFile[];
  /** Files that failed to decode during an epoch (reported once, then skipped). */
  readonly failed = new Map<number, string>();
  /** Folder-level notes from the scan (unreadable folders, links not followed, loops, hidden folders). */
  readonly notes: ListingNote[];
  /** The sample indices and augmentation parameters of the batch handed out last (for inspection and tests). */
  lastBatch: { index: number; indices: Int32Array; params: TransformParams[] } | null = null;

  private readonly gen: ImageDataGenerator;
  protected readonly rs: NumpyRandomState;
  private readonly pool: DecodePool;
  private readonly prefetch: number;
  private readonly cache: ImageCache | null;
  private readonly decodeOpts: DecodeOptions;
  private readonly log: (line: string) => void;
  private plans = new Map<number, Plan>();
  private cacheWarned = false;
  private lastConsumed: { rngState: NumpyRandomState; total: number } | null = null;

  private constructor(init: {
    directory: string; gen: ImageDataGenerator; classNames: string[]; filenames: string[]; filepaths: string[]; classes: Int32Array;
    o: Required<Omit<FlowFromDirectoryOptions, 'seed' | 'classes' | 'subset' | 'cache' | 'classMode' | 'log'>> & { seed: number | null; subset: 'training' | 'validation' | null; classMode: ClassMode };
    skipped: SkippedFile[]; notes: ListingNote[]; cache: ImageCache | null; log: (line: string) => void;
  }) {
    super();
    const { o } = init;
    this.directory = init.directory;
    this.gen = init.gen;
    this.classIndices = Object.fromEntries(init.classNames.map((c, i) => [c, i]));
    this.numClasses = init.classNames.length;
    this.filenames = init.filenames;
    this.filepaths = init.filepaths;
    this.classes = init.classes;
    this.samples = init.filenames.length;
    this.batchSize = o.batchSize;
    this.length = Math.ceil(this.samples / this.batchSize);
    this.shuffle = o.shuffle;
    this.seed = o.seed;
    this.subset = o.subset;
    this.targetSize = o.targetSize;
    this.colorMode = o.colorMode;
    this.classMode = o.classMode;
    this.interpolation = o.interpolation;
    this.keepAspectRatio = o.keepAspectRatio;
    this.augmentOn = o.augmentOn;
    this.imageShape = [o.targetSize[0], o.targetSize[1], channelsOf(o.colorMode)];
    this.skipped = init.skipped;
    this.notes = init.notes;
    this.cache = init.cache;
    this.log = init.log;
    // Unseeded iterators still repeat under setSeed(): the state is drawn from the global generator.
    this.rs = new NumpyRandomState(o.seed === null ? rng().nextU32() : 0);
    this.pool = new DecodePool(this.samples > 0 ? o.workers : 0);
    this.prefetch = o.prefetch;
    this.decodeOpts = { targetSize: o.targetSize, colorMode: o.colorMode, interpolation: o.interpolation, keepAspectRatio: o.keepAspectRatio, maxPixels: o.maxPixels };
  }

  /** Scans the folder (see ImageDataGenerator.flowFromDirectory). */
  static async create(directory: string, gen: ImageDataGenerator, options: FlowFromDirectoryOptions | Record<string, unknown>): Promise<DirectoryIterator> {
    const u = normalizeOptions<FlowFromDirectoryOptions>(options, KNOWN, 'flowFromDirectory', UNSUPPORTED);
    const targetSize = u.targetSize ?? [256, 256];
    if (!Array.isArray(targetSize) || targetSize.length !== 2 || !targetSize.every((d) => Number.isInteger(d) && d > 0)) {
      throw new RangeError(`convnet: flowFromDirectory: targetSize must be [height, width] with positive integers, got ${JSON.stringify(targetSize)}`);
    }
    const colorMode = u.colorMode ?? 'rgb';
    if (!['rgb', 'rgba', 'grayscale'].includes(colorMode)) throw new RangeError(`convnet: flowFromDirectory: colorMode must be 'rgb', 'rgba' or 'grayscale', got '${colorMode}'`);
    const classMode = u.classMode === undefined ? 'categorical' : u.classMode;
    if (!CLASS_MODES.includes(classMode)) throw new RangeError(`convnet: flowFromDirectory: classMode must be one of 'binary', 'categorical', 'sparse', 'input' or null, got '${classMode}'`);
    const batchSize = u.batchSize ?? 32;
    if (!Number.isInteger(batchSize) || batchSize <= 0) throw new RangeError(`convnet: flowFromDirectory: batchSize must be a positive integer, got ${batchSize}`);
    const subset = u.subset ?? null;
    if (subset !== null && subset !== 'training' && subset !== 'validation') throw new RangeError(`convnet: flowFromDirectory: subset must be 'training' or 'validation', got '${subset}'`);
    const seed = u.seed ?? null;
    if (seed !== null && !(Number.isInteger(seed) && seed >= 0 && seed <= 0xffffffff)) throw new RangeError(`convnet: flowFromDirectory: seed must be an integer between 0 and 2**32 - 1, got ${seed}`);
    const interpolation = checkInterpolation(u.interpolation ?? 'nearest');
    const augmentOn = u.augmentOn ?? 'auto';
    if (!['auto', 'host', 'device'].includes(augmentOn)) throw new RangeError(`convnet: flowFromDirectory: augmentOn must be 'auto', 'host' or 'device', got ${JSON.stringify(augmentOn)}`);
    if (augmentOn === 'device' && gen.preprocessingFunction) {
      throw new Error("convnet: flowFromDirectory: augmentOn 'device' cannot run the generator's preprocessingFunction (a host function); use augmentOn 'host' or 'auto'");
    }
    const workers = u.workers ?? defaultWorkers();
    const maxPixels = u.maxPixels ?? DEFAULT_MAX_PIXELS;
    const verbose = u.verbose ?? true;
    const log = u.log ?? ((l: string) => console.log(l));
    const say = (l: string) => { if (verbose) log(l); };

    const listing = await listDirectory(directory, { classes: u.classes ?? null, followLinks: u.followLinks ?? false });
    const candidates: { path: string; filename: string; classIndex: number }[] = [];
    for (const files of listing.perClass) {
      const [a, b] = splitRange(files.length, gen.validationSplit, subset);
      candidates.push(...files.slice(a, b));
    }
    const headers = await mapLimit(candidates, 32, (f) => readHeader(f.path, maxPixels));
    const skipped: SkippedFile[] = [];
    const signatures: { path: string; bytes: number; mtimeMs: number }[] = [];
    const keep = candidates.filter((f, i) => {
      const h = headers[i];
      if (h.ok) { signatures.push({ path: f.path, bytes: h.info.bytes, mtimeMs: h.info.mtimeMs }); return true; }
      const hidden = /(^|\/)\./.test(f.filename.split('/').pop()!);
      skipped.push({ path: f.path, reason: hidden ? `hidden file, ${h.reason}` : h.reason });
      return false;
    });

    for (const h of listing.hiddenClassDirs) say(`Ignoring hidden folder '${h}' in ${directory} (not a class; pass classes to use it).`);
    if (listing.classNames.length === 0) {
      say(`No class sub-folders in ${directory}: flowFromDirectory expects one sub-folder of images per class.`);
    } else {
      listing.perClass.forEach((files, ci) => { if (files.length === 0) say(`Class folder '${listing.classNames[ci]}' has no images.`); });
    }
    for (const n of listing.notes) say(`Note: ${n.path}: ${n.message}`);
    if (skipped.length) {
      const counts = new Map<string, number>();
      for (const s of skipped) { const k = s.reason.replace(/ \(.*$/, ''); counts.set(k, (counts.get(k) ?? 0) + 1); }
      const summary = [...counts].map(([k, n]) => `${n} ${k}`).join(', ');
      say(`Skipped ${skipped.length} file${skipped.length === 1 ? '' : 's'} that cannot be read as images (${summary}); see iterator.skipped or run \`convnet check ${directory}\`.`);
    }
    say(`Found ${keep.length} images belonging to ${listing.classNames.length} classes.`);

    const imageBytes = targetSize[0] * targetSize[1] * channelsOf(colorMode);
    const settings = { targetSize, colorMode, interpolation, keepAspectRatio: u.keepAspectRatio ?? false, maxPixels };
    const mode = u.cache ?? 'auto';
    if (typeof mode !== 'boolean' && typeof mode !== 'string') throw new TypeError(`convnet: flowFromDirectory: cache must be true, false, 'auto' or a file path, got ${JSON.stringify(mode)}`);
    let cache: ImageCache | null = null;
    const total = keep.length * imageBytes;
    const mb = (b: number) => `${(b / 2 ** 20).toFixed(0)} MiB`;
    if (keep.length === 0 || mode === false || mode === '') cache = null;
    else if (mode === true) cache = new MemoryCache(keep.length, imageBytes);
    else if (mode === 'auto') {
      cache = MemoryCache.reserve(keep.length, imageBytes);
      if (!cache) {
        const budget = Math.max(0, memoryBudget() - memoryReserved());
        const dir = cacheDir();
        const file = join(dir, `${cacheKey({ settings, files: keep.map((f) => f.path) })}.cache`);
        if (freeDisk(dir) < total + 2 ** 30) {
          say(`Not caching decoded images: ${mb(total)} is over the memory budget (${mb(budget)} left) and ${dir} has less than ${mb(total + 2 ** 30)} free; every epoch decodes again (set CONVNET_CACHE_DIR).`);
        } else {
          try {
            cache = await FileCache.open(file, signatures, imageBytes, settings);
            say(`Caching decoded images in ${file} (${mb(total)}, over the memory budget of ${mb(budget)}).`);
          } catch (e: any) {
            say(`Not caching decoded images: ${e?.message ?? e}`);
          }
        }
      }
    } else cache = await FileCache.open(mode, signatures, imageBytes, settings);
    return new DirectoryIterator({
      directory, gen, classNames: listing.classNames,
      filenames: keep.map((f) => f.filename), filepaths: keep.map((f) => f.path), classes: Int32Array.from(keep, (f) => f.classIndex),
      o: {
        targetSize: [targetSize[0], targetSize[1]], colorMode, classMode, batchSize, shuffle: u.shuffle ?? true, seed, followLinks: u.followLinks ?? false,
        subset, interpolation, keepAspectRatio: u.keepAspectRatio ?? false, workers, prefetch: u.prefetch ?? 2, maxPixels, augmentOn, verbose,
      },
      skipped, notes: listing.notes, cache, log,
    });
  }

  /** Keras's `labels`: the class index of every file. */
  get labels(): Int32Array { return this.classes; }

  /** Keras's `__getitem__` bookkeeping: reseed, count the batch, pick its indices and draw its augmentations. */
  private plan(index: number): Plan {
    const indices = this.indicesOf(index);
    const [h, w] = this.targetSize;
    const onDevice = this.onDevice;
    const aug = this.gen.augments && !onDevice;
    // Drawn even without augmentation (Keras draws the flips anyway), so the RNG stays in step.
    const params = Array.from(indices, () => this.gen.getRandomTransform(this.rs, h, w));
    const images = Promise.all(Array.from(indices, (j, k) => this.loadImage(j, aug ? params[k] : null)));
    // A plan nobody awaits must not surface as an unhandled rejection.
    images.catch(() => {});
    const rngState = new NumpyRandomState(0);
    copyState(this.rs, rngState);
    return { indices, params, rngState, total: this.totalBatchesSeen, images, onDevice };
  }

  private async loadImage(j: number, params: TransformParams | null): Promise<ImageResult | null> {
    if (this.failed.has(j)) return null;
    const cached = this.cache ? await this.cache.get(j) : null;
    const [h, w, c] = this.imageShape;
    if (cached && !params) return { ok: true, raw: cached, out: null, height: h, width: w, channels: c };
    const r = await this.pool.run({
      path: this.filepaths[j], pixels: cached ?? undefined, decode: this.decodeOpts, params,
      augment: this.gen.augment, keepRaw: !!this.cache && !cached,
    });
    if (!r.ok) {
      if (!this.failed.has(j)) {
        this.failed.set(j, r.error);
        this.log(`convnet: skipping ${this.filepaths[j]}: cannot decode (${r.error}); reported once, the epoch goes on.`);
      }
      return null;
    }
    if (r.height !== h || r.width !== w || r.channels !== c) {
      this.failed.set(j, `decoded to ${r.height}x${r.width}x${r.channels}, expected ${h}x${w}x${c}`);
      return null;
    }
    if (this.cache && !cached && r.raw) {
      await this.cache.set(j, r.raw);
      const err = (this.cache as FileCache).writeError;
      if (err && !this.cacheWarned) {
        this.cacheWarned = true;
        this.log(`convnet: cannot write the image cache ${(this.cache as FileCache).path} (${err}); images not cached yet are decoded every epoch.`);
      }
    }
    return r;
  }

  /** Batch `index` of the current epoch: x float32 [B, H, W, C] (rescaled), y per classMode. */
  async getBatch(index: number): Promise<Batch> {
    if (!Number.isInteger(index) || index < 0 || index >= this.length) {
      throw new RangeError(`convnet: getBatch(${index}): the iterator has ${this.length} batches (0 to ${this.length - 1})`);
    }
    let plan = this.plans.get(index);
    if (plan) this.plans.delete(index);
    else {
      // Asked out of order: forget what was prefetched for other positions, as Keras would not have drawn it.
      if (this.plans.size) this.rewind();
      plan = this.plan(index);
    }
    this.lastConsumed = { rngState: plan.rngState, total: plan.total };
    this.lastBatch = { index, indices: plan.indices, params: plan.params };
    // Prefetch the next batches of this epoch, planned in order so the draws stay Keras's.
    for (let k = index + 1; k <= Math.min(this.length - 1, index + this.prefetch); k++) {
      if (!this.plans.has(k)) this.plans.set(k, this.plan(k));
    }
    const images = await plan.images;
    return this.assemble(plan.indices, images, plan.params, plan.onDevice);
  }

  /**
   * Whether a batch of undistorted images goes to the engine as uint8, to be converted and rescaled
   * there: when nothing but `rescale` happens between decoding and the model (no preprocessing
   * function, no sample- or feature-wise normalisation). The floats are bit-identical to Keras's
   * float32(pixel) * float32(rescale), which is what the JavaScript path computes.
   */
  private get uint8Upload(): boolean {
    const g = this.gen;
    return !g.preprocessingFunction && !g.samplewiseCenter && !g.samplewiseStdNormalization && !g.featurewiseCenter && !g.featurewiseStdNormalization;
  }

  /**
   * Whether batches are augmented, converted and rescaled in the engine (augmentOn 'device', or 'auto'
   * on a backend whose tensors live off the host). Decided per batch: the backend may change.
   */
  get onDevice(): boolean {
    if (this.augmentOn === 'host' || this.gen.preprocessingFunction) return false;
    return this.augmentOn === 'device' || backend().storage !== 'heap';
  }

  /** The batch from its decoded (`onDevice`) or host-augmented images; `onDevice` as when it was planned. */
  private assemble(indices: Int32Array, images: (ImageResult | null)[], params: TransformParams[], onDevice: boolean): Batch {
    const [h, w, c] = this.imageShape;
    const per = h * w * c;
    const rows: { j: number; r: ImageResult & { ok: true }; p: TransformParams }[] = [];
    for (let k = 0; k < indices.length; k++) {
      const r = images[k];
      if (r && r.ok) rows.push({ j: indices[k], r, p: params[k] });
    }
    const b = rows.length;
    let x: Tensor;
    const device = onDevice || (this.uint8Upload && !this.gen.augments);
    if (device) {
      const x8 = empty([b, h, w, c], 'uint8');
      if (per % 4 === 0 || x8.store.storage === 'heap') rows.forEach(({ r }, i) => x8.write(r.raw!, i * per));
      else { // webgpu writes whole words: odd-sized uint8 rows go up as one block
        const all = new Uint8Array(b * per);
        rows.forEach(({ r }, i) => all.set(r.raw!, i * per));
        x8.write(all);
      }
      try {
        this.gen.warnUnfitted();
        x = transformBatch(x8, this.gen.augments ? rows.map(({ p }) => p) : null, this.gen.augment, this.gen);
      } finally {
        x8.dispose();
      }
    } else {
      x = empty([b, h, w, c], 'float32');
      const xt = x;
      rows.forEach(({ r }, i) => {
        let f = r.out ?? Float32Array.from(r.raw!);
        f = this.gen.standardize(f, this.imageShape);
        xt.write(f, i * per);
      });
    }
    let y: Tensor | null = null;
    switch (this.classMode) {
      case 'binary': case 'sparse': {
        y = empty([b], 'float32');
        y.write(rows.map(({ j }) => this.classes[j]));
        break;
      }
      case 'categorical': {
        const yv = new Float32Array(b * this.numClasses);
        rows.forEach(({ j }, i) => { yv[i * this.numClasses + this.classes[j]] = 1; });
        y = empty([b, this.numClasses], 'float32').write(yv);
        break;
      }
      case 'input': y = x.clone(); break;
      default: y = null;
    }
    return { x, y };
  }

  /** Drops prefetched plans and puts the RNG back where the last batch handed out left it. */
  private rewind(): void {
    this.plans.clear();
    if (this.lastConsumed) {
      copyState(this.lastConsumed.rngState, this.rs);
      this.totalBatchesSeen = this.lastConsumed.total;
    }
  }

  /** Keras's `on_epoch_end`: the next epoch's order, drawn from the state the last batch left. */
  onEpochEnd(): void {
    this.rewind();
    this.setIndexArray();
    void this.cache?.flush();
    // Once every image is cached and nothing is augmented, the decode workers have nothing left to do:
    // stop them (a record that turns out unreadable is decoded on the main thread).
    if (this.cache && (!this.gen.augments || this.onDevice) && this.cache.count + this.failed.size >= this.samples && this.pool.idle && this.pool.running) {
      void this.pool.close();
    }
  }

  /** How decoded images are kept: 'memory', 'file' or 'none', with the file's path and the records kept. */
  get cacheInfo(): { kind: 'memory' | 'file' | 'none'; path: string | null; count: number } {
    const c = this.cache;
    return { kind: c?.kind ?? 'none', path: c instanceof FileCache ? c.path : null, count: c?.count ?? 0 };
  }

  /** Decode workers running now (they stop once every image is cached and nothing is augmented). */
  get decodeWorkers(): number { return this.pool.running; }

  /** Keras's `reset`: forgets batches prefetched but not handed out. */
  reset(): void { this.rewind(); this.flowIndex = 0; }

  /** Stops the decode workers and closes a file cache. The iterator still works afterwards, decoding on the main thread. */
  async close(): Promise<void> {
    this.plans.clear();
    await this.pool.close();
    await this.cache?.close();
  }

  /**
   * Keras's `next(iterator)`: the next batch of an endless stream, exactly as Keras's `_flow_index`
   * hands them out (reseeded with seed + batches seen, a fresh order each time the stream wraps, the
   * last batch of a pass partial). For loops written as `while (true) { const b = await it.next(); ... }`.
   */
  async next(): Promise<Batch> {
    this.rewind();
    const indices = this.nextIndices();
    const [h, w] = this.targetSize;
    const params = Array.from(indices, () => this.gen.getRandomTransform(this.rs, h, w));
    const rngState = new NumpyRandomState(0);
    copyState(this.rs, rngState);
    this.lastConsumed = { rngState, total: this.totalBatchesSeen };
    this.lastBatch = { index: -1, indices, params };
    const onDevice = this.onDevice;
    const aug = this.gen.augments && !onDevice;
    const images = await Promise.all(Array.from(indices, (j, k) => this.loadImage(j, aug ? params[k] : null)));
    return this.assemble(indices, images, params, onDevice);
  }

  /** Batches of one epoch in order (getBatch(0..length-1)), then onEpochEnd(). */
  async *[Symbol.asyncIterator](): AsyncGenerator<Batch> {
    for (let i = 0; i < this.length; i++) yield await this.getBatch(i);
    this.onEpochEnd();
  }

  /** The absolute path of file `i` (for messages). */
  pathOf(i: number): string { return this.filepaths[i] ?? join(this.directory, this.filenames[i]); }
}

function copyState(from: NumpyRandomState, to: NumpyRandomState): void {
  const f = from as unknown as { mt: Uint32Array; pos: number };
  const t = to as unknown as { mt: Uint32Array; pos: number };
  t.mt.set(f.mt);
  t.pos = f.pos;
}
