/**
 * ArrayIterator: Keras's `ImageDataGenerator.flow(x, y)` (NumpyArrayIterator) over images already in
 * tensors: the same batch order and augmentation draws as Keras for a seed (NumPy's RandomState seeded
 * with `seed + total_batches_seen` before each batch), with the augmentation on the host (Keras's
 * arithmetic) or in the engine (`augmentOn`, as flowFromDirectory). Images kept as uint8 tensors on a
 * GPU are gathered, converted and augmented there: nothing goes back to the host.
 * Browser-safe (no Node modules).
 */
import { rng, tensor, type Tensor } from '../tensor/index.js';
import { backend } from '../backend/index.js';
import { takeRows, cast } from '../ops/index.js';
import type { Batch, BatchIterator } from './types.js';
import type { ImageDataGenerator } from './generator.js';
import type { TransformParams } from './augment.js';
import { transformBatch } from './augment_device.js';
import { NumpyRandomState } from './numpy_random.js';
import { KerasIterator } from './keras_iterator.js';
import { normalizeOptions } from './options.js';

export interface FlowOptions {
  batchSize?: number;
  shuffle?: boolean;
  seed?: number | null;
  /** With the generator's validationSplit: 'validation' is the first int(n * split) images, 'training' the rest (Keras's split). */
  subset?: 'training' | 'validation' | null;
  /** As in flowFromDirectory: 'host', 'device', or 'auto' (device when tensors live off the host). */
  augmentOn?: 'auto' | 'host' | 'device';
}

const KNOWN = ['batchSize', 'shuffle', 'seed', 'subset', 'augmentOn'];
const UNSUPPORTED = {
  sampleWeight: 'sample weights are not implemented for flow', saveToDir: 'saving augmented images is not implemented',
  savePrefix: 'saving augmented images is not implemented', saveFormat: 'saving augmented images is not implemented',
  ignoreClassSplit: 'the class check of subsets is not implemented (never made)',
};

export class ArrayIterator extends KerasIterator implements BatchIterator {
  readonly samples: number;
  readonly batchSize: number;
  readonly length: number;
  readonly shuffle: boolean;
  readonly seed: number | null;
  readonly augmentOn: 'auto' | 'host' | 'device';
  /** [height, width, channels] of each image. */
  readonly imageShape: [number, number, number];
  /** The sample indices and augmentation parameters of the batch handed out last. */
  lastBatch: { index: number; indices: Int32Array; params: TransformParams[] } | null = null;
  protected readonly rs: NumpyRandomState;

  constructor(private readonly x: Tensor, private readonly y: Tensor | null, private readonly gen: ImageDataGenerator,
    options: FlowOptions | Record<string, unknown> = {}) {
    super();
    const o = normalizeOptions<FlowOptions>(options, KNOWN, 'flow', UNSUPPORTED);
    if (x.rank !== 4) throw new RangeError(`convnet: flow: x must be images [n, height, width, channels], got shape [${x.shape.join(', ')}]`);
    if (x.dtype !== 'uint8' && x.dtype !== 'float32') throw new TypeError(`convnet: flow: x must be uint8 or float32 images, got ${x.dtype}`);
    if (y && y.shape[0] !== x.shape[0]) throw new RangeError(`convnet: flow: x has ${x.shape[0]} images but y has ${y.shape[0]} rows; they must match`);
    const batchSize = o.batchSize ?? 32;
    if (!Number.isInteger(batchSize) || batchSize <= 0) throw new RangeError(`convnet: flow: batchSize must be a positive integer, got ${batchSize}`);
    const seed = o.seed ?? null;
    if (seed !== null && !(Number.isInteger(seed) && seed >= 0 && seed <= 0xffffffff)) throw new RangeError(`convnet: flow: seed must be an integer between 0 and 2**32 - 1, got ${seed}`);
    const augmentOn = o.augmentOn ?? 'auto';
    if (!['auto', 'host', 'device'].includes(augmentOn)) throw new RangeError(`convnet: flow: augmentOn must be 'auto', 'host' or 'device', got ${JSON.stringify(augmentOn)}`);
    if (augmentOn === 'device' && gen.preprocessingFunction) {
      throw new Error("convnet: flow: augmentOn 'device' cannot run the generator's preprocessingFunction (a host function); use augmentOn 'host' or 'auto'");
    }
    const subset = o.subset ?? null;
    if (subset !== null) {
      if (subset !== 'training' && subset !== 'validation') throw new RangeError(`convnet: flow: subset must be 'training' or 'validation', got '${subset}'`);
      if (!gen.validationSplit) throw new RangeError("convnet: flow: subset needs the generator's validationSplit");
      const split = Math.floor(x.shape[0] * gen.validationSplit);
      const [a, b] = subset === 'validation' ? [0, split] : [split, x.shape[0]];
      this.x = x.sliceBatch(a, b);
      this.y = y ? y.sliceBatch(a, b) : null;
    }
    this.samples = this.x.shape[0];
    this.batchSize = batchSize;
    this.length = Math.ceil(this.samples / batchSize);
    this.shuffle = o.shuffle ?? true;
    this.seed = seed;
    this.augmentOn = augmentOn;
    this.imageShape = [x.shape[1], x.shape[2], x.shape[3]];
    this.rs = new NumpyRandomState(seed === null ? rng().nextU32() : 0);
  }

  /** Whether batches are augmented in the engine (see FlowOptions.augmentOn). */
  get onDevice(): boolean {
    if (this.augmentOn === 'host' || this.gen.preprocessingFunction) return false;
    return this.augmentOn === 'device' || backend().storage !== 'heap';
  }

  /** Keras's `__getitem__`: reseed, count the batch, pick its indices and draw its augmentations. */
  async getBatch(index: number): Promise<Batch> {
    if (!Number.isInteger(index) || index < 0 || index >= this.length) {
      throw new RangeError(`convnet: getBatch(${index}): the iterator has ${this.length} batches (0 to ${this.length - 1})`);
    }
    return this.batch(index, this.indicesOf(index));
  }

  /** Keras's `next(iterator)`: the next batch of the endless stream (`_flow_index`). */
  async next(): Promise<Batch> {
    return this.batch(-1, this.nextIndices());
  }

  /** Keras's `_get_batches_of_transformed_samples`: draws per image, then transform + standardize. */
  private batch(index: number, indices: Int32Array): Batch {
    const [h, w, c] = this.imageShape;
    const params = Array.from(indices, () => this.gen.getRandomTransform(this.rs, h, w));
    this.lastBatch = { index, indices, params };
    let x: Tensor;
    if (this.onDevice) {
      const rows = takeRows(this.x, indices);
      try {
        this.gen.warnUnfitted();
        x = transformBatch(rows, this.gen.augments ? params : null, this.gen.augment, this.gen);
      } finally {
        rows.dispose();
      }
    } else {
      const per = h * w * c;
      const out = new Float32Array(indices.length * per);
      indices.forEach((j, i) => {
        const img = Float32Array.from(this.x.sliceBatch(j, j + 1).dataSync());
        const t = this.gen.augments ? this.gen.applyTransform(img, this.imageShape, params[i]) : img;
        out.set(this.gen.standardize(t, this.imageShape), i * per);
      });
      x = tensor(out, [indices.length, h, w, c]);
    }
    let y: Tensor | null = null;
    if (this.y) {
      const yr = takeRows(this.y, indices);
      if (yr.dtype === 'float32') y = yr;
      else { y = cast(yr, 'float32'); yr.dispose(); }
    }
    return { x, y };
  }

  /** Keras's `on_epoch_end`: the next epoch's order. */
  onEpochEnd(): void { this.setIndexArray(); }

  /** Keras's `reset`. */
  reset(): void { this.flowIndex = 0; }

  /** Batches of one epoch in order, then onEpochEnd(). */
  async *[Symbol.asyncIterator](): AsyncGenerator<Batch> {
    for (let i = 0; i < this.length; i++) yield await this.getBatch(i);
    this.onEpochEnd();
  }
}
