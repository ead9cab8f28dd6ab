/** Small differentiable helpers the layers share. */
import type { Tensor } from '../tensor/index.js';

/** x.reshape(shape): Tensor.reshape is itself differentiable (no copy). */
export function reshapeGrad(x: Tensor, shape: readonly number[]): Tensor {
  return x.reshape(shape);
}

/** Formats a number like Python's repr of a float for configs (0.5, 1.0 stays a number in JSON). */
export function shapeWithBatch(s: readonly (number | null)[]): (number | null)[] { return s.slice(); }
