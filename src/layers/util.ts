/** Small differentiable helpers the layers share. */
import type { Tensor } from '../tensor/index.js';
import { record } from '../autograd/index.js';

/** x.reshape(shape) with the gradient flowing back through the reshape (no copy). */
export function reshapeGrad(x: Tensor, shape: readonly number[]): Tensor {
  const y = x.reshape(shape);
  record('reshape', [x], y, (dy) => [dy.reshape(x.shape)]);
  return y;
}

/** Formats a number like Python's repr of a float for configs (0.5, 1.0 stays a number in JSON). */
export function shapeWithBatch(s: readonly (number | null)[]): (number | null)[] { return s.slice(); }
