/** Dense (fully connected: act(x · kernel + bias), kernel [in, units]) and Activation. */
import type { Tensor } from '../tensor/index.js';
import { dense } from '../ops/index.js';
import { Layer, layerOptions, positional, registerLayer, type Shape, type LayerArgs } from './layer.js';
import { type InitializerIdentifier } from './initializers.js';
import { type RegularizerIdentifier } from './regularizers.js';
import { activationName, applyActivation, backendActivation, type ActivationName } from './activations.js';
import { WeightedLayer } from './conv.js';

export interface DenseArgs extends LayerArgs {
  units?: number;
  activation?: string | null;
  useBias?: boolean;
  kernelInitializer?: InitializerIdentifier;
  biasInitializer?: InitializerIdentifier;
  kernelRegularizer?: RegularizerIdentifier | null;
  biasRegularizer?: RegularizerIdentifier | null;
}
const DENSE_KEYS = ['units', 'activation', 'useBias', 'kernelInitializer', 'biasInitializer', 'kernelRegularizer', 'biasRegularizer',
  'activityRegularizer', 'kernelConstraint', 'biasConstraint', 'loraRank', 'loraAlpha', 'quantizationConfig'];

export class Dense extends WeightedLayer {
  static readonly className = 'Dense';
  readonly units: number;

  /** `new Dense(128, { activation: 'relu' })` or `new Dense({ units: 128 })`. */
  constructor(units: number, args?: DenseArgs);
  constructor(args: DenseArgs);
  constructor(...a: unknown[]) {
    const o = layerOptions(positional(a, ['units']), DENSE_KEYS, 'Dense');
    super(o);
    if (!(Number.isInteger(o.units) && (o.units as number) > 0)) throw new RangeError(`convnet: Dense ${this.name}: units must be a positive integer, got ${JSON.stringify(o.units)}`);
    this.units = o.units as number;
  }

  build(inputShape: Shape): void {
    const inDim = inputShape[inputShape.length - 1];
    if (inputShape.length < 2 || inDim === null) {
      throw new RangeError(`convnet: Dense ${this.name}: the last axis of the input must be known, got ${JSON.stringify(inputShape)}`);
    }
    this.addKernelAndBias([inDim, this.units], this.units);
    super.build(inputShape);
  }

  computeOutputShape(s: Shape): Shape { return [...s.slice(0, -1), this.units]; }

  call(x: Tensor): Tensor {
    const act = backendActivation(this.activation);
    const y = dense(x, this.kernel!.value, this.bias?.value ?? null, act ?? 'linear');
    return act === null ? applyActivation(y, this.activation) : y;
  }

  getConfig(): Record<string, unknown> {
    return {
      ...super.getConfig(), units: this.units, activation: this.activation, use_bias: this.useBias,
      kernel_initializer: this.kernelInitializer.serialize(), bias_initializer: this.biasInitializer.serialize(),
      kernel_regularizer: this.kernelRegularizer?.serialize() ?? null, bias_regularizer: this.biasRegularizer?.serialize() ?? null,
      kernel_constraint: null, bias_constraint: null, quantization_config: null,
    };
  }
}

export interface ActivationArgs extends LayerArgs { activation?: string }

/** Applies an activation by name: `new Activation('relu')`. */
export class Activation extends Layer {
  static readonly className = 'Activation';
  readonly activation: ActivationName;
  constructor(activation: string, args?: LayerArgs);
  constructor(args: ActivationArgs);
  constructor(...a: unknown[]) {
    const o = layerOptions(positional(a, ['activation']), ['activation'], 'Activation');
    super(o);
    if (o.activation === undefined) throw new RangeError(`convnet: Activation ${this.name}: activation is required (e.g. 'relu')`);
    this.activation = activationName(o.activation, `Activation ${this.name}`);
  }
  call(x: Tensor): Tensor { return applyActivation(x, this.activation); }
  getConfig(): Record<string, unknown> { return { ...super.getConfig(), activation: this.activation }; }
}

registerLayer('Dense', Dense);
registerLayer('Activation', Activation);
