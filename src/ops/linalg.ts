/** Matrix products, transposes and the fused Dense op. */
import { Tensor, fmtShape } from '../tensor/tensor.js';
import { record } from '../autograd/tape.js';
import type { Activation } from '../backend/backend.js';
import { B, assertFloat, assertRank, out } from './util.js';
import { activation, activationGradFromOutput, FUSABLE } from './elementwise.js';

export interface MatMulOptions { transA?: boolean; transB?: boolean }

function matmulRaw(a: Tensor, b: Tensor, transA: boolean, transB: boolean): Tensor {
  const m = transA ? a.shape[1] : a.shape[0];
  const k = transA ? a.shape[0] : a.shape[1];
  const kb = transB ? b.shape[1] : b.shape[0];
  const n = transB ? b.shape[0] : b.shape[1];
  if (k !== kb) {
    throw new RangeError(`convnet: matmul: inner dimensions differ: ${fmtShape(a.shape)}${transA ? 'ᵀ' : ''} x ${fmtShape(b.shape)}${transB ? 'ᵀ' : ''} (${k} vs ${kb})`);
  }
  const y = out([m, n]);
  B().matmul(a, b, y, { m, n, k, transA, transB, accumulate: false });
  return y;
}

/** Matrix product of two 2-D tensors, optionally transposing either. */
export function matmul(a: Tensor, b: Tensor, opts: MatMulOptions = {}): Tensor {
  assertFloat(a, 'matmul', 'a'); assertFloat(b, 'matmul', 'b');
  assertRank(a, 2, 'matmul', 'a'); assertRank(b, 2, 'matmul', 'b');
  const tA = !!opts.transA, tB = !!opts.transB;
  const y = matmulRaw(a, b, tA, tB);
  record('matmul', [a, b], y, (dy, needs) => {
    const ga = (): Tensor => (!tA && !tB ? matmulRaw(dy, b, false, true) : tA && !tB ? matmulRaw(b, dy, false, true)
      : !tA && tB ? matmulRaw(dy, b, false, false) : matmulRaw(b, dy, true, true));
    const gb = (): Tensor => (!tA && !tB ? matmulRaw(a, dy, true, false) : tA && !tB ? matmulRaw(a, dy, false, false)
      : !tA && tB ? matmulRaw(dy, a, true, false) : matmulRaw(dy, a, true, true));
    return [needs[0] ? ga() : null, needs[1] ? gb() : null];
  });
  return y;
}

function transposeRaw(x: Tensor, perm: number[]): Tensor {
  const y = out(perm.map((p) => x.shape[p]), x.dtype);
  B().transpose(x, y, perm);
  return y;
}

/** Permutes the axes of x (reverses them when `perm` is omitted). */
export function transpose(x: Tensor, perm?: number[]): Tensor {
  assertFloat(x, 'transpose');
  const p = perm ?? x.shape.map((_, i) => x.rank - 1 - i);
  if (p.length !== x.rank || [...p].sort((a, b) => a - b).some((v, i) => v !== i)) {
    throw new RangeError(`convnet: transpose: ${JSON.stringify(perm)} is not a permutation of the ${x.rank} axes of ${fmtShape(x.shape)}`);
  }
  const y = transposeRaw(x, p);
  const inv = new Array(p.length);
  p.forEach((v, i) => { inv[v] = i; });
  record('transpose', [x], y, (dy) => [transposeRaw(dy, inv)]);
  return y;
}

/**
 * The Dense layer's op: act(x · kernel + bias) over the last axis of x.
 * x [..., in], kernel [in, units], bias [units] or null.
 */
export function dense(x: Tensor, kernel: Tensor, bias: Tensor | null, act: Activation = 'linear', alpha?: number): Tensor {
  assertFloat(x, 'dense', 'x'); assertFloat(kernel, 'dense', 'kernel');
  assertRank(kernel, 2, 'dense', 'kernel', '[inputDim, units]');
  const inDim = kernel.shape[0], units = kernel.shape[1];
  if (x.shape[x.rank - 1] !== inDim) {
    throw new RangeError(`convnet: dense: input ${fmtShape(x.shape)} has ${x.shape[x.rank - 1]} features but the kernel ${fmtShape(kernel.shape)} expects ${inDim}`);
  }
  if (bias) {
    assertFloat(bias, 'dense', 'bias');
    if (bias.rank !== 1 || bias.shape[0] !== units) throw new RangeError(`convnet: dense: bias ${fmtShape(bias.shape)} must have shape (${units},)`);
  }
  const fused = FUSABLE.has(act);
  const rows = x.size / inDim;
  const x2 = x.reshape([rows, inDim]);
  const z = matmulRaw(x2, kernel, false, false);
  const y2 = out([rows, units]);
  B().biasAct(z, bias, y2, rows, units, fused ? act : 'linear', alpha ?? 0);
  z.dispose();
  const y = y2.reshape([...x.shape.slice(0, -1), units]);
  const inputs = bias ? [x, kernel, bias] : [x, kernel];
  record('dense', inputs, y, (dy, needs, owned) => {
    const dpre = activationGradFromOutput(fused ? act : 'linear', y2, dy.reshape([rows, units]), alpha ?? 0, owned);
    const dx = needs[0] ? matmulRaw(dpre, kernel, false, true).reshape(x.shape) : null;
    const dk = needs[1] ? matmulRaw(x2, dpre, true, false) : null;
    if (!bias) return [dx, dk];
    let db: Tensor | null = null;
    if (needs[2]) { db = out([units]); B().reduce('sum', dpre, db, 1, rows, units); }
    return [dx, dk, db];
  });
  return fused ? y : activation(y, act, alpha);
}
