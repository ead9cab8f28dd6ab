/**
 * Conv2DTranspose (learned upsampling, kernel [kh, kw, filters, in]) and Conv1D (kernel
 * [k, in, filters] over [batch, steps, channels]), with Keras 3's options and configs.
 */
import type { Tensor } from '../tensor/index.js';
import { conv1d, conv2dTranspose, convTransposeLength } from '../ops/index.js';
import { layerOptions, positional, registerLayer, type Shape } from './layer.js';
import { applyActivation, backendActivation } from './activations.js';
import { intPair, oneOf, checkNumber } from './config.js';
import { convLength, KernelLayer, KERNEL_KEYS, type KernelArgs } from './conv.js';

export interface Conv2DTransposeArgs extends KernelArgs {
  kernelSize?: number | [number, number];
  strides?: number | [number, number];
  padding?: 'valid' | 'same';
  dilationRate?: number | [number, number];
  outputPadding?: number | [number, number] | null;
}

/** Transposed 2-D convolution: `new Conv2DTranspose(16, 3, { strides: 2, padding: 'same' })` doubles height and width. */
export class Conv2DTranspose extends KernelLayer {
  static readonly className = 'Conv2DTranspose';
  readonly kernelSize: [number, number];
  readonly strides: [number, number];
  readonly padding: 'valid' | 'same';
  readonly dilationRate: [number, number];
  readonly outputPadding: [number, number] | null;

  constructor(filters: number, kernelSize: number | [number, number], args?: Conv2DTransposeArgs);
  constructor(args: Conv2DTransposeArgs);
  constructor(...a: unknown[]) {
    const o = layerOptions(positional(a, ['filters', 'kernelSize']), [...KERNEL_KEYS, 'outputPadding'], 'Conv2DTranspose');
    super(o);
    const w = `Conv2DTranspose ${this.name}`;
    this.kernelSize = intPair(o.kernelSize, 'kernelSize', w);
    this.strides = intPair(o.strides ?? 1, 'strides', w);
    this.padding = oneOf(o.padding ?? 'valid', ['valid', 'same'] as const, 'padding', w);
    this.dilationRate = intPair(o.dilationRate ?? 1, 'dilationRate', w);
    if (o.outputPadding == null) this.outputPadding = null;
    else {
      const v = o.outputPadding;
      const op = typeof v === 'number' ? [v, v] : Array.isArray(v) && v.length === 2 ? v : null;
      if (!op || !op.every((d, i) => Number.isInteger(d) && d >= 0 && d < this.strides[i])) {
        throw new RangeError(`convnet: ${w}: outputPadding must be an integer or a pair, each at least 0 and below its stride ${JSON.stringify(this.strides)}, got ${JSON.stringify(v)}`);
      }
      this.outputPadding = [op[0], op[1]];
    }
  }

  build(inputShape: Shape): void {
    const inC = this.lastAxis(inputShape, 4, '[batch, height, width, channels]');
    this.makeWeights([this.kernelSize[0], this.kernelSize[1], this.filters, inC]);
    super.build(inputShape);
  }

  computeOutputShape(s: Shape): Shape {
    const len = (n: number | null, i: 0 | 1): number | null => (n === null ? null : convTransposeLength(n, this.kernelSize[i], this.strides[i], this.dilationRate[i], this.padding, this.outputPadding?.[i] ?? null));
    return [s[0], len(s[1], 0), len(s[2], 1), this.filters];
  }

  call(x: Tensor): Tensor {
    const act = backendActivation(this.activation);
    const y = conv2dTranspose(x, this.kernel!.value, {
      bias: this.bias?.value ?? null, strides: this.strides, padding: this.padding, dilationRate: this.dilationRate, activation: act ?? 'linear',
      outputPadding: this.outputPadding,
    });
    return act === null ? applyActivation(y, this.activation) : y;
  }

  getConfig(): Record<string, unknown> {
    return {
      ...super.getConfig(), filters: this.filters, kernel_size: [...this.kernelSize], strides: [...this.strides], padding: this.padding,
      output_padding: this.outputPadding ? [...this.outputPadding] : null, data_format: 'channels_last', dilation_rate: [...this.dilationRate], ...this.kernelConfig(),
    };
  }
}

export interface Conv1DArgs extends KernelArgs {
  kernelSize?: number | [number];
  strides?: number | [number];
  padding?: 'valid' | 'same' | 'causal';
  dilationRate?: number | [number];
  groups?: number;
}

function one(v: unknown, what: string, where: string): number {
  const n = Array.isArray(v) && v.length === 1 ? v[0] : v;
  if (!(Number.isInteger(n) && (n as number) >= 1)) throw new RangeError(`convnet: ${where}: ${what} must be a positive integer (or a list of one), got ${JSON.stringify(v)}`);
  return n as number;
}

/** 1-D convolution over [batch, steps, channels]: `new Conv1D(32, 5, { padding: 'causal' })`. */
export class Conv1D extends KernelLayer {
  static readonly className = 'Conv1D';
  readonly kernelSize: number;
  readonly strides: number;
  readonly padding: 'valid' | 'same' | 'causal';
  readonly dilationRate: number;

  constructor(filters: number, kernelSize: number | [number], args?: Conv1DArgs);
  constructor(args: Conv1DArgs);
  constructor(...a: unknown[]) {
    const o = layerOptions(positional(a, ['filters', 'kernelSize']), [...KERNEL_KEYS, 'groups'], 'Conv1D');
    super(o);
    const w = `Conv1D ${this.name}`;
    this.kernelSize = one(o.kernelSize, 'kernelSize', w);
    this.strides = one(o.strides ?? 1, 'strides', w);
    this.padding = oneOf(o.padding ?? 'valid', ['valid', 'same', 'causal'] as const, 'padding', w);
    this.dilationRate = one(o.dilationRate ?? 1, 'dilationRate', w);
    if (o.groups !== undefined) checkNumber(o.groups, 'groups (only 1 is supported)', w, 1, 1);
    if (this.strides > 1 && this.dilationRate > 1) throw new RangeError(`convnet: ${w}: strides > 1 together with dilationRate > 1 is not supported (as in Keras)`);
  }

  build(inputShape: Shape): void {
    const inC = this.lastAxis(inputShape, 3, '[batch, steps, channels]');
    this.computeOutputShape(inputShape);
    this.makeWeights([this.kernelSize, inC, this.filters]);
    super.build(inputShape);
  }

  computeOutputShape(s: Shape): Shape {
    const n = s[1];
    const L = n === null ? null : this.padding === 'causal'
      ? Math.floor((n - 1) / this.strides) + 1
      : convLength(n, this.kernelSize, this.strides, this.dilationRate, this.padding);
    if (L !== null && L <= 0) throw new RangeError(`convnet: Conv1D ${this.name}: a kernel of ${this.kernelSize} does not fit ${n} steps with padding '${this.padding}'`);
    return [s[0], L, this.filters];
  }

  call(x: Tensor): Tensor {
    const act = backendActivation(this.activation);
    const y = conv1d(x, this.kernel!.value, {
      bias: this.bias?.value ?? null, strides: this.strides, padding: this.padding, dilationRate: this.dilationRate, activation: act ?? 'linear',
    });
    return act === null ? applyActivation(y, this.activation) : y;
  }

  getConfig(): Record<string, unknown> {
    return {
      ...super.getConfig(), filters: this.filters, kernel_size: [this.kernelSize], strides: [this.strides], padding: this.padding,
      data_format: 'channels_last', dilation_rate: [this.dilationRate], groups: 1, ...this.kernelConfig(),
    };
  }
}

registerLayer('Conv2DTranspose', Conv2DTranspose);
registerLayer('Conv1D', Conv1D);
