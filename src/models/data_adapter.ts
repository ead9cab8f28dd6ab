/**
 * What fit/evaluate/predict accept, turned into one kind of feed of lists (Keras 3's
 * `trainers/data_adapters`): the data pipeline's iterator (one x, one y per batch), or in-memory
 * tensors, one per input and per output, as a Tensor, a list, or an object by name.
 */
import { Tensor } from '../tensor/index.js';
import type { BatchIterator } from '../data/types.js';
import type { Feed, FeedBatch } from './tensor_batches.js';

/** One input (a Tensor), several (a list in input order), or an object by input name. */
export type Inputs = Tensor | Tensor[] | Record<string, Tensor>;

/** Tensors for fit/evaluate: `{ x, y, batchSize, shuffle, validationSplit }`. */
export interface TensorData { x: Inputs; y?: Inputs | null; batchSize?: number; shuffle?: boolean; validationSplit?: number }
export type Data = BatchIterator | TensorData;
export function isIterator(d: unknown): d is BatchIterator {
  return !!d && typeof (d as BatchIterator).getBatch === 'function' && typeof (d as BatchIterator).length === 'number';
}
export function isTensorRecord(d: unknown): d is Record<string, Tensor> {
  return !!d && typeof d === 'object' && !Array.isArray(d) && !(d instanceof Tensor) && !('x' in (d as object)) &&
    Object.values(d as object).length > 0 && Object.values(d as object).every((v) => v instanceof Tensor);
}
export function isInputs(d: unknown): d is Inputs {
  return d instanceof Tensor || (Array.isArray(d) && d.length > 0 && d.every((t) => t instanceof Tensor)) || isTensorRecord(d);
}

export function disposeBatch(b: FeedBatch): void {
  for (const x of b.xs) x.dispose();
  for (const y of b.ys ?? []) y.dispose();
}

/** The data pipeline's iterator (one x, one y per batch) as a feed of lists. */
export function iteratorFeed(it: BatchIterator): Feed {
  return {
    get length() { return it.length; },
    get samples() { return it.samples; },
    get batchSize() { return it.batchSize; },
    async get(i: number): Promise<FeedBatch> { const b = await it.getBatch(i); return { xs: [b.x], ys: b.y ? [b.y] : null }; },
    onEpochEnd: () => it.onEpochEnd(),
    reset: () => it.reset?.(),
  };
}
