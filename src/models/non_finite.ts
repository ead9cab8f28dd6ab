/**
 * Finding NaN or infinite values in a training step, and undoing the step: the loss, a gradient
 * or a weight that went non-finite, and copies of the weights and optimizer state taken before
 * each batch (the buffers are reused from batch to batch).
 */
import type { Tensor } from '../tensor/index.js';
import type { Variable } from '../layers/index.js';

/** What went NaN or infinite in a training step. */
export interface NonFinite { what: string; value: number }

/** The first NaN or infinite element of a float tensor, or null. */
export function nonFiniteIn(t: Tensor): number | null {
  if (t.dtype !== 'float32' && t.dtype !== 'float64') return null;
  const v = t.dataSync() as Float32Array;
  for (let i = 0; i < v.length; i++) if (!Number.isFinite(v[i])) return v[i];
  return null;
}

/**
 * Copies of the weights and optimizer state taken before each batch, so that a step that makes
 * them non-finite can be undone. The buffers are reused from batch to batch.
 */
export class WeightSnapshot {
  private copies = new Map<Variable, Float32Array | Float64Array | Int32Array | Uint8Array>();
  take(vars: Variable[]): void {
    for (const v of vars) {
      this.copies.set(v, v.value.dataSync());
    }
  }
  /** Writes the copies back; state created during the step (new optimizer slots) goes back to zeros. */
  restore(vars: Variable[]): void {
    for (const v of vars) {
      const c = this.copies.get(v);
      if (c && c.length === v.value.size) v.value.write(c); else v.value.store.fill(v.value, 0);
    }
  }
  clear(): void { this.copies.clear(); }
}
