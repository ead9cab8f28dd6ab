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

export interface OrthogonalArgs { gain?: number; seed?: number | null }

/**
 * Keras's Orthogonal: the shape is flattened to a matrix [prod(shape[:-1]), shape[-1]]; a normal
 * matrix of [max(rows, cols), min(rows, cols)] is factored as Q R, Q's columns take the signs of R's
 * diagonal (so Q does not depend on the QR algorithm), Q is transposed when rows < cols, and scaled
 * by `gain`. Orthonormal columns (or rows, when there are fewer rows than columns).
 * Written by hand: Householder QR in float64 on the draws, as no kept library does it in TypeScript.
 */
export class Orthogonal extends Initializer {
  readonly className = 'Orthogonal';
  readonly gain: number; readonly seed: number | null;
  constructor(args: OrthogonalArgs = {}) {
    super();
    const o = normalizeOptions(args as Record<string, unknown>, ['gain', 'seed'], 'Orthogonal');
    this.gain = (o.gain as number) ?? 1; this.seed = (o.seed as number) ?? null;
    if (typeof this.gain !== 'number' || !Number.isFinite(this.gain)) throw new RangeError(`convnet: Orthogonal: gain must be a finite number, got ${JSON.stringify(o.gain)}`);
  }
  call(shape: readonly number[]): Tensor {
    if (shape.length < 2) throw new RangeError(`convnet: Orthogonal: the tensor to initialize must be at least two-dimensional, got shape [${shape.join(', ')}]`);
    let rows = 1;
    for (const d of shape.slice(0, -1)) rows *= d;
    const cols = shape[shape.length - 1];
    const m = Math.max(rows, cols), n = Math.min(rows, cols);
    const r = rngFor(this.seed);
    const a = new Float64Array(m * n); // row-major [m, n]
    for (let i = 0; i < a.length; i++) a[i] = r.normal();
    const q = thinQ(a, m, n);
    const out = new Float32Array(rows * cols);
    if (rows >= cols) for (let i = 0; i < m * n; i++) out[i] = this.gain * q[i];
    else for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) out[j * m + i] = this.gain * q[i * n + j];
    return tensor(out, shape);
  }
  getConfig(): Record<string, unknown> { return { seed: this.seed, gain: this.gain }; }
}

/**
 * Q [m, n] (m >= n) of A = Q R with R's diagonal made non-negative (Q's columns times sign(R_jj)).
 * Householder reflections; A (row-major) is overwritten.
 */
function thinQ(a: Float64Array, m: number, n: number): Float64Array {
  const vs: Float64Array[] = [];
  const signs = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    let norm = 0;
    for (let i = k; i < m; i++) norm += a[i * n + k] * a[i * n + k];
    norm = Math.sqrt(norm);
    const akk = a[k * n + k];
    const alpha = akk > 0 ? -norm : norm; // R_kk
    const v = new Float64Array(m - k);
    for (let i = k; i < m; i++) v[i - k] = a[i * n + k];
    v[0] -= alpha;
    let vn = 0;
    for (let i = 0; i < v.length; i++) vn += v[i] * v[i];
    if (vn > 0) {
      for (let j = k; j < n; j++) {
        let dot = 0;
        for (let i = k; i < m; i++) dot += v[i - k] * a[i * n + j];
        const f = (2 * dot) / vn;
        for (let i = k; i < m; i++) a[i * n + j] -= f * v[i - k];
      }
    }
    vs.push(vn > 0 ? v : new Float64Array(0));
    signs[k] = alpha < 0 ? -1 : 1;
  }
  // Q = H_0 H_1 ... H_{n-1} applied to the first n columns of the identity.
  const q = new Float64Array(m * n);
  for (let j = 0; j < n; j++) q[j * n + j] = 1;
  for (let k = n - 1; k >= 0; k--) {
    const v = vs[k];
    if (v.length === 0) continue;
    let vn = 0;
    for (let i = 0; i < v.length; i++) vn += v[i] * v[i];
    for (let j = 0; j < n; j++) {
      let dot = 0;
      for (let i = k; i < m; i++) dot += v[i - k] * q[i * n + j];
      const f = (2 * dot) / vn;
      for (let i = k; i < m; i++) q[i * n + j] -= f * v[i - k];
    }
  }
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) q[i * n + j] *= signs[j];
  return q;
}

/** Keras's Identity: `gain` times the identity matrix (2D shapes only; eye(rows, cols) when not square). */
export class Identity extends Initializer {
  readonly className = 'Identity';
  readonly gain: number;
  constructor(args: { gain?: number } = {}) {
    super();
    const o = normalizeOptions(args as Record<string, unknown>, ['gain'], 'Identity');
    this.gain = (o.gain as number) ?? 1;
    if (typeof this.gain !== 'number' || !Number.isFinite(this.gain)) throw new RangeError(`convnet: Identity: gain must be a finite number, got ${JSON.stringify(o.gain)}`);
  }
  call(shape: readonly number[]): Tensor {
    if (shape.length !== 2) throw new RangeError(`convnet: Identity: the identity initializer makes 2D matrices only, got shape [${shape.join(', ')}] of rank ${shape.length}`);
    const [rows, cols] = shape;
    const out = new Float32Array(rows * cols);
    for (let i = 0; i < Math.min(rows, cols); i++) out[i * cols + i] = this.gain;
    return tensor(out, shape);
  }
  getConfig(): Record<string, unknown> { return { gain: this.gain }; }
}

const CLASSES: Record<string, new (args?: any) => Initializer> = {
  Zeros, Ones, Constant, RandomNormal, RandomUniform, TruncatedNormal, VarianceScaling,
  GlorotUniform, GlorotNormal, HeUniform, HeNormal, LecunUniform, LecunNormal, Orthogonal, Identity,
};
/**
 * Keras 3's other names (`keras.initializers.ALL_OBJECTS_DICT`): some Keras 3 releases name the
 * classes OrthogonalInitializer and IdentityInitializer in the files they write.
 */
const ALIASES: Record<string, string> = {
  zero: 'Zeros', one: 'Ones', uniform: 'RandomUniform', normal: 'RandomNormal',
  OrthogonalInitializer: 'Orthogonal', orthogonal_initializer: 'Orthogonal',
  IdentityInitializer: 'Identity', identity_initializer: 'Identity',
};

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
  orthogonal: (a?: OrthogonalArgs) => new Orthogonal(a), identity: (a?: { gain?: number }) => new Identity(a),
  get: getInitializer,
};
