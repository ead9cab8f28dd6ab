/**
 * conv2d and 2-D pooling in NHWC (Keras's channels_last). The front end computes output sizes
 * and padding exactly as TensorFlow/Keras do; kernels receive one parameter object.
 */
import { Tensor, fmtShape } from '../tensor/tensor.js';
import { record, reluMaskedFor } from '../autograd/tape.js';
import type { Activation, Conv2DParams, Pool2DParams } from '../backend/backend.js';
import { B, assertFloat, assertRank, out } from './util.js';
import { activation, activationGradFromOutput, FUSABLE } from './elementwise.js';

export type Padding = 'valid' | 'same';
type Pair = number | [number, number] | readonly number[];

export function pair(v: Pair | undefined, dflt: number, op: string, what: string): [number, number] {
  const p = v === undefined ? [dflt, dflt] : typeof v === 'number' ? [v, v] : [v[0], v[1]];
  if (p.length !== 2 || !p.every((d) => Number.isInteger(d) && d >= 1)) {
    throw new RangeError(`convnet: ${op}: ${what} must be a positive integer or a pair of them, got ${JSON.stringify(v)}`);
  }
  return p as [number, number];
}

export function checkPadding(p: string | undefined, op: string): Padding {
  const v = (p ?? 'valid').toLowerCase();
  if (v !== 'valid' && v !== 'same') throw new RangeError(`convnet: ${op}: padding must be 'valid' or 'same', got ${JSON.stringify(p)}`);
  return v;
}

/** Output length and leading pad of one spatial axis (TensorFlow's rule). */
export function convOutput(inLen: number, k: number, stride: number, dilation: number, padding: Padding): { out: number; padBefore: number } {
  const eff = (k - 1) * dilation + 1;
  if (padding === 'valid') return { out: Math.floor((inLen - eff) / stride) + 1, padBefore: 0 };
  const o = Math.ceil(inLen / stride);
  const total = Math.max((o - 1) * stride + eff - inLen, 0);
  return { out: o, padBefore: Math.floor(total / 2) };
}

export interface Conv2DOptions {
  bias?: Tensor | null;
  strides?: Pair;
  padding?: Padding;
  dilationRate?: Pair;
  activation?: Activation;
  alpha?: number;
}

/** Computes the parameter block of a conv2d (validating shapes). */
export function conv2dParams(xShape: readonly number[], wShape: readonly number[], opts: Conv2DOptions = {}): Conv2DParams {
  const [sH, sW] = pair(opts.strides, 1, 'conv2d', 'strides');
  const [dH, dW] = pair(opts.dilationRate, 1, 'conv2d', 'dilationRate');
  if ((sH > 1 || sW > 1) && (dH > 1 || dW > 1)) throw new RangeError('convnet: conv2d: strides > 1 together with dilationRate > 1 is not supported (as in Keras)');
  const padding = checkPadding(opts.padding, 'conv2d');
  const [N, H, W, C] = xShape;
  const [kH, kW, inC, outC] = wShape;
  if (inC !== C) throw new RangeError(`convnet: conv2d: input ${fmtShape(xShape)} has ${C} channels but the kernel ${fmtShape(wShape)} expects ${inC}`);
  const oh = convOutput(H, kH, sH, dH, padding), ow = convOutput(W, kW, sW, dW, padding);
  if (oh.out <= 0 || ow.out <= 0) {
    throw new RangeError(`convnet: conv2d: a ${kH}x${kW} kernel (dilation ${dH}x${dW}) does not fit in a ${H}x${W} input with padding 'valid'; use padding 'same' or a larger input`);
  }
  return {
    batch: N, inH: H, inW: W, inC: C, outH: oh.out, outW: ow.out, outC,
    kH, kW, strideH: sH, strideW: sW, dilationH: dH, dilationW: dW,
    padTop: oh.padBefore, padLeft: ow.padBefore,
    activation: 'linear', alpha: 0,
  };
}

/** Outputs of conv2d's fused relu (their producer's gradient applies the relu derivative: see maxPool2d). */
const reluOutputs = new WeakSet<Tensor>();

/**
 * 2-D convolution (cross-correlation, as in Keras): x [N, H, W, C], kernel [kH, kW, C, filters],
 * optional bias [filters] and activation fused into the kernel's epilogue.
 */
export function conv2d(x: Tensor, kernel: Tensor, opts: Conv2DOptions = {}): Tensor {
  assertFloat(x, 'conv2d', 'x'); assertFloat(kernel, 'conv2d', 'kernel');
  assertRank(x, 4, 'conv2d', 'x', '[batch, height, width, channels]');
  assertRank(kernel, 4, 'conv2d', 'kernel', '[kernelH, kernelW, inChannels, filters]');
  const bias = opts.bias ?? null;
  if (bias) {
    assertFloat(bias, 'conv2d', 'bias');
    if (bias.rank !== 1 || bias.shape[0] !== kernel.shape[3]) throw new RangeError(`convnet: conv2d: bias ${fmtShape(bias.shape)} must have shape (${kernel.shape[3]},)`);
  }
  const act = opts.activation ?? 'linear';
  const alpha = opts.alpha ?? 0;
  const fused = FUSABLE.has(act);
  const p = conv2dParams(x.shape, kernel.shape, opts);
  const fp: Conv2DParams = { ...p, activation: fused ? act : 'linear', alpha };
  const y = out([p.batch, p.outH, p.outW, p.outC]);
  B().conv2d(x, kernel, bias, y, fp);
  if (fused && act === 'relu') reluOutputs.add(y);
  record('conv2d', bias ? [x, kernel, bias] : [x, kernel], y, (dy, needs, owned) => {
    // A max pool right after may have applied the relu's derivative already (maxPool2d below).
    const dpre = reluMaskedFor.get(dy) === y ? dy : activationGradFromOutput(fused ? act : 'linear', y, dy, alpha, owned);
    let dx: Tensor | null = null, dw: Tensor | null = null, db: Tensor | null = null;
    // The first layer's input is the image: nobody wants its gradient.
    if (needs[0]) { dx = out(x.shape); B().conv2dGradInput(dpre, kernel, dx, p); }
    if (needs[1]) { dw = out(kernel.shape); B().conv2dGradFilter(x, dpre, dw, p); }
    if (bias && needs[2]) { db = out([p.outC]); B().reduce('sum', dpre, db, 1, p.batch * p.outH * p.outW, p.outC); }
    if (dpre !== dy) dpre.dispose();
    return bias ? [dx, dw, db] : [dx, dw];
  });
  // Unfused activations (elu, leaky_relu, ...) keep their Keras default alpha unless one is given.
  return fused ? y : activation(y, act, opts.alpha);
}

export interface Pool2DOptions { poolSize?: Pair; strides?: Pair | null; padding?: Padding }

/** Computes the parameter block of a 2-D pooling (validating shapes); Keras's default stride is the pool size. */
export function pool2dParams(xShape: readonly number[], opts: Pool2DOptions, op: string): Pool2DParams {
  const [pH, pW] = pair(opts.poolSize, 2, op, 'poolSize');
  const [sH, sW] = opts.strides == null ? [pH, pW] : pair(opts.strides, 1, op, 'strides');
  const padding = checkPadding(opts.padding, op);
  const [N, H, W, C] = xShape;
  const oh = convOutput(H, pH, sH, 1, padding), ow = convOutput(W, pW, sW, 1, padding);
  if (oh.out <= 0 || ow.out <= 0) {
    throw new RangeError(`convnet: ${op}: a ${pH}x${pW} pool does not fit in the ${H}x${W} input ${fmtShape(xShape)} with padding 'valid'`);
  }
  return { batch: N, inH: H, inW: W, channels: C, outH: oh.out, outW: ow.out, poolH: pH, poolW: pW, strideH: sH, strideW: sW, padTop: oh.padBefore, padLeft: ow.padBefore };
}

/** Max pooling over [N, H, W, C] (Keras's MaxPooling2D). */
export function maxPool2d(x: Tensor, opts: Pool2DOptions = {}): Tensor {
  assertFloat(x, 'maxPool2d'); assertRank(x, 4, 'maxPool2d', 'x', '[batch, height, width, channels]');
  const p = pool2dParams(x.shape, opts, 'maxPool2d');
  const y = out([p.batch, p.outH, p.outW, p.channels]);
  B().maxPool2d(x, y, p);
  record('maxPool2d', [x], y, (dy) => {
    const dx = out(x.shape), be = B();
    if (reluOutputs.has(x) && be.maxPool2dGradRelu) {
      // x came out of a conv's fused relu: apply its derivative here, in the same pass (the conv then skips it).
      be.maxPool2dGradRelu(x, dy, dx, p);
      reluMaskedFor.set(dx, x);
    } else {
      be.maxPool2dGrad(x, dy, dx, p);
    }
    return [dx];
  });
  return y;
}

/** Average pooling over [N, H, W, C] (Keras's AveragePooling2D; padding is not counted). */
export function avgPool2d(x: Tensor, opts: Pool2DOptions = {}): Tensor {
  assertFloat(x, 'avgPool2d'); assertRank(x, 4, 'avgPool2d', 'x', '[batch, height, width, channels]');
  const p = pool2dParams(x.shape, opts, 'avgPool2d');
  const y = out([p.batch, p.outH, p.outW, p.channels]);
  B().avgPool2d(x, y, p);
  record('avgPool2d', [x], y, (dy) => {
    const dx = out(x.shape);
    B().avgPool2dGrad(dy, dx, p);
    return [dx];
  });
  return y;
}
