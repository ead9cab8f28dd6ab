/** Seeded random tensors: uniform, normal, truncated normal, and the Glorot/He schemes. */
import { Tensor, sizeOf } from './tensor.js';
import { rngFor, Rng } from './random.js';

export interface RandomOptions { seed?: number | null; rng?: Rng }

function fill(shape: readonly number[], opts: RandomOptions, draw: (r: Rng) => number): Tensor {
  const r = opts.rng ?? rngFor(opts.seed);
  const v = new Float32Array(sizeOf(shape));
  for (let i = 0; i < v.length; i++) v[i] = draw(r);
  return new Tensor(shape, 'float32').write(v);
}

/** Uniform in [min, max). */
export function randomUniform(shape: readonly number[], opts: RandomOptions & { min?: number; max?: number } = {}): Tensor {
  const lo = opts.min ?? 0, hi = opts.max ?? 1;
  return fill(shape, opts, (r) => r.uniform(lo, hi));
}
/** Normal with the given mean and standard deviation. */
export function randomNormal(shape: readonly number[], opts: RandomOptions & { mean?: number; stddev?: number } = {}): Tensor {
  const m = opts.mean ?? 0, s = opts.stddev ?? 1;
  return fill(shape, opts, (r) => m + s * r.normal());
}
/** Normal truncated at two standard deviations (re-drawn beyond), as Keras's TruncatedNormal. */
export function truncatedNormal(shape: readonly number[], opts: RandomOptions & { mean?: number; stddev?: number } = {}): Tensor {
  const m = opts.mean ?? 0, s = opts.stddev ?? 1;
  return fill(shape, opts, (r) => m + s * r.truncatedNormal());
}

/** Keras's fan computation: dense [in, out]; conv [kh, kw, in, out] -> receptive field times channels. */
export function fans(shape: readonly number[]): { fanIn: number; fanOut: number } {
  if (shape.length === 0) return { fanIn: 1, fanOut: 1 };
  if (shape.length === 1) return { fanIn: shape[0], fanOut: shape[0] };
  if (shape.length === 2) return { fanIn: shape[0], fanOut: shape[1] };
  const rf = sizeOf(shape.slice(0, -2));
  return { fanIn: shape[shape.length - 2] * rf, fanOut: shape[shape.length - 1] * rf };
}

/** Glorot (Xavier) uniform: U(-l, l), l = sqrt(6 / (fanIn + fanOut)). Keras's default kernel initializer. */
export function glorotUniform(shape: readonly number[], opts: RandomOptions = {}): Tensor {
  const { fanIn, fanOut } = fans(shape);
  const l = Math.sqrt(6 / (fanIn + fanOut));
  return randomUniform(shape, { ...opts, min: -l, max: l });
}
/** Glorot normal: truncated normal with stddev sqrt(2 / (fanIn + fanOut)) / .87962566 (Keras). */
export function glorotNormal(shape: readonly number[], opts: RandomOptions = {}): Tensor {
  const { fanIn, fanOut } = fans(shape);
  return truncatedNormal(shape, { ...opts, stddev: Math.sqrt(2 / (fanIn + fanOut)) / 0.87962566103423978 });
}
/** He uniform: U(-l, l), l = sqrt(6 / fanIn). */
export function heUniform(shape: readonly number[], opts: RandomOptions = {}): Tensor {
  const l = Math.sqrt(6 / fans(shape).fanIn);
  return randomUniform(shape, { ...opts, min: -l, max: l });
}
/** He normal: truncated normal with stddev sqrt(2 / fanIn) / .87962566 (Keras). */
export function heNormal(shape: readonly number[], opts: RandomOptions = {}): Tensor {
  return truncatedNormal(shape, { ...opts, stddev: Math.sqrt(2 / fans(shape).fanIn) / 0.87962566103423978 });
}
