/** Dense (fully connected: act(x · kernel + bias), kernel [in, units]) and Activation. */
import type { Tensor } from '../tensor/index.js';
import { dense } from '../ops/index.js';
import { Layer, layerOptions, positional, registerLayer, type Shape, type Variable, type LayerArgs } from './layer.js';
import { getInitializer, type Initializer, type InitializerIdentifier } from './initializers.js';
import { getRegularizer, type Regularizer, type RegularizerIdentifier } from './regularizers.js';
import { activationName, applyActivation, backendActivation, type ActivationName } from './activations.js';

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

export class Dense extends Layer {
  static readonly className = 'Dense';
  readonly units: number;
  readonly activation: ActivationName;
  readonly useBias: boolean;
  readonly kernelInitializer: Initializer;
  readonly biasInitializer: Initializer;
  readonly kernelRegularizer: Regularizer | null;
  readonly biasRegularizer: Regularizer | null;
  kernel: Variable | null = null;
  bias: Variable | null = null;

  /** `new Dense(128, { activation: 'relu' })` or `new Dense({ units: 128 })`. */
  constructor(units: number, args?: DenseArgs);
  constructor(args: DenseArgs);
  constructor(...a: unknown[]) {
    const o = layerOptions(positional(a, ['units']), DENSE_KEYS, 'Dense');
    super(o);
    if (!(Number.isInteger(o.units) && (o.units as number) > 0)) throw new RangeError(`convnet: Dense ${this.name}: units must be a positive integer, got ${JSON.stringify(o.units)}`);
    this.units = o.units as number;
    this.activation = activationName(o.activation, `Dense ${this.name}`);
    this.useBias = o.useBias === undefined ? true : !!o.useBias;
    this.kernelInitializer = getInitializer(o.kernelInitializer as InitializerIdentifier, 'glorot_uniform');
    this.biasInitializer = getInitializer(o.biasInitializer as InitializerIdentifier, 'zeros');
    this.kernelRegularizer = getRegularizer(o.kernelRegularizer as RegularizerIdentifier);
    this.biasRegularizer = getRegularizer(o.biasRegularizer as RegularizerIdentifier);
  }

  build(inputShape: Shape): void {
    const inDim = inputShape[inputShape.length - 1];
    if (inputShape.length < 2 || inDim === null) {
      throw new RangeError(`convnet: Dense ${this.name}: the last axis of the input must be known, got ${JSON.stringify(inputShape)}`);
    }
    this.kernel = this.addWeight('kernel', [inDim, this.units], this.kernelInitializer, { regularizer: this.kernelRegularizer });
    if (this.useBias) this.bias = this.addWeight('bias', [this.units], this.biasInitializer, { regularizer: this.biasRegularizer });
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
