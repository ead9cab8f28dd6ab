/**
 * Regularisation layers, active only in training: Dropout (zeroes a fraction `rate` of the inputs
 * and scales the rest by 1/(1-rate)), SpatialDropout2D (whole channels), GaussianNoise, GaussianDropout.
 */
import { Rng, rngFor, tensor, randomNormal, type Tensor } from '../tensor/index.js';
import { dropout, add, mul } from '../ops/index.js';
import { Layer, layerOptions, positional, registerLayer, type LayerArgs, type Shape } from './layer.js';
import { checkNumber, oneOf } from './config.js';

/** What the regularisation layers share: a `seed` (null: drawn from the global generator) and their own generator. */
abstract class RandomLayer extends Layer {
  readonly seed: number | null;
  protected readonly rng: Rng;
  constructor(o: Record<string, unknown>) {
    super(o);
    this.seed = (o.seed as number | null | undefined) ?? null;
    this.rng = rngFor(this.seed);
  }
  /** A rate in [0, 1). */
  protected rateOption(v: unknown): number {
    const w = `${this.className} ${this.name}`;
    const rate = checkNumber(v, 'rate', w, 0, 1);
    if (rate === 1) throw new RangeError(`convnet: ${w}: rate must be below 1`);
    return rate;
  }
}

export interface DropoutArgs extends LayerArgs { rate?: number; seed?: number | null; noiseShape?: null }

export class Dropout extends RandomLayer {
  static readonly className = 'Dropout';
  readonly rate: number;
  constructor(rate: number, args?: DropoutArgs);
  constructor(args: DropoutArgs);
  constructor(...a: unknown[]) {
    const o = layerOptions(positional(a, ['rate']), ['rate', 'seed', 'noiseShape'], 'Dropout');
    super(o);
    this.rate = this.rateOption(o.rate);
    if (o.noiseShape != null) throw new RangeError(`convnet: Dropout ${this.name}: noiseShape is not supported`);
  }
  call(x: Tensor, opts: { training: boolean }): Tensor {
    return opts.training && this.rate > 0 ? dropout(x, this.rate, this.rng) : x;
  }
  getConfig(): Record<string, unknown> { return { ...super.getConfig(), rate: this.rate, seed: this.seed, noise_shape: null }; }
}
registerLayer('Dropout', Dropout);

export interface GaussianNoiseArgs extends LayerArgs { stddev?: number; seed?: number | null }

/** Adds N(0, stddev²) noise during training (a regulariser); identity at inference. */
export class GaussianNoise extends RandomLayer {
  static readonly className = 'GaussianNoise';
  readonly stddev: number;
  constructor(stddev: number, args?: GaussianNoiseArgs);
  constructor(args: GaussianNoiseArgs);
  constructor(...a: unknown[]) {
    const o = layerOptions(positional(a, ['stddev']), ['stddev', 'seed'], 'GaussianNoise');
    super(o);
    this.stddev = checkNumber(o.stddev, 'stddev', `GaussianNoise ${this.name}`, 0);
  }
  call(x: Tensor, opts: { training: boolean }): Tensor {
    if (!opts.training || this.stddev === 0) return x;
    return add(x, randomNormal(x.shape, { rng: this.rng, stddev: this.stddev }));
  }
  getConfig(): Record<string, unknown> { return { ...super.getConfig(), stddev: this.stddev, seed: this.seed }; }
}
registerLayer('GaussianNoise', GaussianNoise);

export interface SpatialDropout2DArgs extends LayerArgs { rate?: number; seed?: number | null; dataFormat?: 'channels_last' }

/**
 * Dropout of whole feature maps: in training each (sample, channel) of [N, H, W, C] is zeroed
 * with probability `rate`, the rest scaled by 1/(1-rate); identity at inference.
 */
export class SpatialDropout2D extends RandomLayer {
  static readonly className = 'SpatialDropout2D';
  readonly rate: number;
  constructor(rate: number, args?: SpatialDropout2DArgs);
  constructor(args: SpatialDropout2DArgs);
  constructor(...a: unknown[]) {
    const o = layerOptions(positional(a, ['rate']), ['rate', 'seed', 'dataFormat'], 'SpatialDropout2D');
    super(o);
    const w = `SpatialDropout2D ${this.name}`;
    this.rate = this.rateOption(o.rate);
    if (o.dataFormat !== undefined && o.dataFormat !== null) oneOf(o.dataFormat, ['channels_last'] as const, 'dataFormat', w);
  }
  build(inputShape: Shape): void {
    if (inputShape.length !== 4) throw new RangeError(`convnet: SpatialDropout2D ${this.name} expects 4-D input [batch, height, width, channels], got rank ${inputShape.length}`);
    super.build(inputShape);
  }
  call(x: Tensor, opts: { training: boolean }): Tensor {
    if (!opts.training || this.rate === 0) return x;
    const [N, , , C] = x.shape;
    const keep = 1 / (1 - this.rate);
    const m = new Float32Array(N * C);
    for (let i = 0; i < m.length; i++) m[i] = this.rng.random() >= this.rate ? keep : 0;
    return mul(x, tensor(m, [N, 1, 1, C]));
  }
  /** Keras 3 writes exactly these keys (no `trainable`). */
  getConfig(): Record<string, unknown> {
    return { rate: this.rate, seed: this.seed, name: this.name, dtype: 'float32', data_format: 'channels_last' };
  }
}
registerLayer('SpatialDropout2D', SpatialDropout2D);

export interface GaussianDropoutArgs extends LayerArgs { rate?: number; seed?: number | null }

/** Multiplies by N(1, rate / (1 - rate)) noise during training; identity at inference. */
export class GaussianDropout extends RandomLayer {
  static readonly className = 'GaussianDropout';
  readonly rate: number;
  constructor(rate: number, args?: GaussianDropoutArgs);
  constructor(args: GaussianDropoutArgs);
  constructor(...a: unknown[]) {
    const o = layerOptions(positional(a, ['rate']), ['rate', 'seed'], 'GaussianDropout');
    super(o);
    this.rate = this.rateOption(o.rate);
  }
  call(x: Tensor, opts: { training: boolean }): Tensor {
    if (!opts.training || this.rate === 0) return x;
    return mul(x, randomNormal(x.shape, { rng: this.rng, mean: 1, stddev: Math.sqrt(this.rate / (1 - this.rate)) }));
  }
  getConfig(): Record<string, unknown> { return { ...super.getConfig(), rate: this.rate, seed: this.seed }; }
}
registerLayer('GaussianDropout', GaussianDropout);
