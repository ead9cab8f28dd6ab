/**
 * Keras's random augmentations: the parameters are drawn exactly as
 * `ImageDataGenerator.get_random_transform` draws them from NumPy's global RandomState (so a seeded
 * iterator gives each image Keras's angle, shift, zoom, flips, brightness), and applied as
 * `apply_transform` does: one affine map with linear interpolation (scipy.ndimage.affine_transform,
 * order 1) around the image centre, channel shift, flips, then Pillow's brightness enhancer.
 */
import type { NumpyRandomState } from './numpy_random.js';

export type FillMode = 'nearest' | 'constant' | 'reflect' | 'wrap';
/** A shift range: a fraction of the size (< 1), pixels (>= 1), or a list of allowed pixel shifts. */
export type ShiftRange = number | number[];

export interface AugmentConfig {
  rotationRange: number;
  widthShiftRange: ShiftRange;
  heightShiftRange: ShiftRange;
  shearRange: number;
  zoomRange: [number, number];
  channelShiftRange: number;
  horizontalFlip: boolean;
  verticalFlip: boolean;
  brightnessRange: [number, number] | null;
  fillMode: FillMode;
  cval: number;
  interpolationOrder: 0 | 1;
}

export interface TransformParams {
  theta: number; tx: number; ty: number; shear: number; zx: number; zy: number;
  flipHorizontal: boolean; flipVertical: boolean;
  channelShiftIntensity: number | null; brightness: number | null;
}

function truthy(r: ShiftRange): boolean { return Array.isArray(r) ? r.length > 0 : r !== 0; }

/** np.random.choice(a) for an int (0..a-1) or a list. */
function choice(rs: NumpyRandomState, a: ShiftRange): number {
  if (Array.isArray(a)) return a[rs.randint(0, a.length)];
  return rs.randint(0, a);
}

function drawShift(rs: NumpyRandomState, range: ShiftRange, size: number): number {
  let t: number;
  if (Array.isArray(range) || Number.isInteger(range)) {
    // Keras's try branch: an int or a list picks a value, then a sign.
    t = choice(rs, range);
    t = t * choice(rs, [-1, 1]) + 0; // + 0: Python ints have no -0
  } else {
    t = rs.uniform(-range, range);
  }
  const max = Array.isArray(range) ? Math.max(...range) : range;
  if (max < 1) t *= size;
  return t;
}

/** `get_random_transform(img_shape)`, drawing from `rs` in Keras's order. */
export function randomTransform(cfg: AugmentConfig, rs: NumpyRandomState, height: number, width: number): TransformParams {
  const theta = cfg.rotationRange ? rs.uniform(-cfg.rotationRange, cfg.rotationRange) : 0;
  const tx = truthy(cfg.heightShiftRange) ? drawShift(rs, cfg.heightShiftRange, height) : 0;
  const ty = truthy(cfg.widthShiftRange) ? drawShift(rs, cfg.widthShiftRange, width) : 0;
  const shear = cfg.shearRange ? rs.uniform(-cfg.shearRange, cfg.shearRange) : 0;
  let zx = 1, zy = 1;
  if (!(cfg.zoomRange[0] === 1 && cfg.zoomRange[1] === 1)) {
    zx = rs.uniform(cfg.zoomRange[0], cfg.zoomRange[1]);
    zy = rs.uniform(cfg.zoomRange[0], cfg.zoomRange[1]);
  }
  const flipHorizontal = rs.random() < 0.5 && cfg.horizontalFlip;
  const flipVertical = rs.random() < 0.5 && cfg.verticalFlip;
  const channelShiftIntensity = cfg.channelShiftRange !== 0 ? rs.uniform(-cfg.channelShiftRange, cfg.channelShiftRange) : null;
  const brightness = cfg.brightnessRange ? rs.uniform(cfg.brightnessRange[0], cfg.brightnessRange[1]) : null;
  return { theta, tx, ty, shear, zx, zy, flipHorizontal, flipVertical, channelShiftIntensity, brightness };
}

type M3 = number[]; // row-major 3x3
function mul(a: M3, b: M3): M3 {
  const o = new Array(9).fill(0);
  for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) for (let k = 0; k < 3; k++) o[i * 3 + j] += a[i * 3 + k] * b[k * 3 + j];
  return o;
}

/** The 3x3 matrix mapping output (row, col) to input (row, col), or null for the identity (Keras's apply_affine_transform). */
export function affineMatrix(p: TransformParams, h: number, w: number): M3 | null {
  let m: M3 | null = null;
  const then = (n: M3) => { m = m ? mul(m, n) : n; };
  if (p.theta !== 0) {
    const t = (p.theta * Math.PI) / 180;
    then([Math.cos(t), -Math.sin(t), 0, Math.sin(t), Math.cos(t), 0, 0, 0, 1]);
  }
  if (p.tx !== 0 || p.ty !== 0) then([1, 0, p.tx, 0, 1, p.ty, 0, 0, 1]);
  if (p.shear !== 0) {
    const s = (p.shear * Math.PI) / 180;
    then([1, -Math.sin(s), 0, 0, Math.cos(s), 0, 0, 0, 1]);
  }
  if (p.zx !== 1 || p.zy !== 1) then([p.zx, 0, 0, 0, p.zy, 0, 0, 0, 1]);
  if (!m) return null;
  const ox = h / 2 - 0.5, oy = w / 2 - 0.5;
  return mul(mul([1, 0, ox, 0, 1, oy, 0, 0, 1], m), [1, 0, -ox, 0, 1, -oy, 0, 0, 1]);
}

/** Maps an integer index outside [0, n) back inside, per fill mode (scipy.ndimage's boundary rules). */
function mapIndex(k: number, n: number, mode: FillMode): number {
  if (k >= 0 && k < n) return k;
  switch (mode) {
    case 'reflect': {
      const p = 2 * n;
      let r = ((k % p) + p) % p;
      if (r >= n) r = p - 1 - r;
      return r;
    }
    case 'wrap': return ((k % n) + n) % n;
    default: return k < 0 ? 0 : n - 1;
  }
}

/** Applies the affine part to [h, w, c] pixels, with linear (order 1) or nearest (order 0) sampling. */
function affine(src: ArrayLike<number>, h: number, w: number, c: number, m: M3, mode: FillMode, cval: number, order: 0 | 1): Float32Array {
  const out = new Float32Array(h * w * c);
  const a = m[0], b = m[1], off0 = m[2], d = m[3], e = m[4], off1 = m[5];
  for (let r = 0; r < h; r++) {
    for (let col = 0; col < w; col++) {
      let y = a * r + b * col + off0; // input row
      let x = d * r + e * col + off1; // input column
      const o = (r * w + col) * c;
      if (mode === 'constant') {
        const eps = 1e-9;
        if (y < -eps || y > h - 1 + eps || x < -eps || x > w - 1 + eps) { for (let k = 0; k < c; k++) out[o + k] = cval; continue; }
      } else if (mode === 'wrap' && (h > 1 && w > 1)) {
        // scipy's 'wrap': period n - 1, first and last samples overlap.
        if (y < 0 || y > h - 1) y = ((y % (h - 1)) + (h - 1)) % (h - 1);
        if (x < 0 || x > w - 1) x = ((x % (w - 1)) + (w - 1)) % (w - 1);
      }
      if (order === 0) {
        const yi = mapIndex(Math.round(y), h, mode), xi = mapIndex(Math.round(x), w, mode);
        const s = (yi * w + xi) * c;
        for (let k = 0; k < c; k++) out[o + k] = src[s + k];
        continue;
      }
      const y0 = Math.floor(y), x0 = Math.floor(x);
      const fy = y - y0, fx = x - x0;
      const ya = mapIndex(y0, h, mode), yb = mapIndex(y0 + 1, h, mode);
      const xa = mapIndex(x0, w, mode), xb = mapIndex(x0 + 1, w, mode);
      const s00 = (ya * w + xa) * c, s01 = (ya * w + xb) * c, s10 = (yb * w + xa) * c, s11 = (yb * w + xb) * c;
      for (let k = 0; k < c; k++) {
        out[o + k] = (1 - fy) * ((1 - fx) * src[s00 + k] + fx * src[s01 + k]) + fy * ((1 - fx) * src[s10 + k] + fx * src[s11 + k]);
      }
    }
  }
  return out;
}

/** `apply_transform`: the image [h, w, c] (values 0..255) transformed, as float32. */
export function applyTransform(src: ArrayLike<number>, h: number, w: number, c: number, p: TransformParams, cfg: Pick<AugmentConfig, 'fillMode' | 'cval' | 'interpolationOrder'>): Float32Array {
  const m = affineMatrix(p, h, w);
  let x: Float32Array = m ? affine(src, h, w, c, m, cfg.fillMode, cfg.cval, cfg.interpolationOrder) : Float32Array.from(src);
  if (p.channelShiftIntensity !== null) {
    let lo = Infinity, hi = -Infinity;
    for (const v of x) { if (v < lo) lo = v; if (v > hi) hi = v; }
    for (let i = 0; i < x.length; i++) x[i] = Math.min(hi, Math.max(lo, x[i] + p.channelShiftIntensity));
  }
  if (p.flipHorizontal) {
    for (let r = 0; r < h; r++) for (let a = 0, b = w - 1; a < b; a++, b--) for (let k = 0; k < c; k++) {
      const i = (r * w + a) * c + k, j = (r * w + b) * c + k; const t = x[i]; x[i] = x[j]; x[j] = t;
    }
  }
  if (p.flipVertical) {
    const row = w * c;
    for (let a = 0, b = h - 1; a < b; a++, b--) {
      const t = x.slice(a * row, a * row + row); x.copyWithin(a * row, b * row, b * row + row); x.set(t, b * row);
    }
  }
  if (p.brightness !== null) x = brightness(x, p.brightness);
  return x;
}

/**
 * Keras's `apply_brightness_shift(x, b)`: `array_to_img(x, scale=True)` (shift to >= 0, stretch the
 * maximum to 255, truncate to uint8), Pillow's Brightness enhancer (blend with black, truncated),
 * then back to float.
 */
function brightness(x: Float32Array, b: number): Float32Array {
  let lo = Infinity, hi = -Infinity;
  for (const v of x) { if (v < lo) lo = v; if (v > hi) hi = v; }
  const shift = Math.max(-lo, 0);
  const max = hi + shift;
  const out = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) {
    let v = Math.fround(x[i] + shift);
    if (max !== 0) v = Math.fround(v / Math.fround(max));
    const u8 = Math.trunc(Math.fround(v * 255)) & 0xff;
    const e = Math.trunc(Math.fround(u8 * Math.fround(b)));
    out[i] = e < 0 ? 0 : e > 255 ? 255 : e;
  }
  return out;
}

/** True when the configuration changes images at all (otherwise the draws are still made, as in Keras). */
export function augments(cfg: AugmentConfig): boolean {
  return !!(cfg.rotationRange || truthy(cfg.widthShiftRange) || truthy(cfg.heightShiftRange) || cfg.shearRange
    || !(cfg.zoomRange[0] === 1 && cfg.zoomRange[1] === 1) || cfg.channelShiftRange || cfg.horizontalFlip || cfg.verticalFlip || cfg.brightnessRange);
}
