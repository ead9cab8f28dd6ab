/**
 * Host implementations of the image data-movement ops on [N, H, W, C] float32 arrays (zero padding
 * and cropping, nearest up-sampling, table resizing, flips and affine resampling), used by the heap
 * backends' `HeapStorage` on views of the WebAssembly heap. Moved here from the layers and ops that
 * used to run them on tensor memory directly (issue 14 step 1).
 */
import type { FillMode, ImageInterpolation, ResizeAxis } from './backend.js';

export function shift2d(xv: Float32Array, yv: Float32Array, n: number, h: number, w: number, c: number,
  outH: number, outW: number, top: number, left: number): void {
  yv.fill(0);
  const i0 = Math.max(0, top), i1 = Math.min(outH, h + top);
  const j0 = Math.max(0, left), j1 = Math.min(outW, w + left);
  if (i1 <= i0 || j1 <= j0) return;
  const run = (j1 - j0) * c;
  for (let b = 0; b < n; b++) {
    for (let i = i0; i < i1; i++) {
      const src = ((b * h + i - top) * w + (j0 - left)) * c;
      yv.set(xv.subarray(src, src + run), ((b * outH + i) * outW + j0) * c);
    }
  }
}

export function upsample2d(xv: Float32Array, yv: Float32Array, n: number, h: number, w: number, c: number, sh: number, sw: number): void {
  const oh = h * sh, ow = w * sw;
  for (let b = 0; b < n; b++) {
    for (let i = 0; i < h; i++) {
      const row = ((b * oh + i * sh) * ow) * c;
      for (let j = 0; j < w; j++) {
        const px = xv.subarray(((b * h + i) * w + j) * c, ((b * h + i) * w + j + 1) * c);
        for (let r = 0; r < sw; r++) yv.set(px, row + (j * sw + r) * c);
      }
      for (let r = 1; r < sh; r++) yv.copyWithin(row + r * ow * c, row, row + ow * c);
    }
  }
}

export function upsample2dGrad(dv: Float32Array, xv: Float32Array, n: number, h: number, w: number, c: number, sh: number, sw: number): void {
  const oh = h * sh, ow = w * sw;
  xv.fill(0);
  for (let b = 0; b < n; b++) {
    for (let i = 0; i < oh; i++) {
      for (let j = 0; j < ow; j++) {
        const s = ((b * oh + i) * ow + j) * c;
        const d = ((b * h + Math.floor(i / sh)) * w + Math.floor(j / sw)) * c;
        for (let k = 0; k < c; k++) xv[d + k] += dv[s + k];
      }
    }
  }
}

export function resize2d(xv: Float32Array, yv: Float32Array, N: number, H: number, W: number, C: number, ty: ResizeAxis, tx: ResizeAxis): void {
  const th = ty.lo.length, tw = tx.lo.length;
  const at = (n: number, r: number, c: number): number => ((n * H + r) * W + c) * C;
  for (let n = 0; n < N; n++) for (let i = 0; i < th; i++) for (let j = 0; j < tw; j++) {
    const tl = at(n, ty.lo[i], tx.lo[j]), tr = at(n, ty.lo[i], tx.hi[j]), bl = at(n, ty.hi[i], tx.lo[j]), br = at(n, ty.hi[i], tx.hi[j]);
    const wy = ty.w[i], wx = tx.w[j], o = ((n * th + i) * tw + j) * C;
    for (let c = 0; c < C; c++) {
      const top = xv[tl + c] + (xv[tr + c] - xv[tl + c]) * wx;
      const bottom = xv[bl + c] + (xv[br + c] - xv[bl + c]) * wx;
      yv[o + c] = top + (bottom - top) * wy;
    }
  }
}

export function resize2dGrad(dyv: Float32Array, dxv: Float32Array, N: number, H: number, W: number, C: number, ty: ResizeAxis, tx: ResizeAxis): void {
  const th = ty.lo.length, tw = tx.lo.length;
  const at = (n: number, r: number, c: number): number => ((n * H + r) * W + c) * C;
  dxv.fill(0);
  for (let n = 0; n < N; n++) for (let i = 0; i < th; i++) for (let j = 0; j < tw; j++) {
    const tl = at(n, ty.lo[i], tx.lo[j]), tr = at(n, ty.lo[i], tx.hi[j]), bl = at(n, ty.hi[i], tx.lo[j]), br = at(n, ty.hi[i], tx.hi[j]);
    const wy = ty.w[i], wx = tx.w[j], o = ((n * th + i) * tw + j) * C;
    for (let c = 0; c < C; c++) {
      const g = dyv[o + c];
      dxv[tl + c] += g * (1 - wy) * (1 - wx); dxv[tr + c] += g * (1 - wy) * wx;
      dxv[bl + c] += g * wy * (1 - wx); dxv[br + c] += g * wy * wx;
    }
  }
}

/** flags[n]: 1 flips image n top-bottom, 2 left-right, 3 both, 0 copies it. */
export function flip2d(src: Float32Array, dst: Float32Array, N: number, H: number, W: number, C: number, flags: ArrayLike<number>): void {
  for (let n = 0; n < N; n++) {
    const fy = (flags[n] & 1) !== 0, fx = (flags[n] & 2) !== 0;
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
}

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
export function affine(src: Float32Array, dst: Float32Array, n: number, H: number, W: number, C: number, t: ArrayLike<number>,
  mode: FillMode, interp: ImageInterpolation, fillValue: number): void {
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
