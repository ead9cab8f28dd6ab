/**
 * ReLU as a layer with Keras's options: `new ReLU({ maxValue: 6 })` is ReLU6 (MobileNetV2).
 *
 *   f(x) = min(x, max_value)                 for x >= threshold
 *   f(x) = negative_slope * (x - threshold)  otherwise
 *
 * NaN stays NaN (NumPy's rule for max/min), whichever form is used.
 */
import type { Tensor } from '../tensor/index.js';
import { activation, minimum, mul, sub, greater, relu } from '../ops/index.js';
import { Layer, layerOptions, registerLayer, type LayerArgs } from './layer.js';
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
