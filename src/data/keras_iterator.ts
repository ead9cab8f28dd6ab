/**
 * Keras's `Iterator` bookkeeping, shared by `flow_from_directory` (DirectoryIterator) and `flow`
 * (ArrayIterator) as Keras shares it: each epoch's order (a permutation drawn from the iterator's
 * NumPy RandomState when shuffling), the reseeding with `seed + total_batches_seen` before each
 * batch, and `next()`'s endless stream (`_flow_index`: a fresh order each time it wraps, the last
 * batch of a pass partial).
 */
import type { NumpyRandomState } from './numpy_random.js';

export abstract class KerasIterator {
  abstract readonly samples: number;
  abstract readonly batchSize: number;
  abstract readonly shuffle: boolean;
  abstract readonly seed: number | null;
  protected abstract readonly rs: NumpyRandomState;
  /** Keras's `total_batches_seen`. */
  totalBatchesSeen = 0;
  /** The current epoch's order (null until the first batch). */
  indexArray: Int32Array | null = null;
  /** Keras's `batch_index` of the endless `next()` stream. */
  protected flowIndex = 0;

  /** Keras's `_set_index_array`. */
  protected setIndexArray(): void {
    this.indexArray = this.shuffle ? this.rs.permutation(this.samples) : Int32Array.from({ length: this.samples }, (_, i) => i);
  }

  private reseed(): void {
    if (this.seed !== null) this.rs.seed((this.seed + this.totalBatchesSeen) % 4294967296);
  }

  /** `__getitem__`'s bookkeeping: reseed, count the batch, and the sample indices of batch `index`. */
  protected indicesOf(index: number): Int32Array {
    this.reseed();
    this.totalBatchesSeen++;
    if (!this.indexArray) this.setIndexArray();
    return this.indexArray!.slice(this.batchSize * index, this.batchSize * (index + 1));
  }

  /** `next()`'s bookkeeping (`_flow_index`): reseed, count, and the sample indices of the stream's next batch. */
  protected nextIndices(): Int32Array {
    this.reseed();
    if (this.flowIndex === 0 || !this.indexArray) this.setIndexArray();
    const n = this.samples;
    const start = n === 0 ? 0 : (this.flowIndex * this.batchSize) % n;
    this.flowIndex = n > start + this.batchSize ? this.flowIndex + 1 : 0;
    this.totalBatchesSeen++;
    return this.indexArray!.slice(start, start + this.batchSize);
  }
}
