/** Shared front-end helpers: argument checks with clear errors, broadcasting, output allocation. */
import { Tensor, fmtShape } from '../tensor/tensor.js';
import type { DType } from '../tensor/dtype.js';
import { backend } from '../backend/index.js';
import type { BroadcastParams } from '../backend/backend.js';

export { backend as B };

export function assertTensor(x: unknown, op: string, arg = 'x'): asserts x is Tensor {
  if (!(x instanceof Tensor)) throw new TypeError(`convnet: ${op}: argument '${arg}' must be a Tensor, got ${x === null ? 'null' : typeof x}`);
  x.assertLive(op);
}

export function assertFloat(x: Tensor, op: string, arg = 'x'): void {
  assertTensor(x, op, arg);
  if (x.dtype !== 'float32') throw new TypeError(`convnet: ${op}: '${arg}' must be float32, got ${x.dtype} ${fmtShape(x.shape)} (use cast(x, 'float32'))`);
}

export function assertRank(x: Tensor, rank: number, op: string, arg = 'x', what = ''): void {
  if (x.rank !== rank) throw new RangeError(`convnet: ${op}: '${arg}' must have rank ${rank}${what ? ` (${what})` : ''}, got shape ${fmtShape(x.shape)}`);
}

export function normAxis(axis: number, rank: number, op: string): number {
  if (!Number.isInteger(axis) || axis < -rank || axis >= Math.max(rank, 1)) {
    throw new RangeError(`convnet: ${op}: axis ${axis} is out of range for a tensor of rank ${rank}`);
  }
  return axis < 0 ? axis + rank : axis;
}

export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

export function out(shape: readonly number[], dtype: DType = 'float32'): Tensor {
  return new Tensor(shape, dtype);
}

/** NumPy broadcasting of two shapes, with the strides each input is read through. */
export function broadcast(a: readonly number[], b: readonly number[], op: string): BroadcastParams {
  const rank = Math.max(a.length, b.length);
  const outShape: number[] = [];
  const aStrides: number[] = new Array(rank).fill(0);
  const bStrides: number[] = new Array(rank).fill(0);
  let sa = 1, sb = 1;
  for (let i = rank - 1; i >= 0; i--) {
    const da = a[i - (rank - a.length)] ?? 1;
    const db = b[i - (rank - b.length)] ?? 1;
    if (da !== db && da !== 1 && db !== 1) {
      throw new RangeError(`convnet: ${op}: shapes ${fmtShape(a)} and ${fmtShape(b)} cannot be broadcast together`);
    }
    outShape[i] = Math.max(da, db);
    if (da === 0 || db === 0) outShape[i] = 0;
    aStrides[i] = da === 1 ? 0 : sa;
    bStrides[i] = db === 1 ? 0 : sb;
    sa *= da; sb *= db;
  }
  return { outShape, aStrides, bStrides };
}

/** Adds `g` into `acc` in place (same number of elements). */
export function accumulate(acc: Tensor, g: Tensor): void {
  const shape = [acc.size];
  backend().binary('add', acc, g, acc, { outShape: shape, aStrides: [1], bStrides: [1] });
}
