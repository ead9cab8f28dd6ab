/** Dropout: during training, zeroes a fraction `rate` of the inputs and scales the rest by 1/(1-rate); identity at inference. */
import { Rng, rngFor, type Tensor } from '../tensor/index.js';
import { dropout } from '../ops/index.js';
import { Layer, layerOptions, positional, registerLayer, type LayerArgs } from './layer.js';
import { checkNumber } from './config.js';

export interface DropoutArgs extends LayerArgs { rate?: number; seed?: number | null; noiseShape?: null }

export class Dropout extends Layer {
  static readonly className = 'Dropout';
  readonly rate: number;
  readonly seed: number | null;
  private readonly rng: Rng;
  constructor(rate: number, args?: DropoutArgs);
  constructor(args: DropoutArgs);
  constructor(...a: unknown[]) {
    const o = layerOptions(positional(a, ['rate']), ['rate', 'seed', 'noiseShape'], 'Dropout');
    super(o);
    this.rate = checkNumber(o.rate, 'rate', `Dropout ${this.name}`, 0, 1);
    if (this.rate === 1) throw new RangeError(`convnet: Dropout ${this.name}: rate must be below 1`);
    if (o.noiseShape != null) throw new RangeError(`convnet: Dropout ${this.name}: noiseShape is not supported`);
    this.seed = (o.seed as number | null | undefined) ?? null;
    this.rng = rngFor(this.seed);
  }
  call(x: Tensor, opts: { training: boolean }): Tensor {
    return opts.training && this.rate > 0 ? dropout(x, this.rate, this.rng) : x;
  }
  getConfig(): Record<string, unknown> { return { ...super.getConfig(), rate: this.rate, seed: this.seed, noise_shape: null }; }
}
registerLayer('Dropout', Dropout);
