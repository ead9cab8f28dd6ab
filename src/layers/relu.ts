/**
 * Activation layers with options: ReLU, LeakyReLU, ELU, Softmax (Keras 3's classes and configs).
 *
 * ReLU with Keras's options: `new ReLU({ maxValue: 6 })` is ReLU6 (MobileNetV2).
 *
 *   f(x) = min(x, max_value)                 for x >= threshold
 *   f(x) = negative_slope * (x - threshold)  otherwise
 *
 * NaN stays NaN (NumPy's rule for max/min), whichever form is used.
 */
import type { Tensor } from '../tensor/index.js';
import { activation, minimum, mul, sub, greater, relu, softmax } from '../ops/index.js';
import { Layer, layerOptions, positional, registerLayer, type LayerArgs } from './layer.js';
import { checkNumber } from './config.js';

export interface ReLUArgs extends LayerArgs { maxValue?: number | null; negativeSlope?: number; threshold?: number }

export class ReLU extends Layer {
  static readonly className = 'ReLU';
  readonly maxValue: number | null;
  readonly negativeSlope: number;
  readonly threshold: number;

  constructor(args: ReLUArgs = {}) {
    const o = layerOptions(args, ['maxValue', 'negativeSlope', 'threshold'], 'ReLU');
    super(o);
    const w = `ReLU ${this.name}`;
    this.maxValue = o.maxValue == null ? null : checkNumber(o.maxValue, 'maxValue', w, 0);
    this.negativeSlope = checkNumber(o.negativeSlope ?? 0, 'negativeSlope', w, 0);
    this.threshold = checkNumber(o.threshold ?? 0, 'threshold', w, 0);
  }

  call(x: Tensor): Tensor {
    const { maxValue: mx, negativeSlope: ns, threshold: th } = this;
    if (th === 0 && ns === 0) {
      if (mx === null) return relu(x);
      if (mx === 6) return activation(x, 'relu6');
      return minimum(relu(x), mx);
    }
    if (th === 0 && mx === null) return activation(x, 'leaky_relu', ns);
    // General form, as Keras composes it: x * (x > threshold), clipped, minus slope * relu(threshold - x).
    let pos = th === 0 ? relu(x) : mul(x, greater(x, th));
    if (mx !== null) pos = minimum(pos, mx);
    return ns === 0 ? pos : sub(pos, mul(relu(sub(th, x)), ns));
  }

  getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), max_value: this.maxValue, negative_slope: this.negativeSlope, threshold: this.threshold };
  }
}
registerLayer('ReLU', ReLU);

export interface LeakyReLUArgs extends LayerArgs { negativeSlope?: number; alpha?: number }

/** x for x > 0, negative_slope * x otherwise (Keras's default slope 0.3; Keras 2 called it `alpha`). */
export class LeakyReLU extends Layer {
  static readonly className = 'LeakyReLU';
  readonly negativeSlope: number;
  constructor(args: LeakyReLUArgs = {}) {
    const o = layerOptions(args, ['negativeSlope', 'alpha'], 'LeakyReLU');
    super(o);
    this.negativeSlope = checkNumber(o.negativeSlope ?? o.alpha ?? 0.3, 'negativeSlope', `LeakyReLU ${this.name}`, 0);
  }
  call(x: Tensor): Tensor { return activation(x, 'leaky_relu', this.negativeSlope); }
  getConfig(): Record<string, unknown> { return { ...super.getConfig(), negative_slope: this.negativeSlope }; }
}
registerLayer('LeakyReLU', LeakyReLU);

export interface ELUArgs extends LayerArgs { alpha?: number }

/**
 * x for x > 0, alpha * (exp(x) - 1) otherwise. Keras 3's ELU forgets `alpha` in its config; it is
 * written here (Keras's constructor reads it), so a round trip keeps it.
 */
export class ELU extends Layer {
  static readonly className = 'ELU';
  readonly alpha: number;
  constructor(args: ELUArgs = {}) {
    const o = layerOptions(args, ['alpha'], 'ELU');
    super(o);
    this.alpha = checkNumber(o.alpha ?? 1, 'alpha', `ELU ${this.name}`);
  }
  call(x: Tensor): Tensor { return activation(x, 'elu', this.alpha); }
  getConfig(): Record<string, unknown> { return { ...super.getConfig(), alpha: this.alpha }; }
}
registerLayer('ELU', ELU);

export interface SoftmaxArgs extends LayerArgs { axis?: number }

/** Softmax over `axis` (the last by default). */
export class Softmax extends Layer {
  static readonly className = 'Softmax';
  readonly axis: number;
  constructor(axis?: number, args?: SoftmaxArgs);
  constructor(args?: SoftmaxArgs);
  constructor(...a: unknown[]) {
    const o = layerOptions(positional(a, ['axis']), ['axis'], 'Softmax');
    super(o);
    const ax = Array.isArray(o.axis) && o.axis.length === 1 ? o.axis[0] : o.axis ?? -1;
    if (!Number.isInteger(ax)) throw new RangeError(`convnet: Softmax ${this.name}: axis must be one integer, got ${JSON.stringify(o.axis)}`);
    this.axis = ax as number;
  }
  call(x: Tensor): Tensor { return softmax(x, this.axis); }
  getConfig(): Record<string, unknown> { return { ...super.getConfig(), axis: this.axis }; }
}
registerLayer('Softmax', Softmax);
