/**
 * DepthwiseConv2D (one 2-D filter per input channel, MobileNet's 3x3 stage) and SeparableConv2D
 * (a depthwise conv followed by a 1x1 pointwise Conv2D), NHWC, as Keras 3.
 *
 * Weights as Keras 3 names them: DepthwiseConv2D `kernel` [kh, kw, in, depth_multiplier] and
 * `bias` [in * depth_multiplier]; SeparableConv2D `depthwise_kernel`, `pointwise_kernel`
 * [1, 1, in * depth_multiplier, filters] and `bias` [filters].
 */
import type { Tensor } from '../tensor/index.js';
import { conv2d } from '../ops/index.js';
import { depthwiseConv2d } from '../ops/depthwise.js';
import { Layer, layerOptions, positional, registerLayer, type Shape, type Variable, type LayerArgs } from './layer.js';
import { getInitializer, type Initializer, type InitializerIdentifier } from './initializers.js';
import { getRegularizer, type Regularizer, type RegularizerIdentifier } from './regularizers.js';
import { activationName, applyActivation, backendActivation, type ActivationName } from './activations.js';
import { intPair, oneOf } from './config.js';
import { convLength } from './conv.js';

interface SpatialArgs extends LayerArgs {
  kernelSize?: number | [number, number];
  strides?: number | [number, number];
  padding?: 'valid' | 'same';
  dilationRate?: number | [number, number];
  depthMultiplier?: number;
  activation?: string | null;
  useBias?: boolean;
  dataFormat?: 'channels_last';
  biasInitializer?: InitializerIdentifier;
  biasRegularizer?: RegularizerIdentifier | null;
  depthwiseInitializer?: InitializerIdentifier;
  depthwiseRegularizer?: RegularizerIdentifier | null;
}

export interface DepthwiseConv2DArgs extends SpatialArgs {}

export interface SeparableConv2DArgs extends SpatialArgs {
  filters?: number;
  pointwiseInitializer?: InitializerIdentifier;
  pointwiseRegularizer?: RegularizerIdentifier | null;
}

const COMMON = ['kernelSize', 'strides', 'padding', 'dilationRate', 'depthMultiplier', 'activation', 'useBias', 'dataFormat',
  'biasInitializer', 'biasRegularizer', 'depthwiseInitializer', 'depthwiseRegularizer', 'activityRegularizer',
  'depthwiseConstraint', 'biasConstraint', 'groups'];

/** What DepthwiseConv2D and SeparableConv2D share: the spatial options and the depthwise stage. */
abstract class DepthwiseBase extends Layer {
  readonly kernelSize: [number, number];
  readonly strides: [number, number];
  readonly padding: 'valid' | 'same';
  readonly dilationRate: [number, number];
  readonly depthMultiplier: number;
  readonly activation: ActivationName;
  readonly useBias: boolean;
  readonly depthwiseInitializer: Initializer;
  readonly biasInitializer: Initializer;
  readonly depthwiseRegularizer: Regularizer | null;
  readonly biasRegularizer: Regularizer | null;

  constructor(o: Record<string, unknown>) {
    super(o);
    const w = `${this.className} ${this.name}`;
    if (o.kernelSize === undefined) throw new RangeError(`convnet: ${w}: kernelSize is required (e.g. 3 or [3, 3])`);
    this.kernelSize = intPair(o.kernelSize, 'kernelSize', w);
    this.strides = intPair(o.strides ?? 1, 'strides', w);
    this.padding = oneOf(o.padding ?? 'valid', ['valid', 'same'] as const, 'padding', w);
    this.dilationRate = intPair(o.dilationRate ?? 1, 'dilationRate', w);
    if ((this.strides[0] > 1 || this.strides[1] > 1) && (this.dilationRate[0] > 1 || this.dilationRate[1] > 1)) {
      throw new RangeError(`convnet: ${w}: strides > 1 together with dilationRate > 1 is not supported (as in Keras)`);
    }
    const dm = o.depthMultiplier ?? 1;
    if (!(Number.isInteger(dm) && (dm as number) >= 1)) throw new RangeError(`convnet: ${w}: depthMultiplier must be a positive integer, got ${JSON.stringify(dm)}`);
    this.depthMultiplier = dm as number;
    if (o.dataFormat !== undefined && o.dataFormat !== null) oneOf(o.dataFormat, ['channels_last'] as const, 'dataFormat', w);
    this.activation = activationName(o.activation, w);
    this.useBias = o.useBias === undefined ? true : !!o.useBias;
    this.depthwiseInitializer = getInitializer(o.depthwiseInitializer as InitializerIdentifier, 'glorot_uniform');
    this.biasInitializer = getInitializer(o.biasInitializer as InitializerIdentifier, 'zeros');
    this.depthwiseRegularizer = getRegularizer(o.depthwiseRegularizer as RegularizerIdentifier);
    this.biasRegularizer = getRegularizer(o.biasRegularizer as RegularizerIdentifier);
  }

  /** The input's channel count (validating rank and sizes). */
  protected inChannels(inputShape: Shape): number {
    if (inputShape.length !== 4) throw new RangeError(`convnet: ${this.className} ${this.name} expects 4-D input [batch, height, width, channels], got rank ${inputShape.length}`);
    const inC = inputShape[3];
    if (inC === null) throw new RangeError(`convnet: ${this.className} ${this.name}: the channel axis of the input must be known`);
    this.computeOutputShape(inputShape);
    return inC;
  }

  protected spatialOutput(s: Shape): [number | null, number | null] {
    const h = convLength(s[1], this.kernelSize[0], this.strides[0], this.dilationRate[0], this.padding);
    const w = convLength(s[2], this.kernelSize[1], this.strides[1], this.dilationRate[1], this.padding);
    if ((h !== null && h <= 0) || (w !== null && w <= 0)) {
      throw new RangeError(`convnet: ${this.className} ${this.name}: a ${this.kernelSize.join('x')} kernel does not fit the ${s[1]}x${s[2]} input with padding '${this.padding}'`);
    }
    return [h, w];
  }

  protected convOpts(): { strides: [number, number]; padding: 'valid' | 'same'; dilationRate: [number, number] } {
    return { strides: this.strides, padding: this.padding, dilationRate: this.dilationRate };
  }
}

/** Depthwise 2-D convolution: `new DepthwiseConv2D(3, { padding: 'same', useBias: false })`. */
export class DepthwiseConv2D extends DepthwiseBase {
  static readonly className = 'DepthwiseConv2D';
  kernel: Variable | null = null;
  bias: Variable | null = null;

  constructor(kernelSize: number | [number, number], args?: DepthwiseConv2DArgs);
  constructor(args: DepthwiseConv2DArgs);
  constructor(...a: unknown[]) {
    super(layerOptions(positional(a, ['kernelSize']), COMMON, 'DepthwiseConv2D'));
  }

  build(inputShape: Shape): void {
    const inC = this.inChannels(inputShape);
    this.kernel = this.addWeight('kernel', [this.kernelSize[0], this.kernelSize[1], inC, this.depthMultiplier], this.depthwiseInitializer, { regularizer: this.depthwiseRegularizer });
    if (this.useBias) this.bias = this.addWeight('bias', [inC * this.depthMultiplier], this.biasInitializer, { regularizer: this.biasRegularizer });
    super.build(inputShape);
  }

  computeOutputShape(s: Shape): Shape {
    const [h, w] = this.spatialOutput(s);
    return [s[0], h, w, s[3] === null ? null : s[3] * this.depthMultiplier];
  }

  call(x: Tensor): Tensor {
    const act = backendActivation(this.activation);
    const y = depthwiseConv2d(x, this.kernel!.value, { ...this.convOpts(), bias: this.bias?.value ?? null, activation: act ?? 'linear' });
    return act === null ? applyActivation(y, this.activation) : y;
  }

  getConfig(): Record<string, unknown> {
    return {
      ...super.getConfig(),
      depth_multiplier: this.depthMultiplier, kernel_size: [...this.kernelSize], strides: [...this.strides], padding: this.padding,
      data_format: 'channels_last', dilation_rate: [...this.dilationRate], activation: this.activation, use_bias: this.useBias,
      depthwise_initializer: this.depthwiseInitializer.serialize(), bias_initializer: this.biasInitializer.serialize(),
      depthwise_regularizer: this.depthwiseRegularizer?.serialize() ?? null, bias_regularizer: this.biasRegularizer?.serialize() ?? null,
      activity_regularizer: null, depthwise_constraint: null, bias_constraint: null,
    };
  }
}

/** Depthwise then 1x1 pointwise convolution: `new SeparableConv2D(64, 3, { padding: 'same' })`. */
export class SeparableConv2D extends DepthwiseBase {
  static readonly className = 'SeparableConv2D';
  readonly filters: number;
  readonly pointwiseInitializer: Initializer;
  readonly pointwiseRegularizer: Regularizer | null;
  depthwiseKernel: Variable | null = null;
  pointwiseKernel: Variable | null = null;
  bias: Variable | null = null;

  constructor(filters: number, kernelSize: number | [number, number], args?: SeparableConv2DArgs);
  constructor(args: SeparableConv2DArgs);
  constructor(...a: unknown[]) {
    const o = layerOptions(positional(a, ['filters', 'kernelSize']), [...COMMON, 'filters', 'pointwiseInitializer', 'pointwiseRegularizer', 'pointwiseConstraint'], 'SeparableConv2D');
    super(o);
    if (!(Number.isInteger(o.filters) && (o.filters as number) > 0)) throw new RangeError(`convnet: SeparableConv2D ${this.name}: filters must be a positive integer, got ${JSON.stringify(o.filters)}`);
    this.filters = o.filters as number;
    this.pointwiseInitializer = getInitializer(o.pointwiseInitializer as InitializerIdentifier, 'glorot_uniform');
    this.pointwiseRegularizer = getRegularizer(o.pointwiseRegularizer as RegularizerIdentifier);
  }

  build(inputShape: Shape): void {
    const inC = this.inChannels(inputShape);
    const mid = inC * this.depthMultiplier;
    this.depthwiseKernel = this.addWeight('depthwise_kernel', [this.kernelSize[0], this.kernelSize[1], inC, this.depthMultiplier], this.depthwiseInitializer, { regularizer: this.depthwiseRegularizer });
    this.pointwiseKernel = this.addWeight('pointwise_kernel', [1, 1, mid, this.filters], this.pointwiseInitializer, { regularizer: this.pointwiseRegularizer });
    if (this.useBias) this.bias = this.addWeight('bias', [this.filters], this.biasInitializer, { regularizer: this.biasRegularizer });
    super.build(inputShape);
  }

  computeOutputShape(s: Shape): Shape {
    const [h, w] = this.spatialOutput(s);
    return [s[0], h, w, this.filters];
  }

  call(x: Tensor): Tensor {
    const mid = depthwiseConv2d(x, this.depthwiseKernel!.value, this.convOpts());
    const act = backendActivation(this.activation);
    const y = conv2d(mid, this.pointwiseKernel!.value, { bias: this.bias?.value ?? null, activation: act ?? 'linear' });
    return act === null ? applyActivation(y, this.activation) : y;
  }

  getConfig(): Record<string, unknown> {
    return {
      ...super.getConfig(),
      depth_multiplier: this.depthMultiplier, filters: this.filters, kernel_size: [...this.kernelSize], strides: [...this.strides],
      padding: this.padding, data_format: 'channels_last', dilation_rate: [...this.dilationRate], activation: this.activation,
      use_bias: this.useBias, depthwise_initializer: this.depthwiseInitializer.serialize(),
      pointwise_initializer: this.pointwiseInitializer.serialize(), bias_initializer: this.biasInitializer.serialize(),
      depthwise_regularizer: this.depthwiseRegularizer?.serialize() ?? null, pointwise_regularizer: this.pointwiseRegularizer?.serialize() ?? null,
      bias_regularizer: this.biasRegularizer?.serialize() ?? null, activity_regularizer: null,
      depthwise_constraint: null, pointwise_constraint: null, bias_constraint: null,
    };
  }
}

registerLayer('DepthwiseConv2D', DepthwiseConv2D);
registerLayer('SeparableConv2D', SeparableConv2D);
