/**
 * Spatial reshaping of [N, H, W, C] images: ZeroPadding2D, Cropping2D, UpSampling2D (nearest).
 *
 * Padding and cropping are one operation, a shift into a zero canvas of another size
 * (`out[n, i, j, c] = x[n, i - top, j - left, c]`, zero outside x), whose gradient is the
 * opposite shift. Nearest up-sampling repeats each pixel; its gradient sums each block.
 */
import { Tensor, empty, fmtShape } from '../tensor/index.js';
import { backend } from '../backend/index.js';
import { record } from '../autograd/index.js';
import { Layer, layerOptions, positional, registerLayer, type Shape, type LayerArgs } from './layer.js';
import { intPair, oneOf } from './config.js';

/** [[top, bottom], [left, right]]. */
export type Margins = [[number, number], [number, number]];

/** Keras's forms: `1`, `[h, w]` (symmetric) or `[[top, bottom], [left, right]]`; non-negative integers. */
export function margins(v: unknown, what: string, where: string): Margins {
  const nat = (d: unknown): d is number => Number.isInteger(d) && (d as number) >= 0;
  const bad = (): never => {
    throw new RangeError(`convnet: ${where}: ${what} must be a non-negative integer, a pair [height, width] or [[top, bottom], [left, right]], got ${JSON.stringify(v)}`);
  };
  if (nat(v)) return [[v, v], [v, v]];
  if (!Array.isArray(v) || v.length !== 2) return bad();
  if (nat(v[0]) && nat(v[1])) return [[v[0], v[0]], [v[1], v[1]]];
  const [h, w] = v as unknown[];
  if (Array.isArray(h) && Array.isArray(w) && h.length === 2 && w.length === 2 && [...h, ...w].every(nat)) {
    return [[h[0], h[1]], [w[0], w[1]]];
  }
  return bad();
}

function shiftRaw(x: Tensor, outH: number, outW: number, top: number, left: number): Tensor {
  const [n, , , c] = x.shape;
  const y = empty([n, outH, outW, c]);
  backend().shift2d(x, y, top, left);
  return y;
}

/** x [N, H, W, C] placed at (top, left) in a zero [N, outH, outW, C] canvas (negative offsets crop). Differentiable. */
export function shift2d(x: Tensor, outH: number, outW: number, top: number, left: number): Tensor {
  if (x.rank !== 4) throw new RangeError(`convnet: shift2d: expected [batch, height, width, channels], got ${fmtShape(x.shape)}`);
  const y = shiftRaw(x, outH, outW, top, left);
  const [, h, w] = x.shape;
  record('shift2d', [x], y, (dy) => [shiftRaw(dy, h, w, -top, -left)]);
  return y;
}

function upsampleRaw(x: Tensor, sh: number, sw: number): Tensor {
  const [n, h, w, c] = x.shape;
  const y = empty([n, h * sh, w * sw, c]);
  backend().upsample2d(x, y, sh, sw);
  return y;
}

function upsampleGradRaw(dy: Tensor, h: number, w: number, sh: number, sw: number): Tensor {
  const [n, , , c] = dy.shape;
  const dx = empty([n, h, w, c]);
  backend().upsample2dGrad(dy, dx, sh, sw);
  return dx;
}

/** Nearest-neighbour up-sampling of [N, H, W, C] by integer factors. Differentiable. */
export function upsampleNearest2d(x: Tensor, sh: number, sw: number): Tensor {
  if (x.rank !== 4) throw new RangeError(`convnet: upsampleNearest2d: expected [batch, height, width, channels], got ${fmtShape(x.shape)}`);
  const y = upsampleRaw(x, sh, sw);
  const [, h, w] = x.shape;
  record('upsample_nearest2d', [x], y, (dy) => [upsampleGradRaw(dy, h, w, sh, sw)]);
  return y;
}

function check4d(layer: Layer, s: Shape): void {
  if (s.length !== 4) throw new RangeError(`convnet: ${layer.className} ${layer.name} expects 4-D input [batch, height, width, channels], got rank ${s.length}`);
}

const add = (d: number | null, k: number): number | null => (d === null ? null : d + k);

export interface ZeroPadding2DArgs extends LayerArgs {
  padding?: number | [number, number] | [[number, number], [number, number]];
  dataFormat?: 'channels_last';
}

/** Adds rows and columns of zeros around each image. `new ZeroPadding2D(2)`, `new ZeroPadding2D([[1, 0], [1, 0]])`. */
export class ZeroPadding2D extends Layer {
  static readonly className = 'ZeroPadding2D';
  readonly padding: Margins;
  constructor(padding?: ZeroPadding2DArgs['padding'], args?: ZeroPadding2DArgs);
  constructor(args?: ZeroPadding2DArgs);
  constructor(...a: unknown[]) {
    const o = layerOptions(positional(a, ['padding']), ['padding', 'dataFormat'], 'ZeroPadding2D');
    super(o);
    if (o.dataFormat !== undefined) oneOf(o.dataFormat, ['channels_last'] as const, 'dataFormat', 'ZeroPadding2D');
    this.padding = margins(o.padding ?? 1, 'padding', `ZeroPadding2D ${this.name}`);
  }
  build(s: Shape): void { check4d(this, s); super.build(s); }
  computeOutputShape(s: Shape): Shape {
    const [[t, b], [l, r]] = this.padding;
    return [s[0], add(s[1], t + b), add(s[2], l + r), s[3]];
  }
  call(x: Tensor): Tensor {
    const [[t, b], [l, r]] = this.padding;
    return shift2d(x, x.shape[1] + t + b, x.shape[2] + l + r, t, l);
  }
  getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), padding: this.padding.map((p) => [...p]), data_format: 'channels_last' };
  }
}

export interface Cropping2DArgs extends LayerArgs {
  cropping?: number | [number, number] | [[number, number], [number, number]];
  dataFormat?: 'channels_last';
}

/** Removes rows and columns at the edges of each image. `new Cropping2D([[2, 2], [4, 4]])`. */
export class Cropping2D extends Layer {
  static readonly className = 'Cropping2D';
  readonly cropping: Margins;
  constructor(cropping?: Cropping2DArgs['cropping'], args?: Cropping2DArgs);
  constructor(args?: Cropping2DArgs);
  constructor(...a: unknown[]) {
    const o = layerOptions(positional(a, ['cropping']), ['cropping', 'dataFormat'], 'Cropping2D');
    super(o);
    if (o.dataFormat !== undefined) oneOf(o.dataFormat, ['channels_last'] as const, 'dataFormat', 'Cropping2D');
    this.cropping = margins(o.cropping ?? 0, 'cropping', `Cropping2D ${this.name}`);
  }
  build(s: Shape): void { check4d(this, s); this.computeOutputShape(s); super.build(s); }
  computeOutputShape(s: Shape): Shape {
    const [[t, b], [l, r]] = this.cropping;
    const h = add(s[1], -t - b), w = add(s[2], -l - r);
    if ((h !== null && h <= 0) || (w !== null && w <= 0)) {
      throw new RangeError(`convnet: Cropping2D ${this.name}: cropping ${JSON.stringify(this.cropping)} leaves nothing of the ${s[1]}x${s[2]} input`);
    }
    return [s[0], h, w, s[3]];
  }
  call(x: Tensor): Tensor {
    const [[t, b], [l, r]] = this.cropping;
    return shift2d(x, x.shape[1] - t - b, x.shape[2] - l - r, -t, -l);
  }
  getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), cropping: this.cropping.map((p) => [...p]), data_format: 'channels_last' };
  }
}

export interface UpSampling2DArgs extends LayerArgs {
  size?: number | [number, number];
  interpolation?: 'nearest';
  dataFormat?: 'channels_last';
}

/** Repeats each pixel `size` times along height and width (nearest neighbour). `new UpSampling2D(2)`. */
export class UpSampling2D extends Layer {
  static readonly className = 'UpSampling2D';
  readonly size: [number, number];
  constructor(size?: number | [number, number], args?: UpSampling2DArgs);
  constructor(args?: UpSampling2DArgs);
  constructor(...a: unknown[]) {
    const o = layerOptions(positional(a, ['size']), ['size', 'interpolation', 'dataFormat'], 'UpSampling2D');
    super(o);
    const w = `UpSampling2D ${this.name}`;
    if (o.dataFormat !== undefined) oneOf(o.dataFormat, ['channels_last'] as const, 'dataFormat', w);
    oneOf(o.interpolation ?? 'nearest', ['nearest'] as const, 'interpolation', w);
    this.size = intPair(o.size ?? 2, 'size', w);
  }
  build(s: Shape): void { check4d(this, s); super.build(s); }
  computeOutputShape(s: Shape): Shape {
    const m = (d: number | null, k: number): number | null => (d === null ? null : d * k);
    return [s[0], m(s[1], this.size[0]), m(s[2], this.size[1]), s[3]];
  }
  call(x: Tensor): Tensor { return upsampleNearest2d(x, this.size[0], this.size[1]); }
  getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), size: [...this.size], data_format: 'channels_last', interpolation: 'nearest' };
  }
}

registerLayer('ZeroPadding2D', ZeroPadding2D);
registerLayer('Cropping2D', Cropping2D);
registerLayer('UpSampling2D', UpSampling2D);
