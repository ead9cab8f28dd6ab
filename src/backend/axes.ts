/**
 * Axis bookkeeping the heap backends' kernels share (native and wasm take the same broadcast block).
 */
import type { BroadcastParams } from './backend.js';

/**
 * A broadcast's output axes with unit axes dropped and neighbours merged where both inputs are
 * contiguous across them (at least one axis: a scalar is [1] with strides 0): the fewest axes the
 * kernels' odometer walks, so most calls fit its rank limit.
 */
export function mergeBroadcastAxes(p: BroadcastParams): { shape: number[]; aStrides: number[]; bStrides: number[] } {
  const shape: number[] = [], as: number[] = [], bs: number[] = [];
  for (let d = 0; d < p.outShape.length; d++) {
    const n = p.outShape[d];
    if (n === 1) continue;
    const k = shape.length - 1;
    if (k >= 0 && as[k] === p.aStrides[d] * n && bs[k] === p.bStrides[d] * n) {
      shape[k] *= n; as[k] = p.aStrides[d]; bs[k] = p.bStrides[d];
    } else { shape.push(n); as.push(p.aStrides[d]); bs.push(p.bStrides[d]); }
  }
  if (shape.length === 0) { shape.push(1); as.push(0); bs.push(0); }
  return { shape, aStrides: as, bStrides: bs };
}
