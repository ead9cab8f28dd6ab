/** Reductions over axes, and the broadcasting helpers gradients need. */
import { Tensor, fmtShape } from '../tensor/tensor.js';
import { record } from '../autograd/tape.js';
import type { ReduceOp } from '../backend/backend.js';
import { B, assertFloat, normAxis, out, sameShape } from './util.js';

function normAxes(axis: number | number[] | undefined, rank: number, op: string): number[] {
  if (axis === undefined) return Array.from({ length: rank }, (_, i) => i);
  const list = (Array.isArray(axis) ? axis : [axis]).map((a) => normAxis(a, rank, op));
  const set = [...new Set(list)].sort((a, b) => a - b);
  if (set.length !== list.length) throw new RangeError(`convnet: ${op}: repeated axis in ${JSON.stringify(axis)}`);
  return set;
}

/** Reduces the sorted `axes` of x; returns the result with reduced dims kept as 1. */
function reduceKeep(op: ReduceOp, x: Tensor, axes: number[]): Tensor {
  let cur = x;
  let shape = x.shape.slice();
  // Reduce runs of contiguous axes in one call each, last run first.
  let i = axes.length - 1;
  while (i >= 0) {
    let j = i;
    while (j > 0 && axes[j - 1] === axes[j] - 1) j--;
    const a0 = axes[j], a1 = axes[i];
    const outer = shape.slice(0, a0).reduce((p, d) => p * d, 1);
    const n = shape.slice(a0, a1 + 1).reduce((p, d) => p * d, 1);
    const inner = shape.slice(a1 + 1).reduce((p, d) => p * d, 1);
    const nextShape = shape.slice();
    for (let k = a0; k <= a1; k++) nextShape[k] = 1;
    // mean of means over separate runs is the mean; reduce each run with the same op.
    const r = out(nextShape);
    B().reduce(op, cur, r, outer, n, inner);
    if (cur !== x) cur.dispose();
    cur = r;
    shape = nextShape;
    i = j - 1;
  }
  return cur === x ? x.clone() : cur;
}

function finish(r: Tensor, x: Tensor, axes: number[], keepDims: boolean): Tensor {
  if (keepDims) return r;
  const s = x.shape.filter((_, i) => !axes.includes(i));
  return r.reshape(s);
}

/** Broadcasts x to `shape` (copying). */
export function broadcastTo(x: Tensor, shape: readonly number[]): Tensor {
  if (sameShape(x.shape, shape)) return x;
  const y = out(shape);
  B().fill(y, 0);
  const rank = shape.length;
  const xs = x.shape;
  if (xs.length > rank) throw new RangeError(`convnet: broadcastTo: cannot broadcast ${fmtShape(xs)} to ${fmtShape(shape)}`);
  const aStrides: number[] = new Array(rank), bStrides: number[] = new Array(rank);
  let sa = 1, sb = 1;
  for (let i = rank - 1; i >= 0; i--) {
    const d = xs[i - (rank - xs.length)] ?? 1;
    if (d !== 1 && d !== shape[i]) throw new RangeError(`convnet: broadcastTo: cannot broadcast ${fmtShape(xs)} to ${fmtShape(shape)}`);
    aStrides[i] = sa; sa *= shape[i];
    bStrides[i] = d === 1 ? 0 : sb; sb *= d;
  }
  B().binary('add', y, x, y, { outShape: shape.slice(), aStrides, bStrides });
  return y;
}

/** Sums g over the axes along which `shape` was broadcast, so that the result has `shape`. */
export function sumTo(g: Tensor, shape: readonly number[]): Tensor {
  if (sameShape(g.shape, shape)) return g;
  const lead = g.rank - shape.length;
  const axes: number[] = [];
  for (let i = 0; i < g.rank; i++) {
    if (i < lead || (shape[i - lead] === 1 && g.shape[i] !== 1)) axes.push(i);
  }
  if (axes.length === 0) return g.reshape(shape);
  return reduceKeep('sum', g, axes).reshape(shape);
}

function reduction(op: ReduceOp, name: string, x: Tensor, axis: number | number[] | undefined, keepDims: boolean): Tensor {
  assertFloat(x, name);
  const axes = normAxes(axis, x.rank, name);
  for (const a of axes) if (x.shape[a] === 0 && (op === 'max' || op === 'min')) throw new RangeError(`convnet: ${name}: cannot reduce an empty axis of ${fmtShape(x.shape)}`);
  const kept = reduceKeep(op, x, axes);
  const y = finish(kept, x, axes, keepDims);
  const keptShape = kept.shape;
  record(name, [x], y, (dy) => {
    const dyk = dy.reshape(keptShape);
    if (op === 'sum') return [broadcastTo(dyk, x.shape)];
    if (op === 'mean') {
      const n = axes.reduce((p, a) => p * x.shape[a], 1);
      const g = broadcastTo(dyk, x.shape);
      const r = out(x.shape);
      B().binaryScalar('div', g, n, r, false);
      if (g !== dyk) g.dispose();
      return [r];
    }
    if (op === 'max' || op === 'min') {
      // The gradient flows to every position equal to the extreme value.
      const yk = y.reshape(keptShape);
      const mask = out(x.shape);
      const bp = bcast(x.shape, keptShape);
      B().binary('equal', x, yk, mask, { outShape: x.shape.slice(), aStrides: bp.a, bStrides: bp.b });
      const g = broadcastTo(dyk, x.shape);
      const r = out(x.shape);
      B().binary('mul', g, mask, r, { outShape: x.shape.slice(), aStrides: bp.a, bStrides: bp.a });
      mask.dispose();
      if (g !== dyk) g.dispose();
      return [r];
    }
    throw new Error(`convnet: ${name}: no gradient for reduce ${op}`);
  });
  return y;
}

function bcast(full: readonly number[], kept: readonly number[]): { a: number[]; b: number[] } {
  const a: number[] = [], b: number[] = [];
  let sa = 1, sb = 1;
  for (let i = full.length - 1; i >= 0; i--) {
    a[i] = sa; sa *= full[i];
    b[i] = kept[i] === 1 ? 0 : sb; sb *= kept[i];
  }
  return { a, b };
}

/** Sum over `axis` (all axes when omitted). */
export function sum(x: Tensor, axis?: number | number[], keepDims = false): Tensor { return reduction('sum', 'sum', x, axis, keepDims); }
/** Mean over `axis` (all axes when omitted). */
export function mean(x: Tensor, axis?: number | number[], keepDims = false): Tensor { return reduction('mean', 'mean', x, axis, keepDims); }
/** Maximum over `axis` (all axes when omitted). */
export function max(x: Tensor, axis?: number | number[], keepDims = false): Tensor { return reduction('max', 'max', x, axis, keepDims); }
/** Minimum over `axis` (all axes when omitted). */
export function min(x: Tensor, axis?: number | number[], keepDims = false): Tensor { return reduction('min', 'min', x, axis, keepDims); }
