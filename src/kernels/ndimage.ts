/**
 * 2-D correlation kernels for src/ops/ndimage.ts (scipy.ndimage semantics), compiled on their own
 * to build/ndimage.wasm (`npm run build:ndimage`). They import the one shared heap memory and keep
 * no statics beyond their slot at --memoryBase 524288; every buffer is a heap block handed in by
 * the TypeScript side, which also computes how the borders map (the boundary mode).
 *
 * Each output element is summed in float64, tap by tap in the footprint's row-major order,
 * starting from 0.0, exactly as SciPy's NI_Correlate does, then rounded once to the output dtype:
 * the results are bit-identical to SciPy.
 *
 * The image is processed in bands of output rows. For a band, the source rows it reads are
 * converted once to float64 into a scratch block, each extended on the left and right by the
 * column map (so every tap of every output reads in bounds, whatever the mode); the taps then
 * become constant byte offsets into that scratch, and SIMD makes 16 outputs at a time.
 * A call computes part `part` of `parts` (a band of rows each, results independent of the split),
 * the thread pool's convention, so the rows can be spread over threads.
 */

import { Ndimage } from './params';

// Parameter block: Ndimage of ./params.

@inline function param(p: usize, i: i32): i32 { return load<i32>(p + (<usize>i << 2)); }
@inline function at(base: usize, i: i32, shift: i32): usize { return base + (<usize>i << <usize>shift); }

/** Fills scratch row `dst` (float64, width + kW - 1) from source row `src` (or cval when src is -1). */
@inline function extendRow(p: usize, dst: usize, srcRow: i32, isF32: bool): void {
  const width = param(p, Ndimage.WIDTH);
  const padded = width + param(p, Ndimage.KW) - 1;
  const cx = param(p, Ndimage.CX);
  const cval = load<f64>(p + Ndimage.CVAL_BYTE);
  if (srcRow < 0) {
    const c = f64x2.splat(cval);
    let q = 0;
    for (; q + 2 <= padded; q += 2) v128.store(at(dst, q, 3), c);
    for (; q < padded; q++) store<f64>(at(dst, q, 3), cval);
    return;
  }
  const colMap = <usize>param(p, Ndimage.COL_MAP);
  const mid = at(dst, cx, 3);
  if (isF32) {
    const src = at(<usize>param(p, Ndimage.IN), srcRow * width, 2);
    let i = 0;
    for (; i + 4 <= width; i += 4) {
      const v = v128.load(at(src, i, 2));
      v128.store(at(mid, i, 3), f64x2.promote_low_f32x4(v));
      v128.store(at(mid, i, 3), f64x2.promote_low_f32x4(i32x4.shuffle(v, v, 2, 3, 2, 3)), 16);
    }
    for (; i < width; i++) store<f64>(at(mid, i, 3), <f64>load<f32>(at(src, i, 2)));
    for (let q = 0; q < padded; q++) {
      if (q == cx) q += width;
      if (q >= padded) break;
      const c = load<i32>(at(colMap, q, 2));
      store<f64>(at(dst, q, 3), c < 0 ? cval : <f64>load<f32>(at(src, c, 2)));
    }
  } else {
    const src = at(<usize>param(p, Ndimage.IN), srcRow * width, 3);
    memory.copy(mid, src, <usize>width << 3);
    for (let q = 0; q < padded; q++) {
      if (q == cx) q += width;
      if (q >= padded) break;
      const c = load<i32>(at(colMap, q, 2));
      store<f64>(at(dst, q, 3), c < 0 ? cval : load<f64>(at(src, c, 3)));
    }
  }
}

@inline function correlate2d(p: usize, part: i32, parts: i32, isF32: bool): void {
  const out = <usize>param(p, Ndimage.OUT);
  const rows = param(p, Ndimage.ROWS);
  const width = param(p, Ndimage.WIDTH);
  const n = param(p, Ndimage.TAPS);
  const tapOff = <usize>param(p, Ndimage.TAP_OFF);
  const wts = <usize>param(p, Ndimage.WEIGHTS);
  const rowMap = <usize>param(p, Ndimage.ROW_MAP);
  const band = param(p, Ndimage.BAND);
  const kh = param(p, Ndimage.KH);
  const stride = <usize>(width + param(p, Ndimage.KW) - 1) << 3;
  // Part `part` of `parts` computes rows [first, last) with its own scratch rows.
  const first = <i32>(<i64>rows * part / parts), last = <i32>(<i64>rows * (part + 1) / parts);
  const scratch = <usize>param(p, Ndimage.SCRATCH) + <usize>part * <usize>(band + kh - 1) * stride;
  for (let y0 = first; y0 < last; y0 += band) {
    const bandRows = min(band, last - y0);
    for (let j = 0; j < bandRows + kh - 1; j++) {
      extendRow(p, scratch + <usize>j * stride, load<i32>(at(rowMap, y0 + j, 2)), isF32);
    }
    for (let yy = 0; yy < bandRows; yy++) {
      const base = scratch + <usize>yy * stride;
      const orow = isF32 ? at(out, (y0 + yy) * width, 2) : at(out, (y0 + yy) * width, 3);
      let x = 0;
      for (; x + 16 <= width; x += 16) {
        const px = at(base, x, 3);
        let a0 = f64x2.splat(0.0), a1 = f64x2.splat(0.0), a2 = f64x2.splat(0.0), a3 = f64x2.splat(0.0);
        let a4 = f64x2.splat(0.0), a5 = f64x2.splat(0.0), a6 = f64x2.splat(0.0), a7 = f64x2.splat(0.0);
        for (let t = 0; t < n; t++) {
          const s = px + <usize>load<i32>(at(tapOff, t, 2));
          const w = v128.load64_splat(at(wts, t, 3));
          a0 = f64x2.add(a0, f64x2.mul(v128.load(s), w));
          a1 = f64x2.add(a1, f64x2.mul(v128.load(s, 16), w));
          a2 = f64x2.add(a2, f64x2.mul(v128.load(s, 32), w));
          a3 = f64x2.add(a3, f64x2.mul(v128.load(s, 48), w));
          a4 = f64x2.add(a4, f64x2.mul(v128.load(s, 64), w));
          a5 = f64x2.add(a5, f64x2.mul(v128.load(s, 80), w));
          a6 = f64x2.add(a6, f64x2.mul(v128.load(s, 96), w));
          a7 = f64x2.add(a7, f64x2.mul(v128.load(s, 112), w));
        }
        if (isF32) {
          const o = at(orow, x, 2);
          v128.store(o, i32x4.shuffle(f32x4.demote_f64x2_zero(a0), f32x4.demote_f64x2_zero(a1), 0, 1, 4, 5));
          v128.store(o, i32x4.shuffle(f32x4.demote_f64x2_zero(a2), f32x4.demote_f64x2_zero(a3), 0, 1, 4, 5), 16);
          v128.store(o, i32x4.shuffle(f32x4.demote_f64x2_zero(a4), f32x4.demote_f64x2_zero(a5), 0, 1, 4, 5), 32);
          v128.store(o, i32x4.shuffle(f32x4.demote_f64x2_zero(a6), f32x4.demote_f64x2_zero(a7), 0, 1, 4, 5), 48);
        } else {
          const o = at(orow, x, 3);
          v128.store(o, a0); v128.store(o, a1, 16); v128.store(o, a2, 32); v128.store(o, a3, 48);
          v128.store(o, a4, 64); v128.store(o, a5, 80); v128.store(o, a6, 96); v128.store(o, a7, 112);
        }
      }
      for (; x < width; x++) {
        const px = at(base, x, 3);
        let acc = 0.0;
        for (let t = 0; t < n; t++) {
          acc += load<f64>(at(wts, t, 3)) * load<f64>(px + <usize>load<i32>(at(tapOff, t, 2)));
        }
        if (isF32) store<f32>(at(orow, x, 2), <f32>acc);
        else store<f64>(at(orow, x, 3), acc);
      }
    }
  }
}

/** float32 image -> float32 output; rows split into `parts` (the thread pool's calling convention). */
export function correlate2d_f32(p: usize, part: i32, parts: i32): void { correlate2d(p, part, parts, true); }
/** float64 image -> float64 output. */
export function correlate2d_f64(p: usize, part: i32, parts: i32): void { correlate2d(p, part, parts, false); }
