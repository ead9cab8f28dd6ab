/**
 * Weight initializers with Keras's names, defaults and formulas. Draws come from the seeded
 * generator: the global one (`setSeed`) unless the initializer has its own `seed`.
 */
import { Tensor, tensor, rngFor, type Rng } from '../tensor/index.js';
import { normalizeOptions, toSnakeCase, type SerializedObject } from './config.js';

/** Keras `compute_fans`: Dense [in, out]; Conv [kh, kw, in, out] -> fan_in = kh*kw*in. */
export function computeFans(shape: readonly number[]): [number, number] {
  if (shape.length === 0) return [1, 1];
  if (shape.length === 1) return [shape[0], shape[0]];
  if (shape.length === 2) return [shape[0], shape[1]];
  let receptive = 1;
  for (const d of shape.slice(0, -2)) receptive *= d;
  return [shape[shape.length - 2] * receptive, shape[shape.length - 1] * receptive];
}

export abstract class Initializer {
  /** Keras class name, e.g. 'GlorotUniform'. */
  abstract readonly className: string;
  /** A new float32 tensor of `shape`. */
  abstract call(shape: readonly number[]): Tensor;
  getConfig(): Record<string, unknown> { return {}; }
  /** The `{ module, class_name, config, registered_name }` dict Keras writes. */
  serialize(): SerializedObject {
    return { module: 'keras.initializers', class_name: this.className, config: this.getConfig(), registered_name: null };
  }
}

function fill(shape: readonly number[], f: (r: Rng) => number, seed: number | null): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const a = new Float32Array(n);
  const r = rngFor(seed);
  for (let i = 0; i < n; i++) a[i] = f(r);
  return tensor(a, shape);
}

export class Zeros extends Initializer {
  readonly className = 'Zeros';
  call(shape: readonly number[]): Tensor { return tensor(new Float32Array(shape.reduce((a, b) => a * b, 1)), shape); }
}

export class Ones extends Initializer {
  readonly className = 'Ones';
  call(shape: readonly number[]): Tensor { return tensor(new Float32Array(shape.reduce((a, b) => a * b, 1)).fill(1), shape); }
}

export class Constant extends Initializer {
  readonly className = 'Constant';
  readonly value: number;
  constructor(args: { value?: number } | number = {}) {
    super();
    this.value = typeof args === 'number' ? args : normalizeOptions(args, ['value'], 'Constant').value as number ?? 0;
  }
  call(shape: readonly number[]): Tensor { return tensor(new Float32Array(shape.reduce((a, b) => a * b, 1)).fill(this.value), shape); }
  getConfig(): Record<string, unknown> { return { value: this.value }; }
}

export interface RandomNormalArgs { mean?: number; stddev?: number; seed?: number | null }
export class RandomNormal extends Initializer {
  readonly className: string = 'RandomNormal';
  readonly mean: number; readonly stddev: number; readonly seed: number | null;
  constructor(args: RandomNormalArgs = {}) {
    super();
    const o = normalizeOptions(args as Record<string, unknown>, ['mean', 'stddev', 'seed'], this.constructor.name);
    this.mean = (o.mean as number) ?? 0; this.stddev = (o.stddev as number) ?? 0.05; this.seed = (o.seed as number) ?? null;
  }
  call(shape: readonly number[]): Tensor { return fill(shape, (r) => this.mean + this.stddev * r.normal(), this.seed); }
  getConfig(): Record<string, unknown> { return { mean: this.mean, stddev: this.stddev, seed: this.seed }; }
}

export class TruncatedNormal extends RandomNormal {
  readonly className = 'TruncatedNormal';
  call(shape: readonly number[]): Tensor { return fill(shape, (r) => this.mean + this.stddev * r.truncatedNormal(), this.seed); }
}

export interface RandomUniformArgs { minval?: number; maxval?: number; seed?: number | null }
export class RandomUniform extends Initializer {
  readonly className = 'RandomUniform';
  readonly minval: number; readonly maxval: number; readonly seed: number | null;
  constructor(args: RandomUniformArgs = {}) {
    super();
    const o = normalizeOptions(args as Record<string, unknown>, ['minval', 'maxval', 'seed'], 'RandomUniform');
    this.minval = (o.minval as number) ?? -0.05; this.maxval = (o.maxval as number) ?? 0.05; this.seed = (o.seed as number) ?? null;
  }
  call(shape: readonly number[]): Tensor { return fill(shape, (r) => r.uniform(this.minval, this.maxval), this.seed); }
  getConfig(): Record<string, unknown> { return { minval: this.minval, maxval: this.maxval, seed: this.seed }; }
}

export type FanMode = 'fan_in' | 'fan_out' | 'fan_avg';
export type Distribution = 'truncated_normal' | 'untruncated_normal' | 'uniform';
export interface VarianceScalingArgs { scale?: number; mode?: FanMode; distribution?: Distribution; seed?: number | null }

/**
 * Keras's VarianceScaling: n = fan_in, fan_out or their mean; scale' = scale / max(1, n);
 * uniform in ±sqrt(3 scale'), or normal with stddev sqrt(scale') (truncated at 2σ and rescaled by 1/0.8796).
 */
export class VarianceScaling extends Initializer {
  readonly className: string = 'VarianceScaling';
  readonly scale: number; readonly mode: FanMode; readonly distribution: Distribution; readonly seed: number | null;
  constructor(args: VarianceScalingArgs = {}) {
    super();
    const o = normalizeOptions(args as Record<string, unknown>, ['scale', 'mode', 'distribution', 'seed'], 'VarianceScaling');
    this.scale = (o.scale as number) ?? 1; this.mode = (o.mode as FanMode) ?? 'fan_in';
    // 'normal' is TF 1.x's and TF.js's name for the truncated normal; Keras 2 and 3 map it the same way.
    const dist = (o.distribution as string) ?? 'truncated_normal';
    this.distribution = (dist === 'normal' ? 'truncated_normal' : dist) as Distribution; this.seed = (o.seed as number) ?? null;
    if (!['fan_in', 'fan_out', 'fan_avg'].includes(this.mode)) throw new RangeError(`convnet: VarianceScaling: mode must be 'fan_in', 'fan_out' or 'fan_avg', got ${JSON.stringify(this.mode)}`);
    if (!['truncated_normal', 'untruncated_normal', 'uniform'].includes(this.distribution)) {
      throw new RangeError(`convnet: VarianceScaling: distribution must be 'truncated_normal', 'untruncated_normal', 'uniform' or 'normal', got ${JSON.stringify(dist)}`);
    }
  }
  call(shape: readonly number[]): Tensor {
    const [fanIn, fanOut] = computeFans(shape);
    const n = this.mode === 'fan_in' ? fanIn : this.mode === 'fan_out' ? fanOut : (fanIn + fanOut) / 2;
    const scale = this.scale / Math.max(1, n);
    if (this.distribution === 'uniform') {
      const limit = Math.sqrt(3 * scale);
      return fill(shape, (r) => r.uniform(-limit, limit), this.seed);
    }
    if (this.distribution === 'truncated_normal') {
      const std = Math.sqrt(scale) / 0.87962566103423978;
      return fill(shape, (r) => std * r.truncatedNormal(), this.seed);
    }
    const std = Math.sqrt(scale);
    return fill(shape, (r) => std * r.normal(), this.seed);
  }
  getConfig(): Record<string, unknown> {
    return { scale: this.scale, mode: this.mode, distribution: this.distribution, seed: this.seed };
  }
}

function preset(className: string, scale: number, mode: FanMode, distribution: Distribution) {
  return class extends VarianceScaling {
    readonly className = className;
    constructor(args: { seed?: number | null } = {}) {
      const o = normalizeOptions(args as Record<string, unknown>, ['seed'], className);
      super({ scale, mode, distribution, seed: (o.seed as number) ?? null });
    }
    getConfig(): Record<string, unknown> { return { seed: this.seed }; }
  };
}

/** Keras's default kernel initializer: uniform in ±sqrt(6 / (fan_in + fan_out)). */
export const GlorotUniform = preset('GlorotUniform', 1, 'fan_avg', 'uniform');
export const GlorotNormal = preset('GlorotNormal', 1, 'fan_avg', 'truncated_normal');
export const HeUniform = preset('HeUniform', 2, 'fan_in', 'uniform');
export const HeNormal = preset('HeNormal', 2, 'fan_in', 'truncated_normal');
export const LecunUniform = preset('LecunUniform', 1, 'fan_in', 'uniform');
export const LecunNormal = preset('LecunNormal', 1, 'fan_in', 'truncated_normal');

const CLASSES: Record<string, new (args?: any) => Initializer> = {
  Zeros, Ones, Constant, RandomNormal, RandomUniform, TruncatedNormal, VarianceScaling,
  GlorotUniform, GlorotNormal, HeUniform, HeNormal, LecunUniform, LecunNormal,
};
const ALIASES: Record<string, string> = { zero: 'Zeros', one: 'Ones' };

export type InitializerIdentifier = string | Initializer | SerializedObject;

/**
 * Config keys some Keras version wrote into every initializer it saved, and that Keras itself drops
 * or ignores when reading, so a file from any era loads (unknown keys still throw):
 * - `dtype`: TensorFlow 1.x initializers (tf.keras 2.1-2.2 `.h5` files, TF.js converter output of
 *   that era) took a dtype and wrote it in each config, Zeros and Ones included; Keras 2's
 *   `Initializer.from_config` pops it before calling the constructor. Weights here are float32.
 * - `verify_shape`: TensorFlow 1.x `Constant` (removed in TF 1.13); it only checked the value's shape.
 * - `input_axes`, `output_axes`: Keras 3.15 on VarianceScaling and its presets, for einsum layers; null elsewhere.
 */
const WRITTEN_AND_IGNORED = ['dtype', 'verify_shape', 'input_axes', 'output_axes'];

/** An initializer from a name ('glorot_uniform', 'he_normal', 'GlorotUniform'), a config dict or an instance. */
export function getInitializer(id: InitializerIdentifier | null | undefined, fallback: string): Initializer {
  if (id === undefined || id === null) id = fallback;
  if (id instanceof Initializer) return id;
  if (typeof id === 'string') {
    const cls = CLASSES[id] ?? CLASSES[ALIASES[id] ?? ''] ??
      Object.values(CLASSES).find((c) => toSnakeCase(new c().className) === id);
    if (!cls) throw new RangeError(`convnet: unknown initializer ${JSON.stringify(id)} (known: ${Object.keys(CLASSES).map(toSnakeCase).join(', ')})`);
    return new cls();
  }
  if (typeof id === 'object' && typeof id.class_name === 'string') {
    const cls = CLASSES[id.class_name] ?? CLASSES[ALIASES[id.class_name] ?? ''];
    if (!cls) throw new RangeError(`convnet: unknown initializer class ${JSON.stringify(id.class_name)}`);
    const cfg = { ...(id.config ?? {}) };
    for (const k of WRITTEN_AND_IGNORED) delete cfg[k];
    return new cls(cfg);
  }
  throw new TypeError(`convnet: cannot make an initializer from ${JSON.stringify(id)}`);
}

/** Factory functions in the style of `tf.initializers`. */
export const initializers = {
  zeros: () => new Zeros(), ones: () => new Ones(), constant: (a?: { value?: number }) => new Constant(a),
  randomNormal: (a?: RandomNormalArgs) => new RandomNormal(a), randomUniform: (a?: RandomUniformArgs) => new RandomUniform(a),
  truncatedNormal: (a?: RandomNormalArgs) => new TruncatedNormal(a), varianceScaling: (a?: VarianceScalingArgs) => new VarianceScaling(a),
  glorotUniform: (a?: { seed?: number }) => new GlorotUniform(a), glorotNormal: (a?: { seed?: number }) => new GlorotNormal(a),
  heUniform: (a?: { seed?: number }) => new HeUniform(a), heNormal: (a?: { seed?: number }) => new HeNormal(a),
  lecunUniform: (a?: { seed?: number }) => new LecunUniform(a), lecunNormal: (a?: { seed?: number }) => new LecunNormal(a),
  get: getInitializer,
};
