/**
 * Keras's `apply_transform` and `standardize` on a whole batch in the engine (issue 14: on a GPU the
 * host only decodes and caches uint8 pixels; the device converts, augments and rescales them).
 *
 * The parameters are the ones `randomTransform` drew on the host (the same NumPy stream as the host
 * path), and each step is the host step (augment.ts, generator.ts) written with the Backend's ops:
 * - the affine map (rotation, shift, shear, zoom about the centre): `affine2d`, whose fill modes give
 *   scipy.ndimage's order-0/1 results for Keras's matrices (see `affineTransforms`);
 * - channel shift: per-image min/max reductions, then clip(x + s, min, max) (NumPy's float32 maths);
 * - flips: `flip2d` (exact);
 * - brightness: Pillow through `array_to_img`: shift to >= 0, divide by the maximum, *255, truncate
 *   to uint8 (a cast), * factor, truncate and clip to 0..255 (a cast again);
 * - standardize: rescale, sample-wise and feature-wise normalisation.
 * On the heap backends (reference, wasm, native) every step is the host's float32 arithmetic; the
 * affine coordinates are float64 there and float32 in WGSL (see README's data section for tolerances).
 */
import { Tensor, empty, tensor, scope } from '../tensor/index.js';
import { backend } from '../backend/index.js';
import { noGrad } from '../autograd/index.js';
import { add, sub, mul, div, maximum, minimum, neg, equal, min, max, mean, square, sqrt, cast } from '../ops/index.js';
import { affineMatrix, type AugmentConfig, type TransformParams } from './augment.js';

/** What `standardize` needs, as ImageDataGenerator holds it. */
export interface StandardizeConfig {
  rescale: number | null;
  samplewiseCenter: boolean;
  samplewiseStdNormalization: boolean;
  featurewiseCenter: boolean;
  featurewiseStdNormalization: boolean;
  mean: Float32Array | null;
  std: Float32Array | null;
}

const IDENTITY = [1, 0, 0, 0, 1, 0];

/**
 * Keras's output->input matrices as `affine2d` transforms ([a0 a1 a2 b0 b1 b2]: output (col x, row y)
 * reads input column a0 x + a1 y + a2, row b0 x + b1 y + b2), identity for untransformed images;
 * null when no image is transformed.
 */
export function affineTransforms(params: readonly TransformParams[], h: number, w: number): number[][] | null {
  let any = false;
  const out = params.map((p) => {
    const m = affineMatrix(p, h, w);
    if (!m) return IDENTITY;
    any = true;
    // m maps (row, col, 1) to (input row, input col): row' = m0 r + m1 c + m2, col' = m3 r + m4 c + m5.
    return [m[4], m[3], m[5], m[1], m[0], m[2]];
  });
  return any ? out : null;
}

/** A [B, 1, 1, 1] tensor of one float32 value per image. */
function perImage(values: number[]): Tensor { return tensor(Float32Array.from(values), [values.length, 1, 1, 1]); }

/**
 * x8 uint8 [B, H, W, C] (decoded pixels) -> float32 [B, H, W, C]: `apply_transform` with params[i] on
 * image i when `augment` is set, then `standardize`. x8 is left as it is (the caller disposes it).
 */
export function transformBatch(x8: Tensor, params: readonly TransformParams[] | null, cfg: AugmentConfig, s: StandardizeConfig): Tensor {
  const [b, h, w, c] = x8.shape;
  if (params && params.length !== b) throw new RangeError(`convnet: transformBatch: ${params.length} transforms for ${b} images`);
  return noGrad(() => scope(() => {
    const be = backend();
    let x = empty([b, h, w, c], 'float32');
    be.cast(x8, x);
    if (b === 0) return x;
    if (params) {
      const tr = affineTransforms(params, h, w);
      if (tr) {
        const y = empty([b, h, w, c], 'float32');
        be.affine2d(x, y, tr, cfg.fillMode, cfg.interpolationOrder === 1 ? 'bilinear' : 'nearest', cfg.cval);
        x = y;
      }
      if (params.some((p) => p.channelShiftIntensity !== null)) {
        // np.clip(x + intensity, min(x), max(x)) over the whole image, in float32.
        const lo = min(x, [1, 2, 3], true), hi = max(x, [1, 2, 3], true);
        x = minimum(maximum(add(x, perImage(params.map((p) => p.channelShiftIntensity ?? 0))), lo), hi);
      }
      const flags = params.map((p) => (p.flipVertical ? 1 : 0) | (p.flipHorizontal ? 2 : 0));
      if (flags.some((f) => f)) {
        const y = empty([b, h, w, c], 'float32');
        be.flip2d(x, y, flags);
        x = y;
      }
      if (params.some((p) => p.brightness !== null)) x = brightness(x, params);
    }
    return standardize(x, s);
  }));
}

/**
 * Keras's `apply_brightness_shift` per image: `array_to_img(x, scale=True)` (x + max(-min, 0), divided by
 * the new maximum unless it is 0, * 255, truncated to uint8), Pillow's Brightness (u8 * factor,
 * truncated, clipped to 0..255), back to float. Images without a factor keep their values.
 */
function brightness(x: Tensor, params: readonly TransformParams[]): Tensor {
  const lo = min(x, [1, 2, 3], true), hi = max(x, [1, 2, 3], true);
  const shift = maximum(neg(lo), 0);
  const top = add(hi, shift);
  const v = divRN(add(x, shift), add(top, equal(top, 0))); // / 1 where the maximum is 0: unchanged
  const u8 = cast(cast(mul(v, 255), 'uint8'), 'float32');
  const e = cast(cast(mul(u8, perImage(params.map((p) => Math.fround(p.brightness ?? 1)))), 'uint8'), 'float32');
  if (params.every((p) => p.brightness !== null)) return e;
  const keep = perImage(params.map((p) => (p.brightness === null ? 1 : 0)));
  return add(mul(x, keep), mul(e, sub(1, keep)));
}

/** Dekker's split of a float32 into two 12-bit halves (hi + lo = x exactly). */
function split(x: Tensor): [Tensor, Tensor] {
  const c = mul(x, 4097);
  const hi = sub(c, sub(c, x));
  return [hi, sub(x, hi)];
}

/**
 * a / b rounded once to float32 (as NumPy and the CPU backends divide) where the backend's division
 * may be off by a few ulps (WGSL allows 2.5): the quotient q0 corrected by one Newton step whose
 * residual a - q0 b is exact (Dekker's product: correctly rounded +, -, * only, one op per dispatch,
 * so nothing can be fused). Pillow's brightness truncates a / max * 255 to uint8, where one ulp moves a
 * pixel a whole level: the brightest pixel (a == b) must give exactly 1.
 */
export function divRN(a: Tensor, b: Tensor): Tensor {
  const q0 = div(a, b);
  const p = mul(q0, b);
  const [qh, ql] = split(q0), [bh, bl] = split(b);
  const err = add(add(add(sub(mul(qh, bh), p), mul(qh, bl)), mul(ql, bh)), mul(ql, bl)); // q0 b - p, exactly
  const r = sub(sub(a, p), err);
  return add(q0, div(r, b));
}

/** Keras's `standardize` on a batch (preprocessing functions stay on the host path). */
export function standardize(x: Tensor, s: StandardizeConfig): Tensor {
  if (s.rescale) x = mul(x, Math.fround(s.rescale));
  if (s.samplewiseCenter) x = sub(x, mean(x, [1, 2, 3], true));
  if (s.samplewiseStdNormalization) {
    const d = sub(x, mean(x, [1, 2, 3], true));
    x = div(x, add(sqrt(mean(square(d), [1, 2, 3], true)), 1e-6));
  }
  const c = x.shape[3];
  if (s.featurewiseCenter && s.mean) x = sub(x, tensor(s.mean, [c]));
  if (s.featurewiseStdNormalization && s.std) x = div(x, tensor(Float32Array.from(s.std, (v) => v + 1e-6), [c]));
  return x;
}
