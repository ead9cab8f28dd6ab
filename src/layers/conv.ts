/** Conv2D: 2-D convolution over NHWC inputs with an HWIO kernel ([kh, kw, in, filters]), as Keras. */
import type { Tensor } from '../tensor/index.js';
import { conv2d } from '../ops/index.js';
import { Layer, layerOptions, positional, registerLayer, type Shape, type Variable, type LayerArgs } from './layer.js';
import { getInitializer, type Initializer, type InitializerIdentifier } from './initializers.js';
import { getRegularizer, type Regularizer, type RegularizerIdentifier } from './regularizers.js';
import { activationName, applyActivation, backendActivation, type ActivationName } from './activations.js';
import { intPair, oneOf, checkNumber } from './config.js';

/** The options every kernel layer (Conv1D, Conv2D, Conv2DTranspose) takes. */
export interface KernelArgs extends LayerArgs {
  filters?: number;
  activation?: string | null;
  useBias?: boolean;
  kernelInitializer?: InitializerIdentifier;
  biasInitializer?: InitializerIdentifier;
  kernelRegularizer?: RegularizerIdentifier | null;
  biasRegularizer?: RegularizerIdentifier | null;
  dataFormat?: 'channels_last';
}
export const KERNEL_KEYS = ['filters', 'kernelSize', 'strides', 'padding', 'dilationRate', 'activation', 'useBias', 'kernelInitializer',
  'biasInitializer', 'kernelRegularizer', 'biasRegularizer', 'activityRegularizer', 'kernelConstraint', 'biasConstraint', 'dataFormat'];

/**
 * Activation, bias and the kernel's and bias's initializers/regularizers: what Dense and the kernel
 * layers take alike (Keras's option names and defaults: glorot_uniform kernel, zero bias).
 */
export abstract class WeightedLayer extends Layer {
  readonly activation: ActivationName;
  readonly useBias: boolean;
  readonly kernelInitializer: Initializer;
  readonly biasInitializer: Initializer;
  readonly kernelRegularizer: Regularizer | null;
  readonly biasRegularizer: Regularizer | null;
  kernel: Variable | null = null;
  bias: Variable | null = null;

  constructor(o: Record<string, unknown>) {
    super(o);
    this.activation = activationName(o.activation, `${this.className} ${this.name}`);
    this.useBias = o.useBias === undefined ? true : !!o.useBias;
    this.kernelInitializer = getInitializer(o.kernelInitializer as InitializerIdentifier, 'glorot_uniform');
    this.biasInitializer = getInitializer(o.biasInitializer as InitializerIdentifier, 'zeros');
    this.kernelRegularizer = getRegularizer(o.kernelRegularizer as RegularizerIdentifier);
    this.biasRegularizer = getRegularizer(o.biasRegularizer as RegularizerIdentifier);
  }

  /** The kernel of `kernelShape` and, with useBias, a bias of `units`. */
  protected addKernelAndBias(kernelShape: number[], units: number): void {
    this.kernel = this.addWeight('kernel', kernelShape, this.kernelInitializer, { regularizer: this.kernelRegularizer });
    if (this.useBias) this.bias = this.addWeight('bias', [units], this.biasInitializer, { regularizer: this.biasRegularizer });
  }
}

/** Filters and a kernel size on top of WeightedLayer: what every kernel layer here shares. */
export abstract class KernelLayer extends WeightedLayer {
  readonly filters: number;

  constructor(o: Record<string, unknown>) {
    super(o);
    const w = `${this.className} ${this.name}`;
    if (!(Number.isInteger(o.filters) && (o.filters as number) > 0)) throw new RangeError(`convnet: ${w}: filters must be a positive integer, got ${JSON.stringify(o.filters)}`);
    if (o.kernelSize === undefined) throw new RangeError(`convnet: ${w}: kernelSize is required (e.g. 3)`);
    if (o.dataFormat !== undefined && o.dataFormat !== null) oneOf(o.dataFormat, ['channels_last'] as const, 'dataFormat', w);
    this.filters = o.filters as number;
  }

  protected makeWeights(kernelShape: number[]): void { this.addKernelAndBias(kernelShape, this.filters); }

  protected lastAxis(inputShape: Shape, rank: number, what: string): number {
    if (inputShape.length !== rank) throw new RangeError(`convnet: ${this.className} ${this.name} expects ${rank}-D input ${what}, got rank ${inputShape.length}`);
    const c = inputShape[rank - 1];
    if (c === null) throw new RangeError(`convnet: ${this.className} ${this.name}: the channel axis of the input must be known`);
    return c;
  }

  protected kernelConfig(): Record<string, unknown> {
    return {
      activation: this.activation, use_bias: this.useBias,
      kernel_initializer: this.kernelInitializer.serialize(), bias_initializer: this.biasInitializer.serialize(),
      kernel_regularizer: this.kernelRegularizer?.serialize() ?? null, bias_regularizer: this.biasRegularizer?.serialize() ?? null,
      activity_regularizer: null, kernel_constraint: null, bias_constraint: null,
    };
  }
}

export interface Conv2DArgs extends KernelArgs {
  kernelSize?: number | [number, number];
  strides?: number | [number, number];
  padding?: 'valid' | 'same';
  dilationRate?: number | [number, number];
  groups?: number;
}

/** Output length of one spatial axis (TensorFlow's rule; null stays null). */
export function convLength(n: number | null, k: number, stride: number, dilation: number, padding: 'valid' | 'same'): number | null {
  if (n === null) return null;
  const eff = (k - 1) * dilation + 1;
  return padding === 'same' ? Math.ceil(n / stride) : Math.floor((n - eff) / stride) + 1;
}

export class Conv2D extends KernelLayer {
  static readonly className = 'Conv2D';
  readonly kernelSize: [number, number];
  readonly strides: [number, number];
  readonly padding: 'valid' | 'same';
  readonly dilationRate: [number, number];

  /** `new Conv2D(32, [3, 3], { activation: 'relu' })` or `new Conv2D({ filters: 32, kernelSize: 3 })`. */
  constructor(filters: number, kernelSize: number | [number, number], args?: Conv2DArgs);
  constructor(args: Conv2DArgs);
  constructor(...a: unknown[]) {
    const o = layerOptions(positional(a, ['filters', 'kernelSize']), [...KERNEL_KEYS, 'groups'], 'Conv2D');
    super(o);
    const w = `Conv2D ${this.name}`;
    this.kernelSize = intPair(o.kernelSize, 'kernelSize', w);
    this.strides = intPair(o.strides ?? 1, 'strides', w);
    this.padding = oneOf(o.padding ?? 'valid', ['valid', 'same'] as const, 'padding', w);
    this.dilationRate = intPair(o.dilationRate ?? 1, 'dilationRate', w);
    if (o.groups !== undefined) checkNumber(o.groups, 'groups (only 1 is supported)', w, 1, 1);
  }

  build(inputShape: Shape): void {
    const inC = this.lastAxis(inputShape, 4, '[batch, height, width, channels]');
    this.computeOutputShape(inputShape); // validates the spatial sizes
    this.makeWeights([this.kernelSize[0], this.kernelSize[1], inC, this.filters]);
    super.build(inputShape);
  }

  computeOutputShape(s: Shape): Shape {
    const h = convLength(s[1], this.kernelSize[0], this.strides[0], this.dilationRate[0], this.padding);
    const w = convLength(s[2], this.kernelSize[1], this.strides[1], this.dilationRate[1], this.padding);
    if ((h !== null && h <= 0) || (w !== null && w <= 0)) {
      throw new RangeError(`convnet: Conv2D ${this.name}: a ${this.kernelSize.join('x')} kernel does not fit the ${s[1]}x${s[2]} input with padding '${this.padding}'`);
    }
    return [s[0], h, w, this.filters];
  }

  call(x: Tensor): Tensor {
    const act = backendActivation(this.activation);
    const y = conv2d(x, this.kernel!.value, {
      bias: this.bias?.value ?? null, strides: this.strides, padding: this.padding, dilationRate: this.dilationRate,
      activation: act ?? 'linear',
    });
    return act === null ? applyActivation(y, this.activation) : y;
  }

  getConfig(): Record<string, unknown> {
    return {
      ...super.getConfig(),
      filters: this.filters, kernel_size: [...this.kernelSize], strides: [...this.strides], padding: this.padding,
      data_format: 'channels_last', dilation_rate: [...this.dilationRate], groups: 1, ...this.kernelConfig(),
    };
  }
}
registerLayer('Conv2D', Conv2D);
