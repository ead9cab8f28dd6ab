/**
 * Finding NaN or infinite values in a training step, and undoing the step: the loss, a gradient
 * or a weight that went non-finite, and copies of the weights and optimizer state taken before
 * each batch (the buffers are reused from batch to batch).
 */
import { type Tensor, empty } from '../tensor/index.js';
import { copyInto } from '../tensor/tensor.js';
import type { Variable } from '../layers/index.js';

/** What went NaN or infinite in a training step. */
export interface NonFinite { what: string; value: number }

/** The first NaN or infinite element of an array, or null. */
export function firstNonFinite(v: ArrayLike<number>): number | null {
  for (let i = 0; i < v.length; i++) if (!Number.isFinite(v[i])) return v[i];
  return null;
}

/**
 * Copies of the weights and optimizer state taken before each batch, so that a step that makes
 * them non-finite can be undone. The copies are tensors of the backend (no host round trip),
 * reused from batch to batch; clear() releases them.
 */
export class WeightSnapshot {
  private copies = new Map<Variable, Tensor>();
  take(vars: Variable[]): void {
    for (const v of vars) {
      let c = this.copies.get(v);
      if (!c || c.disposed || c.size !== v.value.size || c.dtype !== v.value.dtype) {
        c?.dispose();
        c = empty(v.value.shape, v.value.dtype).keep();
        this.copies.set(v, c);
      }
      copyInto(v.value, c);
    }
  }
  /** Writes the copies back; state created during the step (new optimizer slots) goes back to zeros. */
  restore(vars: Variable[]): void {
    for (const v of vars) {
      const c = this.copies.get(v);
      if (c && !c.disposed && c.size === v.value.size) copyInto(c, v.value); else v.value.store.fill(v.value, 0);
    }
  }
  clear(): void {
    for (const c of this.copies.values()) c.dispose();
    this.copies.clear();
  }
}
