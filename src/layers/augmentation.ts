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
import { backend } from '../backend/index.js';
import type { FillMode as BackendFillMode, ImageInterpolation } from '../backend/backend.js';
import { Layer, layerOptions, positional, registerLayer, type LayerArgs } from './layer.js';
import { oneOf, checkNumber } from './config.js';

type FillMode = BackendFillMode;
type Interpolation = ImageInterpolation;

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
    const [N, H, W] = x.shape;
    const y = empty(x.shape);
    const transforms: number[][] = [];
    for (let n = 0; n < N; n++) transforms.push(this.draw(H, W));
    backend().affine2d(x, y, transforms, this.fillMode, this.interpolation, this.fillValue);
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
    const N = x.shape[0];
    const y = empty(x.shape);
    const horiz = this.mode !== 'vertical', vert = this.mode !== 'horizontal';
    // Keras draws one flag per image and uses it for both directions.
    const flags = new Uint8Array(N);
    for (let n = 0; n < N; n++) if (this.rng.random() <= 0.5) flags[n] = (vert ? 1 : 0) | (horiz ? 2 : 0);
    backend().flip2d(x, y, flags);
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
