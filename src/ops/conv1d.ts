/**
 * 1-D convolution and pooling over [batch, steps, channels] (Keras's Conv1D, MaxPooling1D), run as
 * their 2-D counterparts on a height-1 view: reshapes are free and differentiable, so the 2-D
 * kernels and gradient rules serve unchanged.
 */
import { Tensor, fmtShape } from '../tensor/tensor.js';
import { zeros } from '../tensor/tensor.js';
import { assertFloat, assertRank } from './util.js';
import { conv2d, maxPool2d, type Conv2DOptions } from './conv.js';
import { concat } from './nn.js';

export interface Conv1DOptions extends Omit<Conv2DOptions, 'strides' | 'dilationRate' | 'padding'> {
  strides?: number;
  dilationRate?: number;
  /** 'causal' pads (kernel - 1) * dilation zeros on the left only (output[t] sees inputs up to t). */
  padding?: 'valid' | 'same' | 'causal';
}

function posInt(v: number | undefined, what: string, op: string): number {
  const n = v ?? 1;
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`convnet: ${op}: ${what} must be a positive integer, got ${JSON.stringify(v)}`);
  return n;
}

/** 1-D convolution: x [N, L, C], kernel [k, C, filters] -> [N, L', filters]. */
export function conv1d(x: Tensor, kernel: Tensor, opts: Conv1DOptions = {}): Tensor {
  const op = 'conv1d';
  assertFloat(x, op); assertFloat(kernel, op, 'kernel');
  assertRank(x, 3, op, 'x', '[batch, steps, channels]');
  assertRank(kernel, 3, op, 'kernel', '[kernelSize, inChannels, filters]');
  const s = posInt(opts.strides, 'strides', op), d = posInt(opts.dilationRate, 'dilationRate', op);
  const [k, inC, F] = kernel.shape;
  if (inC !== x.shape[2]) throw new RangeError(`convnet: ${op}: input ${fmtShape(x.shape)} has ${x.shape[2]} channels but the kernel ${fmtShape(kernel.shape)} expects ${inC}`);
  let xin = x;
  let padding: 'valid' | 'same' = 'valid';
  if (opts.padding === 'causal') {
    const left = (k - 1) * d;
    if (left > 0) xin = concat([zeros([x.shape[0], left, inC]), x], 1);
  } else if (opts.padding !== undefined) {
    if (opts.padding !== 'valid' && opts.padding !== 'same') throw new RangeError(`convnet: ${op}: padding must be 'valid', 'same' or 'causal', got ${JSON.stringify(opts.padding)}`);
    padding = opts.padding;
  }
  const [N, L] = xin.shape;
  try {
    const y = conv2d(xin.reshape([N, 1, L, inC]), kernel.reshape([1, k, inC, F]), { ...opts, strides: [1, s], dilationRate: [1, d], padding });
    return y.reshape([N, y.shape[2], F]);
  } catch (e) {
    if (e instanceof RangeError) throw new RangeError(e.message.replace('convnet: conv2d:', `convnet: ${op}:`));
    throw e;
  }
}

/** Max pooling over steps: x [N, L, C] -> [N, L', C] (Keras's MaxPooling1D; stride defaults to the pool size). */
export function maxPool1d(x: Tensor, opts: { poolSize?: number; strides?: number | null; padding?: 'valid' | 'same' } = {}): Tensor {
  const op = 'maxPool1d';
  assertFloat(x, op); assertRank(x, 3, op, 'x', '[batch, steps, channels]');
  const p = posInt(opts.poolSize ?? 2, 'poolSize', op);
  const s = opts.strides == null ? p : posInt(opts.strides, 'strides', op);
  const [N, L, C] = x.shape;
  const y = maxPool2d(x.reshape([N, 1, L, C]), { poolSize: [1, p], strides: [1, s], padding: opts.padding });
  return y.reshape([N, y.shape[2], C]);
}
