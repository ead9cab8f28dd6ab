/**
 * Depthwise and transposed 2-D convolutions in NHWC, with their gradient rules.
 *
 * - `depthwiseConv2d`: one filter (or `depthMultiplier` filters) per input channel, kernel
 *   [kH, kW, C, M] as Keras's DepthwiseConv2D; output channel c*M + m.
 * - `conv2dTranspose`: the adjoint of conv2d (Keras's Conv2DTranspose), kernel [kH, kW, filters, C];
 *   it runs on the backend's conv2dGradInput / conv2dGradFilter, its gradient on conv2d.
 */
import { Tensor, fmtShape } from '../tensor/tensor.js';
import { record } from '../autograd/tape.js';
import type { Conv2DParams, DepthwiseConv2DParams } from '../backend/backend.js';
import { B, assertFloat, assertRank, out } from './util.js';
import { activation, activationGradFromOutput, FUSABLE } from './elementwise.js';
import { conv2dParams, pair, checkPadding, type Conv2DOptions } from './conv.js';
import { add } from './elementwise.js';

/** conv2dParams with the op's own name in its errors. */
function paramsFor(op: string, xShape: readonly number[], wShape: readonly number[], opts: Conv2DOptions): Conv2DParams {
  try {
    return conv2dParams(xShape, wShape, opts);
  } catch (e) {
    if (e instanceof RangeError) throw new RangeError(e.message.replace('convnet: conv2d:', `convnet: ${op}:`));
    throw e;
  }
}

function checkBias(bias: Tensor | null, n: number, op: string): void {
  if (!bias) return;
  assertFloat(bias, op, 'bias');
  if (bias.rank !== 1 || bias.shape[0] !== n) throw new RangeError(`convnet: ${op}: bias ${fmtShape(bias.shape)} must have shape (${n},)`);
}

/** Computes the parameter block of a depthwise conv2d (validating shapes). */
export function depthwiseConv2dParams(xShape: readonly number[], wShape: readonly number[], opts: Conv2DOptions = {}): DepthwiseConv2DParams {
  const [kH, kW, C, M] = wShape;
  if (C !== xShape[3]) {
    throw new RangeError(`convnet: depthwiseConv2d: input ${fmtShape(xShape)} has ${xShape[3]} channels but the depthwise kernel ${fmtShape(wShape)} expects ${C}`);
  }
  const p = paramsFor('depthwiseConv2d', xShape, [kH, kW, C, C * M], opts);
  return { ...p, depthMultiplier: M };
}

/**
 * Depthwise 2-D convolution: x [N, H, W, C], kernel [kH, kW, C, M] -> [N, outH, outW, C*M],
 * optional bias [C*M] and activation fused into the kernel's epilogue (as conv2d).
 */
export function depthwiseConv2d(x: Tensor, kernel: Tensor, opts: Conv2DOptions = {}): Tensor {
  const op = 'depthwiseConv2d';
  assertFloat(x, op); assertFloat(kernel, op, 'kernel');
  assertRank(x, 4, op, 'x', '[batch, height, width, channels]');
  assertRank(kernel, 4, op, 'kernel', '[kernelH, kernelW, channels, depthMultiplier]');
  const p = depthwiseConv2dParams(x.shape, kernel.shape, opts);
  const bias = opts.bias ?? null;
  checkBias(bias, p.outC, op);
  const act = opts.activation ?? 'linear';
  const fused = FUSABLE.has(act);
  // Fused activations take no alpha; the others get theirs (or their Keras default) from activation().
  const alpha = fused ? 0 : opts.alpha;
  const fp: DepthwiseConv2DParams = { ...p, activation: fused ? act : 'linear', alpha: 0 };
  const y = out([p.batch, p.outH, p.outW, p.outC]);
  B().depthwiseConv2d(x, kernel, bias, y, fp);
  record(op, bias ? [x, kernel, bias] : [x, kernel], y, (dy, needs, owned) => {
    const dpre = activationGradFromOutput(fused ? act : 'linear', y, dy, 0, owned);
    let dx: Tensor | null = null, dw: Tensor | null = null, db: Tensor | null = null;
    if (needs[0]) { dx = out(x.shape); B().depthwiseConv2dGradInput(dpre, kernel, dx, p); }
    if (needs[1]) { dw = out(kernel.shape); B().depthwiseConv2dGradFilter(x, dpre, dw, p); }
    if (bias && needs[2]) { db = out([p.outC]); B().reduce('sum', dpre, db, 1, p.batch * p.outH * p.outW, p.outC); }
    if (dpre !== dy) dpre.dispose();
    return bias ? [dx, dw, db] : [dx, dw];
  });
  return fused ? y : activation(y, act, alpha);
}

/**
 * Output length of one axis of a transposed convolution, as Keras on TensorFlow: with
 * `outputPadding` null, 'valid' gives (n - 1) * stride + max(kernel_eff, stride) and 'same' gives
 * n * stride; with it, (n - 1) * stride + kernel_eff + outputPadding ('valid') or
 * (n - 1) * stride + kernel_eff % 2 + outputPadding ('same').
 */
export function convTransposeLength(n: number, k: number, stride: number, dilation: number, padding: 'valid' | 'same', outputPadding: number | null = null): number {
  const eff = (k - 1) * dilation + 1;
  if (outputPadding === null) return padding === 'same' ? n * stride : (n - 1) * stride + Math.max(eff, stride);
  return (n - 1) * stride + (padding === 'same' ? eff % 2 : eff) + outputPadding;
}

export interface Conv2DTransposeOptions extends Conv2DOptions {
  /** Extra rows/columns at the end of each axis (each below its stride); null: Keras's default sizes. */
  outputPadding?: number | [number, number] | null;
}

/** Parameter block of a transposed conv: the conv2d whose input gradient it is (input [N, outH, outW, filters]). */
export function conv2dTransposeParams(xShape: readonly number[], wShape: readonly number[], opts: Conv2DTransposeOptions = {}): Conv2DParams {
  const op = 'conv2dTranspose';
  const [N, H, W, C] = xShape;
  const [kH, kW, F, inC] = wShape;
  if (inC !== C) throw new RangeError(`convnet: ${op}: input ${fmtShape(xShape)} has ${C} channels but the kernel ${fmtShape(wShape)} (kernelH, kernelW, filters, inChannels) expects ${inC}`);
  const [sH, sW] = pair(opts.strides, 1, op, 'strides');
  const [dH, dW] = pair(opts.dilationRate, 1, op, 'dilationRate');
  const padding = checkPadding(opts.padding, op);
  let outPad: [number, number] | [null, null] = [null, null];
  if (opts.outputPadding != null) {
    const v = opts.outputPadding;
    outPad = typeof v === 'number' ? [v, v] : [v[0], v[1]];
    if (!outPad.every((d, i) => Number.isInteger(d) && d! >= 0 && d! < [sH, sW][i])) {
      throw new RangeError(`convnet: conv2dTranspose: outputPadding must be integers each below its stride (${sH}, ${sW}), got ${JSON.stringify(v)}`);
    }
  }
  const OH = convTransposeLength(H, kH, sH, dH, padding, outPad[0]), OW = convTransposeLength(W, kW, sW, dW, padding, outPad[1]);
  if (OH <= 0 || OW <= 0) throw new RangeError(`convnet: conv2dTranspose: input ${fmtShape(xShape)} and kernel ${fmtShape(wShape)} give an empty output`);
  const p = paramsFor(op, [N, OH, OW, F], wShape, { strides: [sH, sW], dilationRate: [dH, dW], padding });
  if (p.outH !== H || p.outW !== W) throw new RangeError(`convnet: ${op}: internal size mismatch for input ${fmtShape(xShape)} and kernel ${fmtShape(wShape)}`);
  return p;
}

/**
 * Transposed 2-D convolution (Keras's Conv2DTranspose): x [N, H, W, C], kernel [kH, kW, filters, C]
 * -> [N, outH, outW, filters] with the sizes of `convTransposeLength`; optional bias [filters] and activation.
 */
export function conv2dTranspose(x: Tensor, kernel: Tensor, opts: Conv2DTransposeOptions = {}): Tensor {
  const op = 'conv2dTranspose';
  assertFloat(x, op); assertFloat(kernel, op, 'kernel');
  assertRank(x, 4, op, 'x', '[batch, height, width, channels]');
  assertRank(kernel, 4, op, 'kernel', '[kernelH, kernelW, filters, inChannels]');
  const p = conv2dTransposeParams(x.shape, kernel.shape, opts);
  const bias = opts.bias ?? null;
  checkBias(bias, p.inC, op);
  const y = out([p.batch, p.inH, p.inW, p.inC]);
  B().conv2dGradInput(x, kernel, y, p);
  record(op, [x, kernel], y, (dy, needs) => {
    let dx: Tensor | null = null, dw: Tensor | null = null;
    if (needs[0]) { dx = out(x.shape); B().conv2d(dy, kernel, null, dx, p); }
    if (needs[1]) { dw = out(kernel.shape); B().conv2dGradFilter(dy, x, dw, p); }
    return [dx, dw];
  });
  const z = bias ? add(y, bias) : y;
  const act = opts.activation ?? 'linear';
  return act === 'linear' ? z : activation(z, act, opts.alpha);
}
