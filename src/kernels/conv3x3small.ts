// 3x3, stride-1, 'same' convolutions of an input with few channels (an image: at most 4), where
// im2col + GEMM wastes most of its time copying 3-float runs: implicit GEMMs on the 4x8 register
// block, reading the input straight from zero-padded copies of its rows.
//
// Parameter block: Conv of ./params; IN0 x, IN1 kernel (forward) or dy (filter gradient), BIAS,
// OUT, SCRATCH, PER_PART.
import { pi, pu, partStart, copyF32, zeroF32, A_RELU } from './common';
import { Conv } from './params';

// @ts-ignore: decorator
@inline function madd(acc: v128, a: v128, b: v128): v128 { return f32x4.add(acc, f32x4.mul(a, b)); }

/** Floats per zero-padded input row of the forward kernel (pixels rounded up to 6, plus 2). */
// @ts-ignore: decorator
@inline function padRow(W: i32, C: i32): i32 { return ((W + 5) / 6 * 6 + 2) * C; }

/**
 * Forward, parts over output rows: out = act(conv(x, w) + bias) with outC a multiple of 8. Per
 * output row its three input rows are copied zero-padded, then each block of 6 pixels x 8 output
 * channels sums its 9*C taps in registers (B read straight from the HWIO kernel: [9C x outC]).
 */
export function k_conv2d_3x3_small(p: usize, part: i32, parts: i32): void {
  const batch = pi(p, Conv.BATCH), H = pi(p, Conv.IN_H), W = pi(p, Conv.IN_W), C = pi(p, Conv.IN_C), N = pi(p, Conv.OUT_C);
  const relu = pi(p, Conv.ACT) == A_RELU;
  const x = pu(p, Conv.IN0), w = pu(p, Conv.IN1), bias = pu(p, Conv.BIAS), out = pu(p, Conv.OUT);
  const R = batch * H;
  const r0 = partStart(R, part, parts, 1), r1 = partStart(R, part + 1, parts, 1);
  if (r0 >= r1) return;
  const buf = pu(p, Conv.SCRATCH) + <usize>part * pu(p, Conv.PER_PART);
  const rowF = padRow(W, C);
  const rowB: usize = <usize>rowF << 2;
  const pc: usize = <usize>C << 2;
  const ldo: usize = <usize>N << 2;
  const kEnd: usize = <usize>(3 * C) << 2;
  const z = f32x4.splat(0);
  for (let r = r0; r < r1; r++) {
    const b = r / H, oy = r - b * H;
    for (let ky = 0; ky < 3; ky++) {
      const dst = buf + <usize>ky * rowB;
      const iy = oy + ky - 1;
      for (let i = 0; i < C; i++) store<f32>(dst + (<usize>i << 2), 0);
      const n = W * C;
      if (iy >= 0 && iy < H) copyF32(dst + pc, x + ((<usize>(b * H + iy) * W * C) << 2), n);
      else zeroF32(dst + pc, n);
      zeroF32(dst + pc + (<usize>n << 2), rowF - C - n);
    }
    const orow = out + <usize>r * W * ldo;
    for (let ox = 0; ox < W; ox += 6) {
      const nv = min(6, W - ox);
      const a = buf + <usize>ox * pc;
      for (let j = 0; j < N; j += 8) {
        let c00 = z, c01 = z, c10 = z, c11 = z, c20 = z, c21 = z, c30 = z, c31 = z, c40 = z, c41 = z, c50 = z, c51 = z;
        let wp = w + (<usize>j << 2);
        for (let ky = 0; ky < 3; ky++) {
          const a0 = a + <usize>ky * rowB;
          for (let k: usize = 0; k < kEnd; k += 4) {
            const b0 = v128.load(wp), b1 = v128.load(wp, 16);
            const ak = a0 + k;
            const x0 = v128.load32_splat(ak);
            c00 = madd(c00, x0, b0); c01 = madd(c01, x0, b1);
            const x1 = v128.load32_splat(ak + pc);
            c10 = madd(c10, x1, b0); c11 = madd(c11, x1, b1);
            const x2 = v128.load32_splat(ak + 2 * pc);
            c20 = madd(c20, x2, b0); c21 = madd(c21, x2, b1);
            const x3 = v128.load32_splat(ak + 3 * pc);
            c30 = madd(c30, x3, b0); c31 = madd(c31, x3, b1);
            const x4 = v128.load32_splat(ak + 4 * pc);
            c40 = madd(c40, x4, b0); c41 = madd(c41, x4, b1);
            const x5 = v128.load32_splat(ak + 5 * pc);
            c50 = madd(c50, x5, b0); c51 = madd(c51, x5, b1);
            wp += ldo;
          }
        }
        const d = orow + <usize>ox * ldo + (<usize>j << 2);
        const q0 = bias ? v128.load(bias + (<usize>j << 2)) : z, q1 = bias ? v128.load(bias + (<usize>j << 2), 16) : z;
        outPair(d, 0, c00, c01, q0, q1, relu);
        if (nv > 1) outPair(d, ldo, c10, c11, q0, q1, relu);
        if (nv > 2) outPair(d, 2 * ldo, c20, c21, q0, q1, relu);
        if (nv > 3) outPair(d, 3 * ldo, c30, c31, q0, q1, relu);
        if (nv > 4) outPair(d, 4 * ldo, c40, c41, q0, q1, relu);
        if (nv > 5) outPair(d, 5 * ldo, c50, c51, q0, q1, relu);
      }
    }
  }
}

/** Stores 8 outputs at d + off: (c0, c1) + bias, relu. */
// @ts-ignore: decorator
@inline function outPair(d: usize, off: usize, c0: v128, c1: v128, q0: v128, q1: v128, relu: bool): void {
  let y0 = f32x4.add(c0, q0), y1 = f32x4.add(c1, q1);
  if (relu) { const z = f32x4.splat(0); y0 = f32x4.pmax(y0, z); y1 = f32x4.pmax(y1, z); } // NaN stays NaN
  v128.store(d + off, y0);
  v128.store(d + off, y1, 16);
}

/** Bytes of the forward kernel's scratch per part. */
export function conv3x3SmallBytes(W: i32, C: i32): usize {
  return (<usize>3 * padRow(W, C) << 2) + 64;
}

/**
 * Filter gradient, phase 1, parts over output rows: each part sums, row by row, the products
 * dw[t][k] += sum over the row's pixels of x(tap t at pixel) * dy[pixel][k], into a partial
 * [9C rounded up to 4][outC] at the start of its scratch (outC a multiple of 8). Per row the three
 * input rows are copied channel-planar and zero-padded, so each tap's row of the implicit GEMM is
 * contiguous; dy rows are read in place. Phase 2 is k_conv2d_grad_filter_sum over 9C*outC floats.
 */
export function k_conv2d_3x3_small_grad_filter(p: usize, part: i32, parts: i32): void {
  const batch = pi(p, Conv.BATCH), H = pi(p, Conv.IN_H), W = pi(p, Conv.IN_W), C = pi(p, Conv.IN_C), N = pi(p, Conv.OUT_C);
  const x = pu(p, Conv.IN0), dy = pu(p, Conv.IN1);
  const R = batch * H;
  const r0 = partStart(R, part, parts, 1), r1 = partStart(R, part + 1, parts, 1);
  const K = 9 * C, K4 = (K + 3) & ~3;
  const partial = pu(p, Conv.SCRATCH) + <usize>part * pu(p, Conv.PER_PART);
  const ldc: usize = <usize>N << 2;
  const planes = partial + ((<usize>K4 * N) << 2);
  const Wp = W + 2;
  const planeB: usize = <usize>Wp << 2;
  zeroF32(partial, K4 * N);
  const z = f32x4.splat(0);
  const kEnd: usize = <usize>W << 2;
  for (let r = r0; r < r1; r++) {
    const b = r / H, oy = r - b * H;
    // planes[ky][c][1 + ix] = x[b, oy + ky - 1, ix, c], zero outside.
    for (let ky = 0; ky < 3; ky++) {
      const iy = oy + ky - 1;
      const inside = iy >= 0 && iy < H;
      const src = x + ((<usize>(b * H + (inside ? iy : 0)) * W * C) << 2);
      for (let c = 0; c < C; c++) {
        const dst = planes + <usize>(ky * C + c) * planeB;
        store<f32>(dst, 0);
        store<f32>(dst + (<usize>(W + 1) << 2), 0);
        if (inside) {
          for (let ix = 0; ix < W; ix++) store<f32>(dst + (<usize>(ix + 1) << 2), load<f32>(src + (<usize>(ix * C + c) << 2)));
        } else zeroF32(dst + 4, W);
      }
    }
    const g = dy + <usize>r * W * ldc;
    for (let t = 0; t < K4; t += 4) {
      // Rows past K repeat tap 0; their sums land in the partial's padding rows.
      const a0 = tapRow(planes, planeB, C, t < K ? t : 0), a1 = tapRow(planes, planeB, C, t + 1 < K ? t + 1 : 0);
      const a2 = tapRow(planes, planeB, C, t + 2 < K ? t + 2 : 0), a3 = tapRow(planes, planeB, C, t + 3 < K ? t + 3 : 0);
      const cr = partial + <usize>t * ldc;
      for (let j = 0; j < N; j += 8) {
        const cj = cr + (<usize>j << 2);
        let c00 = z, c01 = z, c10 = z, c11 = z, c20 = z, c21 = z, c30 = z, c31 = z;
        let gp = g + (<usize>j << 2);
        for (let k: usize = 0; k < kEnd; k += 4) {
          const b0 = v128.load(gp), b1 = v128.load(gp, 16);
          const x0 = v128.load32_splat(a0 + k);
          c00 = madd(c00, x0, b0); c01 = madd(c01, x0, b1);
          const x1 = v128.load32_splat(a1 + k);
          c10 = madd(c10, x1, b0); c11 = madd(c11, x1, b1);
          const x2 = v128.load32_splat(a2 + k);
          c20 = madd(c20, x2, b0); c21 = madd(c21, x2, b1);
          const x3 = v128.load32_splat(a3 + k);
          c30 = madd(c30, x3, b0); c31 = madd(c31, x3, b1);
          gp += ldc;
        }
        v128.store(cj, f32x4.add(v128.load(cj), c00)); v128.store(cj, f32x4.add(v128.load(cj, 16), c01), 16);
        v128.store(cj + ldc, f32x4.add(v128.load(cj + ldc), c10)); v128.store(cj + ldc, f32x4.add(v128.load(cj + ldc, 16), c11), 16);
        v128.store(cj + 2 * ldc, f32x4.add(v128.load(cj + 2 * ldc), c20)); v128.store(cj + 2 * ldc, f32x4.add(v128.load(cj + 2 * ldc, 16), c21), 16);
        v128.store(cj + 3 * ldc, f32x4.add(v128.load(cj + 3 * ldc), c30)); v128.store(cj + 3 * ldc, f32x4.add(v128.load(cj + 3 * ldc, 16), c31), 16);
      }
    }
  }
}

/** Start of tap t's row (over output pixels) in the planar rows: tap t = (ky*3 + kx)*C + c. */
// @ts-ignore: decorator
@inline function tapRow(planes: usize, planeB: usize, C: i32, t: i32): usize {
  const ky = t / (3 * C), rem = t - ky * 3 * C, kx = rem / C, c = rem - kx * C;
  return planes + <usize>(ky * C + c) * planeB + (<usize>kx << 2);
}

/** Bytes of the filter gradient's scratch per part: the partial, then the planar rows. */
export function conv3x3SmallGradFilterBytes(W: i32, C: i32, N: i32): usize {
  return ((<usize>((9 * C + 3) & ~3) * N + <usize>3 * C * (W + 2)) << 2) + 64;
}
