/** Flatten, Reshape and Permute: the axes after the batch one, rearranged. */
import type { Tensor } from '../tensor/index.js';
import { transpose } from '../ops/index.js';
import { Layer, layerOptions, positional, registerLayer, type Shape, type LayerArgs } from './layer.js';
import { oneOf } from './config.js';
import { reshapeGrad } from './util.js';

/** Flatten: [N, d1, d2, ...] -> [N, d1*d2*...] (no copy). */
export class Flatten extends Layer {
  static readonly className = 'Flatten';
  static readonly recordsBuildConfig = true;
  constructor(args?: LayerArgs & { dataFormat?: 'channels_last' }) {
    const o = layerOptions(args, ['dataFormat'], 'Flatten');
    super(o);
    if (o.dataFormat !== undefined) oneOf(o.dataFormat, ['channels_last'] as const, 'dataFormat', 'Flatten');
  }
  computeOutputShape(s: Shape): Shape {
    const rest = s.slice(1);
    return [s[0], rest.some((d) => d === null) ? null : (rest as number[]).reduce((a, b) => a * b, 1)];
  }
  call(x: Tensor): Tensor { return x.rank === 2 ? x : reshapeGrad(x, [x.shape[0], x.size / (x.shape[0] || 1)]); }
  getConfig(): Record<string, unknown> { return { ...super.getConfig(), data_format: 'channels_last' }; }
}
registerLayer('Flatten', Flatten);

export interface ReshapeArgs extends LayerArgs { targetShape?: number[] }

/**
 * Reshape: [N, ...] -> [N, ...targetShape] (no copy). One entry of `targetShape` may be -1 and is
 * inferred. `new Reshape([28, 28, 1])`.
 */
export class Reshape extends Layer {
  static readonly className = 'Reshape';
  readonly targetShape: number[];
  constructor(targetShape?: number[], args?: ReshapeArgs);
  constructor(args?: ReshapeArgs);
  constructor(...a: unknown[]) {
    const o = layerOptions(positional(a, ['targetShape']), ['targetShape'], 'Reshape');
    super(o);
    const t = o.targetShape;
    if (!Array.isArray(t) || t.some((d) => !(Number.isInteger(d) && (d > 0 || d === -1))) || t.filter((d) => d === -1).length > 1) {
      throw new RangeError(`convnet: Reshape ${this.name}: targetShape must be a list of positive integers with at most one -1, got ${JSON.stringify(t)}`);
    }
    this.targetShape = t.slice();
  }
  build(s: Shape): void { this.computeOutputShape(s); super.build(s); }
  computeOutputShape(s: Shape): Shape {
    const rest = s.slice(1);
    const known = this.targetShape.filter((d) => d !== -1).reduce((p, d) => p * d, 1);
    if (rest.some((d) => d === null)) {
      return [s[0], ...this.targetShape.map((d) => (d === -1 ? null : d))];
    }
    const size = (rest as number[]).reduce((p, d) => p * d, 1);
    const free = this.targetShape.includes(-1);
    if ((free && (known === 0 || size % known !== 0)) || (!free && size !== known)) {
      throw new RangeError(`convnet: Reshape ${this.name}: cannot reshape an input of shape ${JSON.stringify(s)} (${size} values per sample) to ${JSON.stringify(this.targetShape)}`);
    }
    return [s[0], ...this.targetShape.map((d) => (d === -1 ? size / known : d))];
  }
  call(x: Tensor): Tensor {
    const out = this.computeOutputShape([x.shape[0], ...x.shape.slice(1)]);
    return reshapeGrad(x, out as number[]);
  }
  getConfig(): Record<string, unknown> { return { ...super.getConfig(), target_shape: this.targetShape.slice() }; }
}

export interface PermuteArgs extends LayerArgs { dims?: number[] }

/** Permute: reorders the axes after the batch one; `dims` counts from 1 (`new Permute([2, 1])` swaps them). */
export class Permute extends Layer {
  static readonly className = 'Permute';
  readonly dims: number[];
  constructor(dims?: number[], args?: PermuteArgs);
  constructor(args?: PermuteArgs);
  constructor(...a: unknown[]) {
    const o = layerOptions(positional(a, ['dims']), ['dims'], 'Permute');
    super(o);
    const d = o.dims;
    if (!Array.isArray(d) || d.length === 0 || [...d].sort((p, q) => p - q).some((v, i) => v !== i + 1)) {
      throw new RangeError(`convnet: Permute ${this.name}: dims must be a permutation of 1..rank-1, got ${JSON.stringify(d)}`);
    }
    this.dims = d.slice();
  }
  build(s: Shape): void {
    if (s.length !== this.dims.length + 1) {
      throw new RangeError(`convnet: Permute ${this.name}: dims ${JSON.stringify(this.dims)} need inputs of rank ${this.dims.length + 1}, got rank ${s.length}`);
    }
    super.build(s);
  }
  computeOutputShape(s: Shape): Shape { return [s[0], ...this.dims.map((d) => s[d])]; }
  call(x: Tensor): Tensor { return transpose(x, [0, ...this.dims]); }
  getConfig(): Record<string, unknown> { return { ...super.getConfig(), dims: this.dims.slice() }; }
}
registerLayer('Reshape', Reshape);
registerLayer('Permute', Permute);
