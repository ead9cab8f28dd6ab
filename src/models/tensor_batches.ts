/**
 * A BatchIterator over in-memory tensors: `fit({ x, y, batchSize, shuffle })`. Unshuffled batches
 * are views (no copy); shuffled ones are gathered rows, reshuffled each epoch from the seeded generator.
 */
import { Tensor, fmtShape, rngFor, type Rng } from '../tensor/index.js';
import { takeRows } from '../ops/index.js';
import type { Batch, BatchIterator } from '../data/types.js';

export class TensorBatches implements BatchIterator {
  readonly samples: number;
  readonly batchSize: number;
  readonly length: number;
  private order: Int32Array | null = null;
  private readonly rng: Rng | null;

  constructor(readonly x: Tensor, readonly y: Tensor | null, batchSize = 32, shuffle = false, seed?: number) {
    if (!(x instanceof Tensor)) throw new TypeError('convnet: x must be a Tensor [samples, ...]');
    if (x.rank < 1) throw new RangeError(`convnet: x must have a batch axis, got shape ${fmtShape(x.shape)}`);
    if (y && y.shape[0] !== x.shape[0]) {
      throw new RangeError(`convnet: x has ${x.shape[0]} samples but y has ${y.shape[0]} (shapes ${fmtShape(x.shape)} and ${fmtShape(y.shape)})`);
    }
    if (!(Number.isInteger(batchSize) && batchSize > 0)) throw new RangeError(`convnet: batchSize must be a positive integer, got ${batchSize}`);
    this.samples = x.shape[0];
    this.batchSize = batchSize;
    this.length = Math.ceil(this.samples / batchSize);
    this.rng = shuffle ? rngFor(seed) : null;
    if (this.rng) this.order = this.rng.permutation(this.samples);
  }

  async getBatch(index: number): Promise<Batch> { return this.batch(index); }

  /** Batch `index` synchronously. */
  batch(index: number): Batch {
    if (!(index >= 0 && index < this.length)) throw new RangeError(`convnet: batch ${index} is out of range (${this.length} batches)`);
    const a = index * this.batchSize, b = Math.min(a + this.batchSize, this.samples);
    if (!this.order) return { x: this.x.sliceBatch(a, b), y: this.y ? this.y.sliceBatch(a, b) : null };
    const idx = this.order.subarray(a, b);
    return { x: takeRows(this.x, idx), y: this.y ? takeRows(this.y, idx) : null };
  }

  onEpochEnd(): void { if (this.rng) this.order = this.rng.permutation(this.samples); }
  reset(): void { /* the order is kept until the next epoch ends */ }
}

/** A batch of a model with any number of inputs and outputs. */
export interface FeedBatch { xs: Tensor[]; ys: Tensor[] | null }

/** What fit/evaluate/predict read batches from: in-memory tensors or the data pipeline. */
export interface Feed {
  readonly length: number;
  readonly samples: number;
  readonly batchSize: number;
  get(index: number): Promise<FeedBatch>;
  onEpochEnd(): void;
  reset?(): void;
}

/** Batches over in-memory tensors, one per input and per output, shuffled together. */
export class ListBatches implements Feed {
  readonly samples: number;
  readonly batchSize: number;
  readonly length: number;
  private order: Int32Array | null = null;
  private readonly rng: Rng | null;

  constructor(readonly xs: Tensor[], readonly ys: Tensor[] | null, batchSize = 32, shuffle = false, seed?: number) {
    if (!xs.length || !xs.every((x) => x instanceof Tensor)) throw new TypeError('convnet: x must be a Tensor [samples, ...] (or a list of them, one per input)');
    for (const x of xs) if (x.rank < 1) throw new RangeError(`convnet: x must have a batch axis, got shape ${fmtShape(x.shape)}`);
    const n = xs[0].shape[0];
    for (const t of [...xs, ...(ys ?? [])]) {
      if (!(t instanceof Tensor)) throw new TypeError('convnet: labels must be Tensors');
      if (t.shape[0] !== n) throw new RangeError(`convnet: x has ${n} samples but another array has ${t.shape[0]} (shapes ${[...xs, ...(ys ?? [])].map((a) => fmtShape(a.shape)).join(', ')})`);
    }
    if (!(Number.isInteger(batchSize) && batchSize > 0)) throw new RangeError(`convnet: batchSize must be a positive integer, got ${batchSize}`);
    this.samples = n;
    this.batchSize = batchSize;
    this.length = Math.ceil(n / batchSize);
    this.rng = shuffle ? rngFor(seed) : null;
    if (this.rng) this.order = this.rng.permutation(n);
  }

  async get(index: number): Promise<FeedBatch> {
    if (!(index >= 0 && index < this.length)) throw new RangeError(`convnet: batch ${index} is out of range (${this.length} batches)`);
    const a = index * this.batchSize, b = Math.min(a + this.batchSize, this.samples);
    const take = (t: Tensor) => (this.order ? takeRows(t, this.order.subarray(a, b)) : t.sliceBatch(a, b));
    return { xs: this.xs.map(take), ys: this.ys ? this.ys.map(take) : null };
  }

  onEpochEnd(): void { if (this.rng) this.order = this.rng.permutation(this.samples); }
  reset(): void { /* the order is kept until the next epoch ends */ }
}
