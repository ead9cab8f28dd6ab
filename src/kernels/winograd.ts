// Winograd F(2x2, 3x3) for 3x3, stride-1, 'same' convolutions (Lavin & Gray, 2015): each 2x2
// block of outputs costs 16 multiply-adds per channel pair instead of 36. Per 4x4 input tile,
//   Y = A^T [ U (.) V ] A,  U = G g G^T (per input/output channel pair),  V = B^T d B,
// where the 16 elementwise products, summed over input channels, are 16 independent GEMMs
// [tiles x Cin] x [Cin x Cout] run on the packed GEMM engine. The input gradient of the same
// convolution is the same computation on dy with the kernel flipped and its channel axes swapped.
//
// Parameter block: Conv of ./params (IN0 input read, IN1 kernel, BIAS, OUT, SCRATCH, PER_PART)
// with WINO_MODE (0 forward, 1 input gradient), WINO_U (the packed transformed kernel), WINO_TB
// (tiles per block), WINO_PARTS and WINO_NONFINITE.
//
// Non-finite inputs: the transforms add and subtract a tile's inputs, so one infinity gives inf - inf
// = NaN in outputs where the direct sums give +-inf. An infinity or NaN in a tile's input reaches
// every product of its transformed values (inf * w is +-inf, inf * 0 and NaN * w are NaN) and stays
// in every sum it enters, so the kernels check what they compute anyway, where it is smallest: the
// forward sums the 4 outputs of each tile before the activation (per 4 output channels), the filter
// gradient its part's partial sums once at the end. A non-finite sum (finite values could only
// overflow it, a needless fallback, never a wrong result) sets WINO_NONFINITE and the part stops;
// the host then computes the whole call the direct way.
import { pi, pu, partStart } from './common';
import { gemmBlock, NR } from './gemm';

import { KCW } from './constants';
import { Conv } from './params';

/** True when some lane of `s` is an infinity or NaN (s - s is NaN exactly there). */
// @ts-ignore: decorator
@inline function nonFinite(s: v128): bool { const d = f32x4.sub(s, s); return v128.any_true(f32x4.ne(d, d)); }

/** Marks the call as met a non-finite input (see the top of this file). */
// @ts-ignore: decorator
@inline function flagNonFinite(p: usize): void { store<i32>(p + (<usize>Conv.WINO_NONFINITE << 2), 1); }
// @ts-ignore: decorator
@inline function flagged(p: usize): bool { return load<i32>(p + (<usize>Conv.WINO_NONFINITE << 2)) != 0; }

/** Channels read (Cin) and written (Cout) by a Winograd call in `mode`. */
// @ts-ignore: decorator
@inline function cinOf(p: usize): i32 { return pi(p, Conv.WINO_MODE) ? pi(p, Conv.OUT_C) : pi(p, Conv.IN_C); }
// @ts-ignore: decorator
@inline function coutOf(p: usize): i32 { return pi(p, Conv.WINO_MODE) ? pi(p, Conv.IN_C) : pi(p, Conv.OUT_C); }

/**
 * Kernel transform, parts over input channels: U[xi] is a [Cin x Cout] GEMM operand packed in
 * panels of NR columns (zero-padded), U[xi][c][k] = (G g G^T)[xi] for the 3x3 filter g of (c, k),
 * computed in float64. Forward: g = w[:, :, c, k]; input gradient: g = w[2-ky, 2-kx, k, c].
 */
export function k_wino_weights(p: usize, part: i32, parts: i32): void {
  const inC = pi(p, Conv.IN_C), outC = pi(p, Conv.OUT_C), mode = pi(p, Conv.WINO_MODE);
  const w = pu(p, Conv.IN1), U = pu(p, Conv.WINO_U);
  const cin = cinOf(p), cout = coutOf(p);
  const kp = (cout + NR - 1) / NR * NR;
  const c0 = partStart(cin, part, parts, 1), c1 = partStart(cin, part + 1, parts, 1);
  const plane: usize = (<usize>cin * kp) << 2;
  for (let c = c0; c < c1; c++) {
    for (let k = 0; k < kp; k++) {
      // g[ky][kx] into 9 locals.
      let g00: f64 = 0, g01: f64 = 0, g02: f64 = 0, g10: f64 = 0, g11: f64 = 0, g12: f64 = 0, g20: f64 = 0, g21: f64 = 0, g22: f64 = 0;
      if (k < cout) {
        // Element (ky, kx) of the filter of pair (c, k) sits at w + (((ky*3 + kx) * inC + ic) * outC + oc) * 4.
        let ic = c, oc = k, flip = false;
        if (mode) { ic = k; oc = c; flip = true; }
        const base = w + ((<usize>ic * outC + oc) << 2);
        const step: usize = (<usize>inC * outC) << 2;
        const t0 = load<f32>(base), t1 = load<f32>(base + step), t2 = load<f32>(base + 2 * step);
        const t3 = load<f32>(base + 3 * step), t4 = load<f32>(base + 4 * step), t5 = load<f32>(base + 5 * step);
        const t6 = load<f32>(base + 6 * step), t7 = load<f32>(base + 7 * step), t8 = load<f32>(base + 8 * step);
        if (flip) {
          g00 = t8; g01 = t7; g02 = t6; g10 = t5; g11 = t4; g12 = t3; g20 = t2; g21 = t1; g22 = t0;
        } else {
          g00 = t0; g01 = t1; g02 = t2; g10 = t3; g11 = t4; g12 = t5; g20 = t6; g21 = t7; g22 = t8;
        }
      }
      // Rows: G g (4x3).
      const r00 = g00, r01 = g01, r02 = g02;
      const r10 = (g00 + g10 + g20) * 0.5, r11 = (g01 + g11 + g21) * 0.5, r12 = (g02 + g12 + g22) * 0.5;
      const r20 = (g00 - g10 + g20) * 0.5, r21 = (g01 - g11 + g21) * 0.5, r22 = (g02 - g12 + g22) * 0.5;
      const r30 = g20, r31 = g21, r32 = g22;
      // Columns: (G g) G^T (4x4), stored at U + xi*plane + panel*cin*NR + c*NR + (k % NR).
      const dst = U + ((<usize>(k / NR) * cin * NR + <usize>c * NR + (k % NR)) << 2);
      wstore(dst, plane, 0, r00, r01, r02);
      wstore(dst, plane, 4, r10, r11, r12);
      wstore(dst, plane, 8, r20, r21, r22);
      wstore(dst, plane, 12, r30, r31, r32);
    }
  }
}

// @ts-ignore: decorator
@inline function wstore(dst: usize, plane: usize, xi: i32, a: f64, b: f64, c: f64): void {
  store<f32>(dst + <usize>xi * plane, <f32>a);
  store<f32>(dst + <usize>(xi + 1) * plane, <f32>((a + b + c) * 0.5));
  store<f32>(dst + <usize>(xi + 2) * plane, <f32>((a - b + c) * 0.5));
  store<f32>(dst + <usize>(xi + 3) * plane, <f32>c);
}

/** Bytes of the packed transformed kernel U. */
export function winoWeightBytes(cin: i32, cout: i32): usize {
  return (<usize>16 * cin * ((cout + NR - 1) / NR * NR)) << 2;
}

/**
 * The convolution, parts over 2x2 output tiles: per block of tiles, input transform into 16
 * planes [tiles x Cin], 16 GEMMs with U into planes [tiles x Cout], output transform (+ bias,
 * relu) into the output. Every output is computed by exactly one part, the same way whichever
 * thread runs it, so results do not depend on the thread count.
 */
export function k_conv2d_wino(p: usize, part: i32, parts: i32): void {
  const batch = pi(p, Conv.BATCH), mode = pi(p, Conv.WINO_MODE);
  const H = mode ? pi(p, Conv.OUT_H) : pi(p, Conv.IN_H), W = mode ? pi(p, Conv.OUT_W) : pi(p, Conv.IN_W);
  const cin = cinOf(p), cout = coutOf(p);
  const x = pu(p, Conv.IN0), bias: usize = mode ? <usize>0 : pu(p, Conv.BIAS), out = pu(p, Conv.OUT), U = pu(p, Conv.WINO_U);
  const relu = mode ? 0 : (pi(p, Conv.ACT) == 1 ? 1 : 0);
  const TB = pi(p, Conv.WINO_TB);
  const tH = (H + 1) >> 1, tW = (W + 1) >> 1, tHW = tH * tW;
  const T = batch * tHW;
  const t0 = partStart(T, part, parts, 1), t1 = partStart(T, part + 1, parts, 1);
  if (t0 >= t1) return;
  const scratch = pu(p, Conv.SCRATCH) + <usize>part * pu(p, Conv.PER_PART);
  const V = scratch;
  const vPlane: usize = (<usize>TB * cin) << 2;
  const M = V + 16 * vPlane;
  const mPlane: usize = (<usize>TB * cout) << 2;
  const tile = M + 16 * mPlane;
  const kp = (cout + NR - 1) / NR * NR;
  const uPlane: usize = (<usize>cin * kp) << 2;
  const pstride: usize = (<usize>cin * NR) << 2;
  const rowBytes: usize = (<usize>W * cin) << 2;
  const lda: usize = <usize>cin << 2, ldc: usize = <usize>cout << 2;
  const z = f32x4.splat(0);
  for (let tb = t0; tb < t1; tb += TB) {
    if (flagged(p)) return; // another part met a non-finite input: the host recomputes the call
    const nt = min(TB, t1 - tb);
    // Input transform: V = B^T d B per tile and group of 4 channels.
    for (let t = 0; t < nt; t++) {
      const r = tb + t;
      const b = r / tHW, rem = r - b * tHW, ty = rem / tW, tx = rem - ty * tW;
      const y0 = 2 * ty - 1, x0 = 2 * tx - 1;
      const img = x + <usize>b * H * rowBytes;
      // Rows/columns of the 4x4 window inside the image (the rest reads as zeros).
      const ry0 = y0 >= 0, ry2 = y0 + 2 < H, ry3 = y0 + 3 < H;
      const cx0 = x0 >= 0, cx2 = x0 + 2 < W, cx3 = x0 + 3 < W;
      const p0 = img + <usize>select<i32>(y0, 0, ry0) * rowBytes, p1 = img + <usize>(y0 + 1) * rowBytes;
      const p2 = img + <usize>select<i32>(y0 + 2, 0, ry2) * rowBytes, p3 = img + <usize>select<i32>(y0 + 3, 0, ry3) * rowBytes;
      const o0: usize = (<usize>select<i32>(x0, 0, cx0) * cin) << 2, o1: usize = (<usize>(x0 + 1) * cin) << 2;
      const o2: usize = (<usize>select<i32>(x0 + 2, 0, cx2) * cin) << 2, o3: usize = (<usize>select<i32>(x0 + 3, 0, cx3) * cin) << 2;
      const dv = V + ((<usize>t * cin) << 2);
      const v00 = ry0 && cx0, v01 = ry0, v02 = ry0 && cx2, v03 = ry0 && cx3;
      const v20 = ry2 && cx0, v22 = ry2 && cx2, v23 = ry2 && cx3;
      const v30 = ry3 && cx0, v32 = ry3 && cx2, v33 = ry3 && cx3;
      for (let c = 0; c < cin; c += 4) {
        const co: usize = <usize>c << 2;
        const q0 = p0 + co, q1 = p1 + co, q2 = p2 + co, q3 = p3 + co;
        // The window's 16 vectors (addresses are clamped inside the image; outside reads as 0).
        const d00 = select<v128>(v128.load(q0 + o0), z, v00);
        const d01 = select<v128>(v128.load(q0 + o1), z, v01);
        const d02 = select<v128>(v128.load(q0 + o2), z, v02);
        const d03 = select<v128>(v128.load(q0 + o3), z, v03);
        const d10 = select<v128>(v128.load(q1 + o0), z, cx0);
        const d11 = v128.load(q1 + o1);
        const d12 = select<v128>(v128.load(q1 + o2), z, cx2);
        const d13 = select<v128>(v128.load(q1 + o3), z, cx3);
        const d20 = select<v128>(v128.load(q2 + o0), z, v20);
        const d21 = select<v128>(v128.load(q2 + o1), z, ry2);
        const d22 = select<v128>(v128.load(q2 + o2), z, v22);
        const d23 = select<v128>(v128.load(q2 + o3), z, v23);
        const d30 = select<v128>(v128.load(q3 + o0), z, v30);
        const d31 = select<v128>(v128.load(q3 + o1), z, ry3);
        const d32 = select<v128>(v128.load(q3 + o2), z, v32);
        const d33 = select<v128>(v128.load(q3 + o3), z, v33);
        // Along x: e = d B.
        const e00 = f32x4.sub(d00, d02), e01 = f32x4.add(d01, d02), e02 = f32x4.sub(d02, d01), e03 = f32x4.sub(d01, d03);
        const e10 = f32x4.sub(d10, d12), e11 = f32x4.add(d11, d12), e12 = f32x4.sub(d12, d11), e13 = f32x4.sub(d11, d13);
        const e20 = f32x4.sub(d20, d22), e21 = f32x4.add(d21, d22), e22 = f32x4.sub(d22, d21), e23 = f32x4.sub(d21, d23);
        const e30 = f32x4.sub(d30, d32), e31 = f32x4.add(d31, d32), e32 = f32x4.sub(d32, d31), e33 = f32x4.sub(d31, d33);
        // Along y: V = B^T e, plane 4i + j.
        const dst = dv + co;
        v128.store(dst + 0 * vPlane, f32x4.sub(e00, e20));
        v128.store(dst + 4 * vPlane, f32x4.add(e10, e20));
        v128.store(dst + 8 * vPlane, f32x4.sub(e20, e10));
        v128.store(dst + 12 * vPlane, f32x4.sub(e10, e30));
        v128.store(dst + 1 * vPlane, f32x4.sub(e01, e21));
        v128.store(dst + 5 * vPlane, f32x4.add(e11, e21));
        v128.store(dst + 9 * vPlane, f32x4.sub(e21, e11));
        v128.store(dst + 13 * vPlane, f32x4.sub(e11, e31));
        v128.store(dst + 2 * vPlane, f32x4.sub(e02, e22));
        v128.store(dst + 6 * vPlane, f32x4.add(e12, e22));
        v128.store(dst + 10 * vPlane, f32x4.sub(e22, e12));
        v128.store(dst + 14 * vPlane, f32x4.sub(e12, e32));
        v128.store(dst + 3 * vPlane, f32x4.sub(e03, e23));
        v128.store(dst + 7 * vPlane, f32x4.add(e13, e23));
        v128.store(dst + 11 * vPlane, f32x4.sub(e23, e13));
        v128.store(dst + 15 * vPlane, f32x4.sub(e13, e33));
      }
    }
    // 16 GEMMs: M[xi] = V[xi] * U[xi].
    for (let xi = 0; xi < 16; xi++) {
      for (let pc = 0; pc < cin; pc += KCW) {
        const kc = min(KCW, cin - pc);
        gemmBlock(nt, kc, V + <usize>xi * vPlane + (<usize>pc << 2), lda, U + <usize>xi * uPlane + ((<usize>pc * NR) << 2), pstride,
          0, cout, M + <usize>xi * mPlane, ldc, pc > 0 ? 1 : 0, 0, 0, tile);
      }
    }
    // Output transform: Y = A^T m A, + bias, relu, stored where inside the image.
    let chk = z;
    for (let t = 0; t < nt; t++) {
      const r = tb + t;
      const b = r / tHW, rem = r - b * tHW, ty = rem / tW, tx = rem - ty * tW;
      const yy = 2 * ty, xx = 2 * tx;
      const down = yy + 1 < H, right = xx + 1 < W;
      const q00 = out + ((<usize>((b * H + yy) * W + xx) * cout) << 2);
      const q10 = q00 + ((<usize>W * cout) << 2);
      const ldo: usize = <usize>cout << 2;
      const mv = M + ((<usize>t * cout) << 2);
      for (let k = 0; k < cout; k += 4) {
        const ko: usize = <usize>k << 2;
        const m = mv + ko;
        // s0 = m0 + m1 + m2, s1 = m1 - m2 - m3 over rows (planes 4i + j).
        const m0 = v128.load(m), m1 = v128.load(m + mPlane), m2 = v128.load(m + 2 * mPlane), m3 = v128.load(m + 3 * mPlane);
        const m4 = v128.load(m + 4 * mPlane), m5 = v128.load(m + 5 * mPlane), m6 = v128.load(m + 6 * mPlane), m7 = v128.load(m + 7 * mPlane);
        const m8 = v128.load(m + 8 * mPlane), m9 = v128.load(m + 9 * mPlane), m10 = v128.load(m + 10 * mPlane), m11 = v128.load(m + 11 * mPlane);
        const m12 = v128.load(m + 12 * mPlane), m13 = v128.load(m + 13 * mPlane), m14 = v128.load(m + 14 * mPlane), m15 = v128.load(m + 15 * mPlane);
        const s00 = f32x4.add(f32x4.add(m0, m4), m8), s01 = f32x4.add(f32x4.add(m1, m5), m9);
        const s02 = f32x4.add(f32x4.add(m2, m6), m10), s03 = f32x4.add(f32x4.add(m3, m7), m11);
        const s10 = f32x4.sub(f32x4.sub(m4, m8), m12), s11 = f32x4.sub(f32x4.sub(m5, m9), m13);
        const s12 = f32x4.sub(f32x4.sub(m6, m10), m14), s13 = f32x4.sub(f32x4.sub(m7, m11), m15);
        let y00 = f32x4.add(f32x4.add(s00, s01), s02), y01 = f32x4.sub(f32x4.sub(s01, s02), s03);
        let y10 = f32x4.add(f32x4.add(s10, s11), s12), y11 = f32x4.sub(f32x4.sub(s11, s12), s13);
        chk = f32x4.add(chk, f32x4.add(f32x4.add(y00, y01), f32x4.add(y10, y11)));
        if (bias) {
          const bv = v128.load(bias + ko);
          y00 = f32x4.add(y00, bv); y01 = f32x4.add(y01, bv); y10 = f32x4.add(y10, bv); y11 = f32x4.add(y11, bv);
        }
        if (relu) {
          y00 = f32x4.pmax(y00, z); y01 = f32x4.pmax(y01, z); y10 = f32x4.pmax(y10, z); y11 = f32x4.pmax(y11, z); // NaN stays NaN
        }
        v128.store(q00 + ko, y00);
        if (right) v128.store(q00 + ldo + ko, y01);
        if (down) {
          v128.store(q10 + ko, y10);
          if (right) v128.store(q10 + ldo + ko, y11);
        }
      }
    }
    if (nonFinite(chk)) { flagNonFinite(p); return; }
  }
}

/** Bytes at the start of each part's scratch holding its partial transformed filter gradient. */
// @ts-ignore: decorator
@inline function partialBytes(cin: i32, cout: i32): usize {
  return ((<usize>16 * cin * cout + 15) & ~15) << 2;
}

/**
 * Filter gradient, phase 1, parts over tiles: each part sums, over its tiles, the 16 products
 * dU[xi] += Z[xi]^T V[xi] with V = B^T d B (input tile) and Z = A dY A^T (its 2x2 block of dy,
 * zero outside the image), into a partial [16][Cout][Cin] at the start of its scratch.
 * Z is stored [16][tiles][Cout] and read transposed by the micro-kernel (no scalar transpose).
 * Conv.IN0 x, IN1 dy, WINO_TB tiles per block.
 */
export function k_conv2d_wino_grad_filter(p: usize, part: i32, parts: i32): void {
  const batch = pi(p, Conv.BATCH), H = pi(p, Conv.IN_H), W = pi(p, Conv.IN_W), cin = pi(p, Conv.IN_C), cout = pi(p, Conv.OUT_C);
  const x = pu(p, Conv.IN0), dy = pu(p, Conv.IN1), TB = pi(p, Conv.WINO_TB);
  const tH = (H + 1) >> 1, tW = (W + 1) >> 1, tHW = tH * tW;
  const T = batch * tHW;
  const t0 = partStart(T, part, parts, 1), t1 = partStart(T, part + 1, parts, 1);
  const scratch = pu(p, Conv.SCRATCH) + <usize>part * pu(p, Conv.PER_PART);
  const dU = scratch;
  const cin8 = (cin + NR - 1) / NR * NR;
  const V = dU + partialBytes(cin, cout);
  const vPlane: usize = (<usize>TB * cin8) << 2;
  const Z = V + 16 * vPlane;
  const zPlane: usize = (<usize>cout * TB) << 2;
  const tile = Z + 16 * zPlane;
  const uPlane: usize = (<usize>cout * cin) << 2;
  if (t0 >= t1) {
    const n = 16 * cout * cin;
    for (let i = 0; i < n; i++) store<f32>(dU + (<usize>i << 2), 0);
    return;
  }
  const rowBytes: usize = (<usize>W * cin) << 2;
  const dyRow: usize = (<usize>W * cout) << 2;
  const ldz: usize = <usize>cout << 2, ldu: usize = <usize>cin << 2;
  const z = f32x4.splat(0);
  for (let tb = t0; tb < t1; tb += TB) {
    const nt = min(TB, t1 - tb);
    for (let t = 0; t < nt; t++) {
      const r = tb + t;
      const b = r / tHW, rem = r - b * tHW, ty = rem / tW, tx = rem - ty * tW;
      const y0 = 2 * ty - 1, x0 = 2 * tx - 1;
      const img = x + <usize>b * H * rowBytes;
      const ry0 = y0 >= 0, ry2 = y0 + 2 < H, ry3 = y0 + 3 < H;
      const cx0 = x0 >= 0, cx2 = x0 + 2 < W, cx3 = x0 + 3 < W;
      const p0 = img + <usize>select<i32>(y0, 0, ry0) * rowBytes, p1 = img + <usize>(y0 + 1) * rowBytes;
      const p2 = img + <usize>select<i32>(y0 + 2, 0, ry2) * rowBytes, p3 = img + <usize>select<i32>(y0 + 3, 0, ry3) * rowBytes;
      const o0: usize = (<usize>select<i32>(x0, 0, cx0) * cin) << 2, o1: usize = (<usize>(x0 + 1) * cin) << 2;
      const o2: usize = (<usize>select<i32>(x0 + 2, 0, cx2) * cin) << 2, o3: usize = (<usize>select<i32>(x0 + 3, 0, cx3) * cin) << 2;
      const v00 = ry0 && cx0, v01 = ry0, v02 = ry0 && cx2, v03 = ry0 && cx3;
      const v20 = ry2 && cx0, v22 = ry2 && cx2, v23 = ry2 && cx3;
      const v30 = ry3 && cx0, v32 = ry3 && cx2, v33 = ry3 && cx3;
      // V into GEMM B panels of NR channels: element (t, c) at panel c/NR, row t, lane c%NR.
      const dv = V + ((<usize>t * NR) << 2);
      for (let c = 0; c < cin; c += 4) {
        const co: usize = <usize>c << 2;
        const q0 = p0 + co, q1 = p1 + co, q2 = p2 + co, q3 = p3 + co;
        const d00 = select<v128>(v128.load(q0 + o0), z, v00);
        const d01 = select<v128>(v128.load(q0 + o1), z, v01);
        const d02 = select<v128>(v128.load(q0 + o2), z, v02);
        const d03 = select<v128>(v128.load(q0 + o3), z, v03);
        const d10 = select<v128>(v128.load(q1 + o0), z, cx0);
        const d11 = v128.load(q1 + o1);
        const d12 = select<v128>(v128.load(q1 + o2), z, cx2);
        const d13 = select<v128>(v128.load(q1 + o3), z, cx3);
        const d20 = select<v128>(v128.load(q2 + o0), z, v20);
        const d21 = select<v128>(v128.load(q2 + o1), z, ry2);
        const d22 = select<v128>(v128.load(q2 + o2), z, v22);
        const d23 = select<v128>(v128.load(q2 + o3), z, v23);
        const d30 = select<v128>(v128.load(q3 + o0), z, v30);
        const d31 = select<v128>(v128.load(q3 + o1), z, ry3);
        const d32 = select<v128>(v128.load(q3 + o2), z, v32);
        const d33 = select<v128>(v128.load(q3 + o3), z, v33);
        const e00 = f32x4.sub(d00, d02), e01 = f32x4.add(d01, d02), e02 = f32x4.sub(d02, d01), e03 = f32x4.sub(d01, d03);
        const e10 = f32x4.sub(d10, d12), e11 = f32x4.add(d11, d12), e12 = f32x4.sub(d12, d11), e13 = f32x4.sub(d11, d13);
        const e20 = f32x4.sub(d20, d22), e21 = f32x4.add(d21, d22), e22 = f32x4.sub(d22, d21), e23 = f32x4.sub(d21, d23);
        const e30 = f32x4.sub(d30, d32), e31 = f32x4.add(d31, d32), e32 = f32x4.sub(d32, d31), e33 = f32x4.sub(d31, d33);
        const dst = dv + (<usize>(c / NR) * TB * NR << 2) + (<usize>(c & (NR - 1)) << 2);
        v128.store(dst + 0 * vPlane, f32x4.sub(e00, e20));
        v128.store(dst + 4 * vPlane, f32x4.add(e10, e20));
        v128.store(dst + 8 * vPlane, f32x4.sub(e20, e10));
        v128.store(dst + 12 * vPlane, f32x4.sub(e10, e30));
        v128.store(dst + 1 * vPlane, f32x4.sub(e01, e21));
        v128.store(dst + 5 * vPlane, f32x4.add(e11, e21));
        v128.store(dst + 9 * vPlane, f32x4.sub(e21, e11));
        v128.store(dst + 13 * vPlane, f32x4.sub(e11, e31));
        v128.store(dst + 2 * vPlane, f32x4.sub(e02, e22));
        v128.store(dst + 6 * vPlane, f32x4.add(e12, e22));
        v128.store(dst + 10 * vPlane, f32x4.sub(e22, e12));
        v128.store(dst + 14 * vPlane, f32x4.sub(e12, e32));
        v128.store(dst + 3 * vPlane, f32x4.sub(e03, e23));
        v128.store(dst + 7 * vPlane, f32x4.add(e13, e23));
        v128.store(dst + 11 * vPlane, f32x4.sub(e23, e13));
        v128.store(dst + 15 * vPlane, f32x4.sub(e13, e33));
      }
      // Z = A dY A^T, stored as Z[xi][t][k].
      const yy = 2 * ty, xx = 2 * tx;
      const down = yy + 1 < H, right = xx + 1 < W;
      const g00 = dy + ((<usize>((b * H + yy) * W + xx) * cout) << 2);
      const g01 = g00 + (right ? (<usize>cout << 2) : 0);
      const g10 = g00 + (down ? dyRow : 0);
      const g11 = g10 + (right ? (<usize>cout << 2) : 0);
      const both = down && right;
      const zt = Z + <usize>t * ldz;
      for (let k = 0; k < cout; k += 4) {
        const ko: usize = <usize>k << 2;
        const y00 = v128.load(g00 + ko);
        const y01 = select<v128>(v128.load(g01 + ko), z, right);
        const y10 = select<v128>(v128.load(g10 + ko), z, down);
        const y11 = select<v128>(v128.load(g11 + ko), z, both);
        // Rows: w0 = dy0, w1 = dy0 + dy1, w2 = dy0 - dy1, w3 = -dy1; then the same along x.
        const w10 = f32x4.add(y00, y10), w11 = f32x4.add(y01, y11);
        const w20 = f32x4.sub(y00, y10), w21 = f32x4.sub(y01, y11);
        const dst = zt + ko;
        zstore(dst, zPlane, 0, y00, y01, false);
        zstore(dst, zPlane, 4, w10, w11, false);
        zstore(dst, zPlane, 8, w20, w21, false);
        zstore(dst, zPlane, 12, y10, y11, true);
      }
    }
    // dU[xi] (+)= Z[xi]^T V[xi]: [Cout x nt] x [nt x Cin], Z read transposed by the micro-kernel.
    for (let xi = 0; xi < 16; xi++) {
      const zx = Z + <usize>xi * zPlane, vx = V + <usize>xi * vPlane, ux = dU + <usize>xi * uPlane;
      for (let j = 0; j < cin; j += NR) {
        const pbj = vx + ((<usize>(j / NR) * TB * NR) << 2);
        const half = cin - j < NR;
        for (let i = 0; i < cout; i += 4) {
          microT(nt, zx + (<usize>i << 2), ldz, pbj, ux + <usize>i * ldu + (<usize>j << 2), ldu, tb > t0, half);
        }
      }
    }
  }
  // The partial sums are non-finite when a tile's x or dy held an infinity or NaN (see the top of this file).
  let chk = z;
  const bytes: usize = (<usize>16 * cout * cin) << 2;
  for (let o: usize = 0; o < bytes; o += 16) chk = f32x4.add(chk, v128.load(dU + o));
  if (nonFinite(chk)) flagNonFinite(p);
}

/**
 * C[4 x 8] (+)= A^T B for A [kc x 4] read as rows of lda bytes and B a packed panel (kc x 8);
 * `half`: only C's first 4 columns are stored.
 */
// @ts-ignore: decorator
@inline function microT(kc: i32, a: usize, lda: usize, pb: usize, c: usize, ldc: usize, beta: bool, half: bool): void {
  const z = f32x4.splat(0);
  let c00 = z, c01 = z, c10 = z, c11 = z, c20 = z, c21 = z, c30 = z, c31 = z;
  for (let k = 0; k < kc; k++) {
    const b0 = v128.load(pb), b1 = v128.load(pb, 16);
    const x0 = v128.load32_splat(a);
    c00 = f32x4.add(c00, f32x4.mul(x0, b0)); c01 = f32x4.add(c01, f32x4.mul(x0, b1));
    const x1 = v128.load32_splat(a, 4);
    c10 = f32x4.add(c10, f32x4.mul(x1, b0)); c11 = f32x4.add(c11, f32x4.mul(x1, b1));
    const x2 = v128.load32_splat(a, 8);
    c20 = f32x4.add(c20, f32x4.mul(x2, b0)); c21 = f32x4.add(c21, f32x4.mul(x2, b1));
    const x3 = v128.load32_splat(a, 12);
    c30 = f32x4.add(c30, f32x4.mul(x3, b0)); c31 = f32x4.add(c31, f32x4.mul(x3, b1));
    a += lda; pb += NR << 2;
  }
  if (beta) {
    c00 = f32x4.add(c00, v128.load(c)); c10 = f32x4.add(c10, v128.load(c + ldc));
    c20 = f32x4.add(c20, v128.load(c + 2 * ldc)); c30 = f32x4.add(c30, v128.load(c + 3 * ldc));
    if (!half) {
      c01 = f32x4.add(c01, v128.load(c, 16)); c11 = f32x4.add(c11, v128.load(c + ldc, 16));
      c21 = f32x4.add(c21, v128.load(c + 2 * ldc, 16)); c31 = f32x4.add(c31, v128.load(c + 3 * ldc, 16));
    }
  }
  v128.store(c, c00); v128.store(c + ldc, c10); v128.store(c + 2 * ldc, c20); v128.store(c + 3 * ldc, c30);
  if (!half) {
    v128.store(c, c01, 16); v128.store(c + ldc, c11, 16); v128.store(c + 2 * ldc, c21, 16); v128.store(c + 3 * ldc, c31, 16);
  }
}

/** Stores row i of Z (planes xi..xi+3: a, a + b, a - b, -b; negated when `neg`). */
// @ts-ignore: decorator
@inline function zstore(dst: usize, zPlane: usize, xi: i32, a: v128, b: v128, neg: bool): void {
  let z0 = a, z1 = f32x4.add(a, b), z2 = f32x4.sub(a, b), z3 = f32x4.neg(b);
  if (neg) { z0 = f32x4.neg(z0); z1 = f32x4.neg(z1); z2 = f32x4.neg(z2); z3 = f32x4.neg(z3); }
  v128.store(dst + <usize>xi * zPlane, z0);
  v128.store(dst + <usize>(xi + 1) * zPlane, z1);
  v128.store(dst + <usize>(xi + 2) * zPlane, z2);
  v128.store(dst + <usize>(xi + 3) * zPlane, z3);
}

/**
 * Filter gradient, phase 2, parts over input channels: dw[:, :, c, k] = G^T dU G with dU the
 * sum, in part order, of the phase-1 partials. Conv.OUT dw, SCRATCH, PER_PART,
 * WINO_PARTS phase-1 parts.
 */
export function k_conv2d_wino_grad_filter_sum(p: usize, part: i32, parts: i32): void {
  const cin = pi(p, Conv.IN_C), cout = pi(p, Conv.OUT_C);
  const dw = pu(p, Conv.OUT), scratch = pu(p, Conv.SCRATCH), stride = pu(p, Conv.PER_PART), n = pi(p, Conv.WINO_PARTS);
  const c0 = partStart(cin, part, parts, 1), c1 = partStart(cin, part + 1, parts, 1);
  const uPlane: usize = (<usize>cout * cin) << 2;
  const tap: usize = (<usize>cin * cout) << 2;
  for (let c = c0; c < c1; c++) {
    for (let k = 0; k < cout; k++) {
      const off: usize = (<usize>k * cin + c) << 2;
      // u_ij summed over parts, then t = G^T u (rows), r = t G (columns).
      let u0: f32 = 0, u1: f32 = 0, u2: f32 = 0, u3: f32 = 0, u4: f32 = 0, u5: f32 = 0, u6: f32 = 0, u7: f32 = 0;
      let u8: f32 = 0, u9: f32 = 0, u10: f32 = 0, u11: f32 = 0, u12: f32 = 0, u13: f32 = 0, u14: f32 = 0, u15: f32 = 0;
      for (let q = 0; q < n; q++) {
        const s = scratch + <usize>q * stride + off;
        u0 += load<f32>(s); u1 += load<f32>(s + uPlane); u2 += load<f32>(s + 2 * uPlane); u3 += load<f32>(s + 3 * uPlane);
        u4 += load<f32>(s + 4 * uPlane); u5 += load<f32>(s + 5 * uPlane); u6 += load<f32>(s + 6 * uPlane); u7 += load<f32>(s + 7 * uPlane);
        u8 += load<f32>(s + 8 * uPlane); u9 += load<f32>(s + 9 * uPlane); u10 += load<f32>(s + 10 * uPlane); u11 += load<f32>(s + 11 * uPlane);
        u12 += load<f32>(s + 12 * uPlane); u13 += load<f32>(s + 13 * uPlane); u14 += load<f32>(s + 14 * uPlane); u15 += load<f32>(s + 15 * uPlane);
      }
      // Rows a = 0..2 of G^T u: u0j + (u1j + u2j)/2, (u1j - u2j)/2, (u1j + u2j)/2 + u3j.
      const t00 = u0 + (u4 + u8) * 0.5, t01 = u1 + (u5 + u9) * 0.5, t02 = u2 + (u6 + u10) * 0.5, t03 = u3 + (u7 + u11) * 0.5;
      const t10 = (u4 - u8) * 0.5, t11 = (u5 - u9) * 0.5, t12 = (u6 - u10) * 0.5, t13 = (u7 - u11) * 0.5;
      const t20 = (u4 + u8) * 0.5 + u12, t21 = (u5 + u9) * 0.5 + u13, t22 = (u6 + u10) * 0.5 + u14, t23 = (u7 + u11) * 0.5 + u15;
      const d = dw + ((<usize>c * cout + k) << 2);
      gstore(d, tap, 0, t00, t01, t02, t03);
      gstore(d, tap, 3, t10, t11, t12, t13);
      gstore(d, tap, 6, t20, t21, t22, t23);
    }
  }
}

// @ts-ignore: decorator
@inline function gstore(d: usize, tap: usize, s: i32, a: f32, b: f32, c: f32, e: f32): void {
  store<f32>(d + <usize>s * tap, a + (b + c) * 0.5);
  store<f32>(d + <usize>(s + 1) * tap, (b - c) * 0.5);
  store<f32>(d + <usize>(s + 2) * tap, (b + c) * 0.5 + e);
}

/** Bytes of phase-1 scratch per part of the Winograd filter gradient with `tb` tiles per block. */
export function winoGradFilterBytes(cin: i32, cout: i32, tb: i32): usize {
  const cin8 = (cin + NR - 1) / NR * NR;
  return partialBytes(cin, cout) + ((<usize>16 * tb * (cin8 + cout)) << 2) + 128;
}
