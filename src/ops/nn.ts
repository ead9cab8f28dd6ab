/** Softmax, dropout, casting and the row/axis copies that batching needs. */
import { Tensor, fmtShape, sizeOf } from '../tensor/tensor.js';
import type { DType } from '../tensor/dtype.js';
import { isDType } from '../tensor/dtype.js';
import type { Rng } from '../tensor/random.js';
import { record, noGrad } from '../autograd/tape.js';
import { B, assertFloat, assertTensor, normAxis, out } from './util.js';
import { sub, exp, log } from './elementwise.js';
import { sum, max } from './reduce.js';
import { transpose } from './linalg.js';

/** Softmax along `axis` (the last by default). */
export function softmax(x: Tensor, axis = -1): Tensor {
  assertFloat(x, 'softmax');
  const ax = normAxis(axis, x.rank, 'softmax');
  if (ax !== x.rank - 1) {
    const perm = x.shape.map((_, i) => i);
    perm[ax] = x.rank - 1; perm[x.rank - 1] = ax;
    return transpose(softmax(transpose(x, perm)), perm);
  }
  const cols = x.shape[x.rank - 1], rows = x.size / Math.max(cols, 1);
  const y = out(x.shape);
  B().softmax(x, y, rows, cols);
  record('softmax', [x], y, (dy) => {
    // dx = y * (dy - sum(dy * y, -1))
    const dyy = out(x.shape);
    B().binary('mul', dy, y, dyy, { outShape: [x.size], aStrides: [1], bStrides: [1] });
    const s = out([rows, 1]);
    B().reduce('sum', dyy, s, rows, cols, 1);
    const t = out([rows, cols]);
    B().binary('sub', dy, s, t, { outShape: [rows, cols], aStrides: [cols, 1], bStrides: [1, 0] });
    const dx = out(x.shape);
    B().binary('mul', t, y, dx, { outShape: [x.size], aStrides: [1], bStrides: [1] });
    return [dx];
  });
  return y;
}

/** log(softmax(x)) computed stably. */
export function logSoftmax(x: Tensor, axis = -1): Tensor {
  const m = stopGradient(max(x, axis, true));
  const shifted = sub(x, m);
  return sub(shifted, log(sum(exp(shifted), axis, true)));
}

/** The same values with no gradient flowing back. */
export function stopGradient(x: Tensor): Tensor {
  assertTensor(x, 'stopGradient');
  return noGrad(() => x.reshape(x.shape));
}

/**
 * Inverted dropout: zeroes each element with probability `rate` and scales the rest by
 * 1 / (1 - rate), so nothing changes at inference.
 */
export function dropout(x: Tensor, rate: number, rng: Rng): Tensor {
  assertFloat(x, 'dropout');
  if (!(rate >= 0 && rate < 1)) throw new RangeError(`convnet: dropout: rate must be in [0, 1), got ${rate}`);
  if (rate === 0) return x;
  const mask = out(x.shape);
  B().randomMask(mask, rate, 1 / (1 - rate), rng);
  const y = out(x.shape);
  const flat = { outShape: [x.size], aStrides: [1], bStrides: [1] };
  B().binary('mul', x, mask, y, flat);
  record('dropout', [x], y, (dy) => {
    const dx = out(x.shape);
    B().binary('mul', dy, mask, dx, flat);
    return [dx];
  });
  return y;
}

/** Converts to another dtype (float to int truncates; to uint8 also saturates). No gradient. */
export function cast(x: Tensor, dtype: DType): Tensor {
  assertTensor(x, 'cast');
  if (!isDType(dtype)) throw new TypeError(`convnet: cast: unknown dtype ${JSON.stringify(dtype)}`);
  if (x.dtype === dtype) return x.clone();
  const y = out(x.shape, dtype);
  B().cast(x, y);
  return y;
}

/** Gathers rows of x along the first axis (a copy). No gradient. */
export function takeRows(x: Tensor, indices: ArrayLike<number>): Tensor {
  assertTensor(x, 'takeRows');
  const n = x.shape[0];
  const row = x.size / Math.max(n, 1);
  for (let i = 0; i < indices.length; i++) {
    const r = indices[i];
    if (!Number.isInteger(r) || r < 0 || r >= n) throw new RangeError(`convnet: takeRows: index ${r} is out of range for ${n} rows`);
  }
  const y = out([indices.length, ...x.shape.slice(1)], x.dtype);
  B().gatherRows(x, indices, y, row);
  return y;
}

/** Joins tensors along `axis` (all other dimensions must match). */
export function concat(tensors: Tensor[], axis = 0): Tensor {
  if (!Array.isArray(tensors) || tensors.length === 0) throw new RangeError('convnet: concat: needs at least one tensor');
  tensors.forEach((t, i) => assertTensor(t, 'concat', `tensors[${i}]`));
  const first = tensors[0];
  const ax = normAxis(axis, first.rank, 'concat');
  for (const t of tensors) {
    if (t.rank !== first.rank || t.dtype !== first.dtype || t.shape.some((d, i) => i !== ax && d !== first.shape[i])) {
      throw new RangeError(`convnet: concat: shapes ${tensors.map((u) => fmtShape(u.shape)).join(', ')} do not match outside axis ${ax}`);
    }
  }
  const outer = sizeOf(first.shape.slice(0, ax));
  const inner = sizeOf(first.shape.slice(ax + 1));
  const total = tensors.reduce((s, t) => s + t.shape[ax], 0);
  const shape = first.shape.slice(); shape[ax] = total;
  const y = out(shape, first.dtype);
  B().concat(tensors, y, outer);
  if (first.dtype === 'float32') {
    record('concat', tensors, y, (dy) => {
      let start = 0;
      return tensors.map((t) => {
        const g = out(t.shape);
        B().sliceColumns(dy, g, outer, start);
        start += t.shape[ax] * inner;
        return g;
      });
    });
  }
  return y;
}

