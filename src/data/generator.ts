/**
 * ImageDataGenerator: Keras's configuration of rescaling, normalisation and random augmentation,
 * and `flowFromDirectory`, which scans a folder of class sub-folders into a DirectoryIterator.
 */
import { scope, type Tensor } from '../tensor/index.js';
import { noGrad } from '../autograd/index.js';
import { mean as meanOf, square, sub, sqrt, cast } from '../ops/index.js';
import type { NumpyRandomState } from './numpy_random.js';
import { randomTransform, applyTransform, augments, type AugmentConfig, type FillMode, type ShiftRange, type TransformParams } from './augment.js';
import { normalizeOptions } from './options.js';
// The iterator (Node: files, workers) is loaded when first used, so this module also loads in browsers.
import type { DirectoryIterator, FlowFromDirectoryOptions } from './directory_iterator.js';
import { ArrayIterator, type FlowOptions } from './array_iterator.js';

export interface ImageDataGeneratorOptions {
  /** Multiplies every value after augmentation (Keras applies it in `standardize`), e.g. 1 / 255. */
  rescale?: number | null;
  /** Fraction of each class kept apart as the 'validation' subset (the first files of each class). */
  validationSplit?: number;
  /** Degrees: rotation drawn uniformly from [-r, r]. */
  rotationRange?: number;
  /** Fraction of the width (< 1), pixels (>= 1), or a list of pixel shifts. */
  widthShiftRange?: ShiftRange;
  heightShiftRange?: ShiftRange;
  /** Degrees, counter-clockwise shear. */
  shearRange?: number;
  /** z for [1 - z, 1 + z], or [lower, upper]. */
  zoomRange?: number | [number, number];
  channelShiftRange?: number;
  horizontalFlip?: boolean;
  verticalFlip?: boolean;
  brightnessRange?: [number, number] | null;
  fillMode?: FillMode;
  cval?: number;
  /** 1 (linear, Keras's default) or 0 (nearest) for the affine augmentations. */
  interpolationOrder?: 0 | 1;
  samplewiseCenter?: boolean;
  samplewiseStdNormalization?: boolean;
  featurewiseCenter?: boolean;
  featurewiseStdNormalization?: boolean;
  /** Called on each image (float32 [h, w, c], values 0..255) after augmentation, before rescale. */
  preprocessingFunction?: ((image: Float32Array, shape: [number, number, number]) => Float32Array | void) | null;
  dataFormat?: 'channels_last';
  dtype?: 'float32';
}

const KNOWN = ['rescale', 'validationSplit', 'rotationRange', 'widthShiftRange', 'heightShiftRange', 'shearRange', 'zoomRange',
  'channelShiftRange', 'horizontalFlip', 'verticalFlip', 'brightnessRange', 'fillMode', 'cval', 'interpolationOrder',
  'samplewiseCenter', 'samplewiseStdNormalization', 'featurewiseCenter', 'featurewiseStdNormalization',
  'preprocessingFunction', 'dataFormat', 'dtype'];
const UNSUPPORTED = {
  zcaWhitening: 'ZCA whitening is not implemented',
  zcaEpsilon: 'ZCA whitening is not implemented',
};

export class ImageDataGenerator {
  readonly rescale: number | null;
  readonly validationSplit: number;
  readonly augment: AugmentConfig;
  readonly samplewiseCenter: boolean;
  readonly samplewiseStdNormalization: boolean;
  readonly featurewiseCenter: boolean;
  readonly featurewiseStdNormalization: boolean;
  readonly preprocessingFunction: ImageDataGeneratorOptions['preprocessingFunction'];
  /** Per-channel mean and std set by `fit`. */
  mean: Float32Array | null = null;
  std: Float32Array | null = null;

  /** Options in camelCase (`rescale`, `validationSplit`, `rotationRange`...) or Keras's snake_case. */
  constructor(options: ImageDataGeneratorOptions | Record<string, unknown> = {}) {
    const o = normalizeOptions<ImageDataGeneratorOptions>(options, KNOWN, 'ImageDataGenerator', UNSUPPORTED);
    if (o.dataFormat !== undefined && o.dataFormat !== 'channels_last') throw new Error(`convnet: ImageDataGenerator: only data_format 'channels_last' is supported, got '${o.dataFormat}'`);
    if (o.dtype !== undefined && o.dtype !== 'float32') throw new Error(`convnet: ImageDataGenerator: only dtype 'float32' is supported, got '${o.dtype}'`);
    this.rescale = o.rescale ?? null;
    const vs = o.validationSplit ?? 0;
    if (vs && !(vs > 0 && vs < 1)) throw new RangeError(`convnet: ImageDataGenerator: validationSplit must be strictly between 0 and 1, got ${vs}`);
    this.validationSplit = vs;
    let zoom: [number, number];
    const zr = o.zoomRange ?? 0;
    if (typeof zr === 'number') zoom = [1 - zr, 1 + zr];
    else if (Array.isArray(zr) && zr.length === 2) zoom = [zr[0], zr[1]];
    else throw new RangeError(`convnet: ImageDataGenerator: zoomRange must be a number or [lower, upper], got ${JSON.stringify(zr)}`);
    const fill = o.fillMode ?? 'nearest';
    if (!['nearest', 'constant', 'reflect', 'wrap'].includes(fill)) throw new RangeError(`convnet: ImageDataGenerator: fillMode must be one of nearest, constant, reflect, wrap; got '${fill}'`);
    const br = o.brightnessRange ?? null;
    if (br !== null && !(Array.isArray(br) && br.length === 2)) throw new RangeError(`convnet: ImageDataGenerator: brightnessRange must be [lower, upper], got ${JSON.stringify(br)}`);
    const order = o.interpolationOrder ?? 1;
    if (order !== 0 && order !== 1) throw new RangeError(`convnet: ImageDataGenerator: interpolationOrder must be 0 or 1, got ${order}`);
    this.augment = {
      rotationRange: o.rotationRange ?? 0,
      widthShiftRange: o.widthShiftRange ?? 0,
      heightShiftRange: o.heightShiftRange ?? 0,
      shearRange: o.shearRange ?? 0,
      zoomRange: zoom,
      channelShiftRange: o.channelShiftRange ?? 0,
      horizontalFlip: o.horizontalFlip ?? false,
      verticalFlip: o.verticalFlip ?? false,
      brightnessRange: br,
      fillMode: fill,
      cval: o.cval ?? 0,
      interpolationOrder: order,
    };
    this.samplewiseCenter = o.samplewiseCenter ?? false;
    this.samplewiseStdNormalization = o.samplewiseStdNormalization ?? false;
    this.featurewiseCenter = o.featurewiseCenter ?? false;
    this.featurewiseStdNormalization = o.featurewiseStdNormalization ?? false;
    this.preprocessingFunction = o.preprocessingFunction ?? null;
  }

  /** True when some augmentation is configured. */
  get augments(): boolean { return augments(this.augment); }

  /** Keras's `get_random_transform` for an image of height x width, drawing from `rs`. */
  getRandomTransform(rs: NumpyRandomState, height: number, width: number): TransformParams {
    return randomTransform(this.augment, rs, height, width);
  }

  /** Keras's `apply_transform` on one image [h, w, c]. */
  applyTransform(image: ArrayLike<number>, shape: [number, number, number], params: TransformParams): Float32Array {
    return applyTransform(image, shape[0], shape[1], shape[2], params, this.augment);
  }

  /** Keras's `standardize`, in place on one image [h, w, c]: preprocessing function, rescale, normalisation. */
  standardize(x: Float32Array, shape: [number, number, number]): Float32Array {
    if (this.preprocessingFunction) {
      const r = this.preprocessingFunction(x, shape);
      if (r) {
        if (r.length !== x.length) throw new Error(`convnet: preprocessingFunction returned ${r.length} values for an image of ${x.length}`);
        x = r;
      }
    }
    if (this.rescale) {
      const s = Math.fround(this.rescale);
      for (let i = 0; i < x.length; i++) x[i] *= s;
    }
    if (this.samplewiseCenter || this.samplewiseStdNormalization) {
      let m = 0;
      for (const v of x) m += v;
      m /= x.length;
      if (this.samplewiseCenter) for (let i = 0; i < x.length; i++) x[i] -= m;
      if (this.samplewiseStdNormalization) {
        let mm = 0;
        for (const v of x) mm += v;
        mm /= x.length;
        let s = 0;
        for (const v of x) s += (v - mm) * (v - mm);
        const sd = Math.sqrt(s / x.length) + 1e-6;
        for (let i = 0; i < x.length; i++) x[i] /= sd;
      }
    }
    const c = shape[2];
    this.warnUnfitted();
    if (this.featurewiseCenter && this.mean) for (let i = 0; i < x.length; i++) x[i] -= this.mean[i % c];
    if (this.featurewiseStdNormalization && this.std) for (let i = 0; i < x.length; i++) x[i] /= this.std[i % c] + 1e-6;
    return x;
  }

  /** Warns once when feature-wise normalisation is set but `fit` has not given its statistics. */
  warnUnfitted(): void {
    if (this.featurewiseCenter && !this.mean) warnOnce('featurewiseCenter is set but fit() was not called; no centering applied');
    if (this.featurewiseStdNormalization && !this.std) warnOnce('featurewiseStdNormalization is set but fit() was not called; no normalisation applied');
  }

  /**
   * Computes the per-channel mean and std used by featurewiseCenter / featurewiseStdNormalization from
   * x [N, H, W, C]. Synchronous (Keras's API) when x is readable on the host (reference, wasm, native);
   * on a backend that keeps tensors off the host (webgpu) the statistics are reduced there and read
   * back asynchronously: the call returns a Promise then, so `await gen.fit(x)` works everywhere.
   */
  fit(x: Tensor): void | Promise<void> {
    if (x.shape.length !== 4) throw new RangeError(`convnet: ImageDataGenerator.fit expects [N, H, W, C] images, got shape [${x.shape.join(', ')}]`);
    if (x.store.storage !== 'heap') return this.fitAsync(x);
    const c = x.shape[3];
    const v = x.dataSync() as Float32Array;
    const n = v.length / c;
    const mean = new Float64Array(c), sq = new Float64Array(c);
    for (let i = 0; i < v.length; i++) mean[i % c] += v[i];
    for (let k = 0; k < c; k++) mean[k] /= n;
    for (let i = 0; i < v.length; i++) { const d = v[i] - mean[i % c]; sq[i % c] += d * d; }
    this.mean = this.featurewiseCenter ? Float32Array.from(mean) : null;
    this.std = this.featurewiseStdNormalization ? Float32Array.from(sq, (s) => Math.sqrt(s / n)) : null;
  }

  /**
   * `fit` computed in the engine on any backend (per-channel mean, then the root of the mean squared
   * deviation, both float32 reductions), reading back only the 2 x C statistics, asynchronously.
   */
  async fitAsync(x: Tensor): Promise<void> {
    if (x.shape.length !== 4) throw new RangeError(`convnet: ImageDataGenerator.fit expects [N, H, W, C] images, got shape [${x.shape.join(', ')}]`);
    if (x.dtype === 'float64') throw new TypeError('convnet: ImageDataGenerator.fit expects float32, uint8 or int32 images, got float64 (cast them first)');
    const [m, s] = noGrad(() => scope(() => {
      const xf = x.dtype === 'float32' ? x : cast(x, 'float32');
      const mu = meanOf(xf, [0, 1, 2]);
      return [mu, sqrt(meanOf(square(sub(xf, mu)), [0, 1, 2]))];
    }));
    try {
      const [mv, sv] = await Promise.all([m.data(), s.data()]);
      this.mean = this.featurewiseCenter ? Float32Array.from(mv) : null;
      this.std = this.featurewiseStdNormalization ? Float32Array.from(sv) : null;
    } finally {
      m.dispose(); s.dispose();
    }
  }

  /**
   * Scans `directory` (one sub-folder per class) and returns an iterator over batches of its images,
   * like Keras's `flow_from_directory`. Prints "Found N images belonging to K classes."
   */
  async flowFromDirectory(directory: string, options: FlowFromDirectoryOptions | Record<string, unknown> = {}): Promise<DirectoryIterator> {
    const { DirectoryIterator } = await import('./directory_iterator.js');
    return DirectoryIterator.create(directory, this, options);
  }

  /**
   * Keras's `flow(x, y)`: batches of the images x [n, h, w, c] (uint8 or float32 tensors) and the rows
   * of y, shuffled and augmented as Keras does for a seed. With augmentOn 'device' (the default on webgpu)
   * the batch is gathered, converted and augmented in the engine.
   */
  flow(x: Tensor, y: Tensor | null = null, options: FlowOptions | Record<string, unknown> = {}): ArrayIterator {
    return new ArrayIterator(x, y, this, options);
  }

  /** snake_case alias of flowFromDirectory. */
  flow_from_directory(directory: string, options: FlowFromDirectoryOptions | Record<string, unknown> = {}): Promise<DirectoryIterator> {
    return this.flowFromDirectory(directory, options);
  }
}

const warned = new Set<string>();
function warnOnce(msg: string): void { if (!warned.has(msg)) { warned.add(msg); console.warn(`convnet: ImageDataGenerator: ${msg}`); } }
