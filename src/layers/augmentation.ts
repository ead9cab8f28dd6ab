/**
 * Random image augmentation layers (Keras's RandomFlip, RandomRotation, RandomZoom,
 * RandomTranslation): active only in training, identity at inference. Each draws one transform
 * per image from its own seeded generator and resamples with Keras's fill modes
 * ('reflect' by default) and bilinear or nearest interpolation.
 *
 * They transform the input images and pass no gradient back: put them first in the model, as Keras
 * users do.
 */
import { Tensor, empty, Rng, rngFor } from '../tensor/index.js';
import { Layer, layerOptions, positional, registerLayer, type LayerArgs } from './layer.js';
import { oneOf, checkNumber } from './config.js';

type FillMode = 'reflect' | 'wrap' | 'constant' | 'nearest';
type Interpolation = 'bilinear' | 'nearest';

/** Maps a coordinate outside [0, len) back inside following the fill mode (TensorFlow's map_coord); -1 means "fill value". */
function mapCoord(c: number, len: number, mode: FillMode): number {
  if (c >= 0 && c <= len - 1) return c;
  if (mode === 'constant') return -1;
  if (mode === 'nearest') return Math.min(Math.max(c, 0), len - 1);
  if (mode === 'wrap') {
    if (len <= 1) return 0;
    const sz = len - 1;
    if (c < 0) c += sz * (Math.trunc(-c / sz) + 1);
    else c -= sz * Math.trunc(c / sz);
    return Math.min(Math.max(c, 0), len - 1);
  }
  // reflect: (d c b a | a b c d | d c b a)
  if (len <= 1) return 0;
  const sz2 = 2 * len;
  if (c < 0) {
    if (c < -sz2) c = sz2 * Math.trunc(-c / sz2) + c;
    c = c < -len ? c + sz2 : -c - 1;
  } else {
    c -= sz2 * Math.trunc(c / sz2);
    if (c >= len) c = sz2 - c - 1;
  }
  return Math.min(Math.max(c, 0), len - 1);
}

/**
 * Resamples image `n` of x into out with the projective transform [a0 a1 a2 b0 b1 b2]:
 * output (x, y) reads input (a0 x + a1 y + a2, b0 x + b1 y + b2).
 */
function affine(src: Float32Array, dst: Float32Array, n: number, H: number, W: number, C: number, t: number[],
  mode: FillMode, interp: Interpolation, fillValue: number): void {
  const base = n * H * W * C;
  const px = (yy: number, xx: number, c: number): number => {
    const my = mapCoord(yy, H, mode), mx = mapCoord(xx, W, mode);
    if (my < 0 || mx < 0) return fillValue;
    return src[base + (Math.round(my) * W + Math.round(mx)) * C + c];
  };
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const ix = t[0] * x + t[1] * y + t[2];
      const iy = t[3] * x + t[4] * y + t[5];
      const o = base + (y * W + x) * C;
      if (interp === 'nearest') {
        const ry = Math.round(iy), rx = Math.round(ix);
        for (let c = 0; c < C; c++) dst[o + c] = px(ry, rx, c);
      } else {
        // Map the sample point first, then interpolate between its integer neighbours (as TensorFlow does).
        const my = mapCoord(iy, H, mode), mx = mapCoord(ix, W, mode);
        if (my < 0 || mx < 0) { for (let c = 0; c < C; c++) dst[o + c] = fillValue; continue; }
        const y0 = Math.floor(my), x0 = Math.floor(mx);
        const y1 = y0 + 1, x1 = x0 + 1;
        const wy = my - y0, wx = mx - x0;
        for (let c = 0; c < C; c++) {
          const v00 = px(y0, x0, c), v01 = px(y0, x1, c), v10 = px(y1, x0, c), v11 = px(y1, x1, c);
          dst[o + c] = (1 - wy) * ((1 - wx) * v00 + wx * v01) + wy * ((1 - wx) * v10 + wx * v11);
        }
      }
    }
  }
}

function rangeOf(f: unknown, what: string, where: string, sym: boolean): [number, number] {
  if (typeof f === 'number') {
    checkNumber(f, what, where, -1, 1);
    return sym ? [-Math.abs(f), Math.abs(f)] : [-f, f];
  }
  if (Array.isArray(f) && f.length === 2) {
    const a = checkNumber(f[0], what, where, -1, 1), b = checkNumber(f[1], what, where, -1, 1);
    return [Math.min(a, b), Math.max(a, b)];
  }
  throw new RangeError(`convnet: ${where}: ${what} must be a number or a pair of numbers in [-1, 1], got ${JSON.stringify(f)}`);
}

abstract class RandomTransform extends Layer {
  readonly seed: number | null;
  readonly fillMode: FillMode;
  readonly interpolation: Interpolation;
  readonly fillValue: number;
  protected readonly rng: Rng;
  constructor(o: Record<string, unknown>) {
    super(o);
    const w = `${this.className} ${this.name}`;
    this.seed = (o.seed as number | null | undefined) ?? null;
    this.rng = rngFor(this.seed);
    this.fillMode = oneOf(o.fillMode ?? 'reflect', ['reflect', 'wrap', 'constant', 'nearest'] as const, 'fillMode', w);
    this.interpolation = oneOf(o.interpolation ?? 'bilinear', ['bilinear', 'nearest'] as const, 'interpolation', w);
    this.fillValue = checkNumber(o.fillValue ?? 0, 'fillValue', w);
  }
  /** The transform for one image of size H x W. */
  protected abstract draw(H: number, W: number): number[];
  call(x: Tensor, opts: { training: boolean }): Tensor {
    if (!opts.training) return x;
    if (x.rank !== 4) throw new RangeError(`convnet: ${this.className} ${this.name} expects [batch, height, width, channels] images`);
    const [N, H, W, C] = x.shape;
    const y = empty(x.shape);
    const src = x.f32(), dst = y.f32();
    for (let n = 0; n < N; n++) affine(src, dst, n, H, W, C, this.draw(H, W), this.fillMode, this.interpolation, this.fillValue);
    return y;
  }
}

const FILL_KEYS = ['seed', 'fillMode', 'interpolation', 'fillValue', 'dataFormat', 'valueRange'];

/** Flips each image left-right and/or top-bottom with probability 1/2. */
export class RandomFlip extends Layer {
  static readonly className = 'RandomFlip';
  readonly mode: 'horizontal' | 'vertical' | 'horizontal_and_vertical';
  readonly seed: number | null;
  private readonly rng: Rng;
  constructor(mode?: 'horizontal' | 'vertical' | 'horizontal_and_vertical', args?: LayerArgs & { seed?: number | null });
  constructor(args?: LayerArgs & { mode?: string; seed?: number | null });
  constructor(...a: unknown[]) {
    const o = layerOptions(positional(a, ['mode']), ['mode', 'seed', 'dataFormat', 'valueRange'], 'RandomFlip');
    super(o);
    this.mode = oneOf(o.mode ?? 'horizontal_and_vertical', ['horizontal', 'vertical', 'horizontal_and_vertical'] as const, 'mode', `RandomFlip ${this.name}`);
    this.seed = (o.seed as number | null | undefined) ?? null;
    this.rng = rngFor(this.seed);
  }
  call(x: Tensor, opts: { training: boolean }): Tensor {
    if (!opts.training) return x;
    if (x.rank !== 4) throw new RangeError(`convnet: RandomFlip ${this.name} expects [batch, height, width, channels] images`);
    const [N, H, W, C] = x.shape;
    const y = empty(x.shape);
    const src = x.f32(), dst = y.f32();
    const horiz = this.mode !== 'vertical', vert = this.mode !== 'horizontal';
    for (let n = 0; n < N; n++) {
      // Keras draws one flag per image and uses it for both directions.
      const flip = this.rng.random() <= 0.5;
      const fy = flip && vert, fx = flip && horiz;
      const base = n * H * W * C;
      for (let r = 0; r < H; r++) {
        const sr = fy ? H - 1 - r : r;
        if (!fx) { dst.set(src.subarray(base + sr * W * C, base + (sr + 1) * W * C), base + r * W * C); continue; }
        for (let c = 0; c < W; c++) {
          const s = base + (sr * W + (W - 1 - c)) * C, d = base + (r * W + c) * C;
          for (let k = 0; k < C; k++) dst[d + k] = src[s + k];
        }
      }
    }
    return y;
  }
  getConfig(): Record<string, unknown> { return { ...super.getConfig(), seed: this.seed, mode: this.mode, data_format: 'channels_last' }; }
}

/** Rotates each image by a random angle in factor · 2π (factor 0.1 -> ±36°). */
export class RandomRotation extends RandomTransform {
  static readonly className = 'RandomRotation';
  readonly factor: number | [number, number];
  private readonly range: [number, number];
  constructor(factor: number | [number, number], args?: LayerArgs & Record<string, unknown>);
  constructor(args: LayerArgs & { factor: number | [number, number] } & Record<string, unknown>);
  constructor(...a: unknown[]) {
    const o = layerOptions(positional(a, ['factor']), ['factor', ...FILL_KEYS], 'RandomRotation');
    super(o);
    this.factor = o.factor as number | [number, number];
    this.range = rangeOf(this.factor, 'factor', `RandomRotation ${this.name}`, true);
  }
  protected draw(H: number, W: number): number[] {
    const angle = this.rng.uniform(this.range[0], this.range[1]) * 2 * Math.PI;
    const cos = Math.cos(angle), sin = Math.sin(angle);
    const xo = ((W - 1) - (cos * (W - 1) - sin * (H - 1))) / 2;
    const yo = ((H - 1) - (sin * (W - 1) + cos * (H - 1))) / 2;
    return [cos, -sin, xo, sin, cos, yo];
  }
  getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), factor: this.factor, data_format: 'channels_last', fill_mode: this.fillMode, fill_value: this.fillValue, interpolation: this.interpolation, seed: this.seed };
  }
}

/** Zooms each image in or out by a random factor (positive: zoom out; negative: zoom in). */
export class RandomZoom extends RandomTransform {
  static readonly className = 'RandomZoom';
  readonly heightFactor: number | [number, number];
  readonly widthFactor: number | [number, number] | null;
  private readonly hr: [number, number];
  private readonly wr: [number, number] | null;
  constructor(heightFactor: number | [number, number], widthFactor?: number | [number, number] | null, args?: LayerArgs & Record<string, unknown>);
  constructor(args: LayerArgs & { heightFactor: number | [number, number] } & Record<string, unknown>);
  constructor(...a: unknown[]) {
    const o = layerOptions(positional(a, ['heightFactor', 'widthFactor']), ['heightFactor', 'widthFactor', ...FILL_KEYS], 'RandomZoom');
    super(o);
    const w = `RandomZoom ${this.name}`;
    this.heightFactor = o.heightFactor as number;
    this.widthFactor = (o.widthFactor as number | null | undefined) ?? null;
    this.hr = rangeOf(this.heightFactor, 'heightFactor', w, true);
    this.wr = this.widthFactor === null ? null : rangeOf(this.widthFactor, 'widthFactor', w, true);
  }
  protected draw(H: number, W: number): number[] {
    const zy = 1 + this.rng.uniform(this.hr[0], this.hr[1]);
    const zx = this.wr ? 1 + this.rng.uniform(this.wr[0], this.wr[1]) : zy;
    return [zx, 0, ((W - 1) / 2) * (1 - zx), 0, zy, ((H - 1) / 2) * (1 - zy)];
  }
  getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), height_factor: this.heightFactor, width_factor: this.widthFactor, fill_mode: this.fillMode, interpolation: this.interpolation, seed: this.seed, fill_value: this.fillValue, data_format: 'channels_last' };
  }
}

/** Shifts each image by a random fraction of its height and width. */
export class RandomTranslation extends RandomTransform {
  static readonly className = 'RandomTranslation';
  readonly heightFactor: number | [number, number];
  readonly widthFactor: number | [number, number];
  private readonly hr: [number, number];
  private readonly wr: [number, number];
  constructor(heightFactor: number | [number, number], widthFactor: number | [number, number], args?: LayerArgs & Record<string, unknown>);
  constructor(args: LayerArgs & { heightFactor: number | [number, number]; widthFactor: number | [number, number] } & Record<string, unknown>);
  constructor(...a: unknown[]) {
    const o = layerOptions(positional(a, ['heightFactor', 'widthFactor']), ['heightFactor', 'widthFactor', ...FILL_KEYS], 'RandomTranslation');
    super(o);
    const w = `RandomTranslation ${this.name}`;
    this.heightFactor = o.heightFactor as number; this.widthFactor = o.widthFactor as number;
    this.hr = rangeOf(this.heightFactor, 'heightFactor', w, true);
    this.wr = rangeOf(this.widthFactor, 'widthFactor', w, true);
  }
  protected draw(H: number, W: number): number[] {
    const dy = this.rng.uniform(this.hr[0], this.hr[1]) * H;
    const dx = this.rng.uniform(this.wr[0], this.wr[1]) * W;
    return [1, 0, -dx, 0, 1, -dy];
  }
  getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), height_factor: this.heightFactor, width_factor: this.widthFactor, fill_mode: this.fillMode, interpolation: this.interpolation, seed: this.seed, fill_value: this.fillValue, data_format: 'channels_last' };
  }
}

registerLayer('RandomFlip', RandomFlip);
registerLayer('RandomRotation', RandomRotation);
registerLayer('RandomZoom', RandomZoom);
registerLayer('RandomTranslation', RandomTranslation);
