/**
 * What the heap backends (native and wasm) write into their kernels' parameter blocks alike: the op
 * and dtype codes both kernel sets take (constants.ts, the activation table's `code` column) and the
 * broadcast axis merge.
 */
import type { BroadcastParams, UnaryOp, BinaryOp, ReduceOp } from './backend.js';
import type { DType } from '../tensor/dtype.js';
import { UNARY_TABLE } from './activations.js';
import * as C from '../kernels/constants.js';

export const UNARY_CODE = new Map<UnaryOp, number>(Object.entries(UNARY_TABLE).map(([op, r]) => [op as UnaryOp, r.code]));
export const BINARY_CODE: Record<BinaryOp, number> = {
  add: C.BIN_ADD, sub: C.BIN_SUB, mul: C.BIN_MUL, div: C.BIN_DIV, max: C.BIN_MAX, min: C.BIN_MIN, pow: C.BIN_POW,
  greater: C.BIN_GREATER, less: C.BIN_LESS, equal: C.BIN_EQUAL,
};
export const REDUCE_CODE: Record<ReduceOp, number> = { sum: C.RED_SUM, max: C.RED_MAX, min: C.RED_MIN, mean: C.RED_MEAN, prod: C.RED_PROD };
export const DTYPE_CODE: Record<DType, number> = { float32: C.DT_FLOAT32, int32: C.DT_INT32, uint8: C.DT_UINT8, float64: C.DT_FLOAT64 };

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
