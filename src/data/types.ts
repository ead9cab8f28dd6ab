/**
 * The contract between the data pipeline and `fit` / `evaluate` / `predict` (see DEVELOPING.md).
 */
import type { Tensor } from '../tensor/index.js';

/** One batch: `x` float32 [B, H, W, C]; `y` float32 [B] (binary, sparse) or [B, K] (categorical), or null. */
export interface Batch { x: Tensor; y: Tensor | null }

/** What `fit`, `evaluate` and `predict` take. */
export interface BatchIterator {
  /** Batches per epoch = ceil(samples / batchSize). */
  readonly length: number;
  readonly samples: number;
  readonly batchSize: number;
  /** Batch `index` of the current epoch (prefetches ahead internally). The caller disposes its tensors. */
  getBatch(index: number): Promise<Batch>;
  /** Keras `on_epoch_end`: draws the next epoch's order. */
  onEpochEnd(): void;
  reset(): void;
}
