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
