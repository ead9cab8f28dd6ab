/**
 * BatchNormalization over the last axis (channels): in training, normalises with the batch's
 * mean and (biased) variance and updates the moving statistics,
 * moving = moving · momentum + batch · (1 − momentum); at inference uses the moving statistics.
 * Keras's defaults: momentum 0.99, epsilon 1e-3.
 */
import type { Tensor } from '../tensor/index.js';
import { add, sub, mul, div, mean, square, sqrt } from '../ops/index.js';
import { noGrad } from '../autograd/index.js';
import { Layer, layerOptions, registerLayer, type Shape, type Variable, type LayerArgs } from './layer.js';
import { getInitializer, type Initializer, type InitializerIdentifier } from './initializers.js';
import { getRegularizer, type Regularizer, type RegularizerIdentifier } from './regularizers.js';
import { checkNumber } from './config.js';

export interface BatchNormalizationArgs extends LayerArgs {
  axis?: number; momentum?: number; epsilon?: number; center?: boolean; scale?: boolean;
  betaInitializer?: InitializerIdentifier; gammaInitializer?: InitializerIdentifier;
  movingMeanInitializer?: InitializerIdentifier; movingVarianceInitializer?: InitializerIdentifier;
  betaRegularizer?: RegularizerIdentifier | null; gammaRegularizer?: RegularizerIdentifier | null;
}
const OWN = ['axis', 'momentum', 'epsilon', 'center', 'scale', 'betaInitializer', 'gammaInitializer', 'movingMeanInitializer',
  'movingVarianceInitializer', 'betaRegularizer', 'gammaRegularizer', 'betaConstraint', 'gammaConstraint', 'synchronized',
  'renorm', 'renormClipping', 'renormMomentum'];

export class BatchNormalization extends Layer {
  static readonly className = 'BatchNormalization';
  readonly axis: number; readonly momentum: number; readonly epsilon: number;
  readonly center: boolean; readonly scale: boolean;
  readonly betaInitializer: Initializer; readonly gammaInitializer: Initializer;
  readonly movingMeanInitializer: Initializer; readonly movingVarianceInitializer: Initializer;
  readonly betaRegularizer: Regularizer | null; readonly gammaRegularizer: Regularizer | null;
  gamma: Variable | null = null; beta: Variable | null = null;
  movingMean: Variable | null = null; movingVariance: Variable | null = null;

  constructor(args: BatchNormalizationArgs = {}) {
    const o = layerOptions(args, OWN, 'BatchNormalization');
    super(o);
    const w = `BatchNormalization ${this.name}`;
    // tf.keras 2 saves the axis after build as a one-element list of its positive index ([3]).
    const axis = Array.isArray(o.axis) && o.axis.length === 1 ? o.axis[0] : o.axis;
    if (axis !== undefined && !Number.isInteger(axis)) throw new RangeError(`convnet: ${w}: axis must be an integer (one axis), got ${JSON.stringify(o.axis)}`);
    this.axis = (axis as number) ?? -1;
    this.momentum = checkNumber(o.momentum ?? 0.99, 'momentum', w, 0, 1);
    this.epsilon = checkNumber(o.epsilon ?? 1e-3, 'epsilon', w, 0);
    this.center = o.center === undefined ? true : !!o.center;
    this.scale = o.scale === undefined ? true : !!o.scale;
    if (o.renorm) throw new RangeError(`convnet: ${w}: renorm is not supported`);
    this.betaInitializer = getInitializer(o.betaInitializer as InitializerIdentifier, 'zeros');
    this.gammaInitializer = getInitializer(o.gammaInitializer as InitializerIdentifier, 'ones');
    this.movingMeanInitializer = getInitializer(o.movingMeanInitializer as InitializerIdentifier, 'zeros');
    this.movingVarianceInitializer = getInitializer(o.movingVarianceInitializer as InitializerIdentifier, 'ones');
    this.betaRegularizer = getRegularizer(o.betaRegularizer as RegularizerIdentifier);
    this.gammaRegularizer = getRegularizer(o.gammaRegularizer as RegularizerIdentifier);
  }

  build(inputShape: Shape): void {
    const ax = this.axis < 0 ? inputShape.length + this.axis : this.axis;
    if (ax !== inputShape.length - 1) throw new RangeError(`convnet: BatchNormalization ${this.name}: only the last axis (channels) is supported, got axis ${this.axis}`);
    const c = inputShape[ax];
    if (c === null) throw new RangeError(`convnet: BatchNormalization ${this.name}: the channel axis must be known`);
    if (this.scale) this.gamma = this.addWeight('gamma', [c], this.gammaInitializer, { regularizer: this.gammaRegularizer });
    if (this.center) this.beta = this.addWeight('beta', [c], this.betaInitializer, { regularizer: this.betaRegularizer });
    this.movingMean = this.addWeight('moving_mean', [c], this.movingMeanInitializer, { trainable: false });
    this.movingVariance = this.addWeight('moving_variance', [c], this.movingVarianceInitializer, { trainable: false });
    super.build(inputShape);
  }

  call(x: Tensor, opts: { training: boolean }): Tensor {
    const axes = x.shape.slice(0, -1).map((_, i) => i);
    let y: Tensor;
    if (opts.training && this.trainable) {
      const m = mean(x, axes, true);
      const centered = sub(x, m);
      const v = mean(square(centered), axes, true);
      y = div(centered, sqrt(add(v, this.epsilon)));
      noGrad(() => {
        const c = this.movingMean!.shape[0];
        this.movingMean!.assign(add(mul(this.movingMean!.value, this.momentum), mul(m.reshape([c]), 1 - this.momentum)));
        this.movingVariance!.assign(add(mul(this.movingVariance!.value, this.momentum), mul(v.reshape([c]), 1 - this.momentum)));
      });
    } else {
      y = div(sub(x, this.movingMean!.value), sqrt(add(this.movingVariance!.value, this.epsilon)));
    }
    if (this.gamma) y = mul(y, this.gamma.value);
    if (this.beta) y = add(y, this.beta.value);
    return y;
  }

  getConfig(): Record<string, unknown> {
    return {
      ...super.getConfig(), axis: this.axis, momentum: this.momentum, epsilon: this.epsilon, center: this.center, scale: this.scale,
      beta_initializer: this.betaInitializer.serialize(), gamma_initializer: this.gammaInitializer.serialize(),
      moving_mean_initializer: this.movingMeanInitializer.serialize(), moving_variance_initializer: this.movingVarianceInitializer.serialize(),
      beta_regularizer: this.betaRegularizer?.serialize() ?? null, gamma_regularizer: this.gammaRegularizer?.serialize() ?? null,
      beta_constraint: null, gamma_constraint: null, synchronized: false,
    };
  }
}
registerLayer('BatchNormalization', BatchNormalization);
