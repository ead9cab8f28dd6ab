/** Rescaling: x · scale + offset (e.g. `new Rescaling(1 / 255)`). */
import type { Tensor } from '../tensor/index.js';
import { add, mul } from '../ops/index.js';
import { Layer, layerOptions, positional, registerLayer, type LayerArgs } from './layer.js';
import { checkNumber } from './config.js';

export interface RescalingArgs extends LayerArgs { scale?: number; offset?: number }

export class Rescaling extends Layer {
  static readonly className = 'Rescaling';
  readonly scale: number; readonly offset: number;
  constructor(scale: number, offset?: number, args?: LayerArgs);
  constructor(args: RescalingArgs);
  constructor(...a: unknown[]) {
    const o = layerOptions(positional(a, ['scale', 'offset']), ['scale', 'offset'], 'Rescaling');
    super(o);
    this.scale = checkNumber(o.scale, 'scale', `Rescaling ${this.name}`);
    this.offset = checkNumber(o.offset ?? 0, 'offset', `Rescaling ${this.name}`);
  }
  call(x: Tensor): Tensor {
    const y = this.scale === 1 ? x : mul(x, this.scale);
    return this.offset === 0 ? y : add(y, this.offset);
  }
  getConfig(): Record<string, unknown> { return { ...super.getConfig(), scale: this.scale, offset: this.offset }; }
}
registerLayer('Rescaling', Rescaling);
