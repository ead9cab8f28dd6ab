// conv2d in NHWC with HWIO kernels, forward and both gradients, as GEMMs over im2col tiles.
// A tile holds at most MC rows of the im2col matrix, never the whole batch's (4 GiB heap).
//
// Parameter block: Conv of ./params (shape, activation, inputs, output, scratch, Conv.NC);
// k_conv2d_grad_filter_sum: GradSum.
import { pi, pu, pf, partStart, copyF32, zeroF32, actRows, A_RELU, A_LINEAR } from './common';
import { gemmBlock, packB, MR, NR, MC } from './gemm';

import { KCMAX, KCP } from './constants';
import { Conv, GradSum } from './params';

function kBlock(K: i32): i32 {
  const nb = (K + KCMAX - 1) / KCMAX;
  return (K + nb - 1) / nb;
}

/**
 * Row r of the im2col matrix of x, columns [pc, pc+kc), written to dst: one output pixel's
 * receptive field, channels fastest, zeros where the window leaves the image.
 */
// @ts-ignore: decorator
@inline function im2colRow(p: usize, x: usize, r: i32, pc: i32, kc: i32, dst: usize): void {
  const inH = pi(p, Conv.IN_H), inW = pi(p, Conv.IN_W), inC = pi(p, Conv.IN_C), outH = pi(p, Conv.OUT_H), outW = pi(p, Conv.OUT_W), kW = pi(p, Conv.K_W);
  const hw = outH * outW;
  const b = r / hw, rem = r - b * hw, oy = rem / outW, ox = rem - oy * outW;
  const iy0 = oy * pi(p, Conv.STRIDE_H) - pi(p, Conv.PAD_TOP), ix0 = ox * pi(p, Conv.STRIDE_W) - pi(p, Conv.PAD_LEFT);
  const dH = pi(p, Conv.DILATION_H), dW = pi(p, Conv.DILATION_W);
  // With dilationW 1, a whole kernel row inside the image is one run of kW*inC floats.
  const rowRun = dW == 1 && ix0 >= 0 && ix0 + kW <= inW;
  let s = pc / inC, icOff = pc - s * inC, kk = 0;
  while (kk < kc) {
    const ky = s / kW, kx = s - ky * kW;
    let len = min(inC - icOff, kc - kk);
    const iy = iy0 + ky * dH, ix = ix0 + kx * dW;
    if (rowRun) len = min((kW - kx) * inC - icOff, kc - kk);
    const d = dst + (<usize>kk << 2);
    if (<u32>iy < <u32>inH && <u32>ix < <u32>inW) {
      copyF32(d, x + ((<usize>((b * inH + iy) * inW + ix) * inC + icOff) << 2), len);
    } else zeroF32(d, len);
    kk += len; icOff += len;
    const ds = icOff / inC;
    s += ds; icOff -= ds * inC;
  }
}

/** Forward: out = act(im2col(x) * w + bias). Conv.IN0 x, IN1 w, BIAS (or 0), OUT. */
export function k_conv2d(p: usize, part: i32, parts: i32): void {
  const batch = pi(p, Conv.BATCH), inC = pi(p, Conv.IN_C), outH = pi(p, Conv.OUT_H), outW = pi(p, Conv.OUT_W), outC = pi(p, Conv.OUT_C);
  const kH = pi(p, Conv.K_H), kW = pi(p, Conv.K_W), act = pi(p, Conv.ACT), alpha = pf(p, Conv.ALPHA);
  const x = pu(p, Conv.IN0), w = pu(p, Conv.IN1), bias = pu(p, Conv.BIAS), out = pu(p, Conv.OUT);
  const M = batch * outH * outW, K = kH * kW * inC, N = outC;
  const m0 = partStart(M, part, parts, MR), m1 = partStart(M, part + 1, parts, MR);
  if (m0 >= m1) return;
  const nc = pi(p, Conv.NC);
  const scratch = pu(p, Conv.SCRATCH) + <usize>part * pu(p, Conv.PER_PART);
  const pb = scratch;
  const pstride: usize = (<usize>K * NR) << 2;
  const at = pb + ((<usize>K * ((nc + NR - 1) / NR * NR)) << 2);
  const KC = kBlock(K);
  const tile = at + ((<usize>MC * KC) << 2);
  const ldc: usize = <usize>N << 2;
  for (let jc = 0; jc < N; jc += nc) {
    const jn = min(N, jc + nc);
    packB(w, <usize>N << 2, 4, 0, K, jc, jn, pb);
    for (let ic = m0; ic < m1; ic += MC) {
      const mc = min(MC, m1 - ic);
      for (let pc = 0; pc < K; pc += KC) {
        const kc = min(KC, K - pc);
        for (let i = 0; i < mc; i++) im2colRow(p, x, ic + i, pc, kc, at + ((<usize>i * kc) << 2));
        const last = pc + kc >= K;
        gemmBlock(mc, kc, at, <usize>kc << 2, pb + ((<usize>pc * NR) << 2), pstride, jc, jn,
          out + <usize>ic * ldc, ldc, pc > 0 ? 1 : 0, last ? bias : 0, last && act == A_RELU ? 1 : 0, tile);
      }
      if (act != A_LINEAR && act != A_RELU) actRows(act, alpha, out + <usize>ic * ldc + (<usize>jc << 2), mc, jn - jc, ldc);
    }
  }
}

/**
 * Gradient w.r.t. the input, gathered (no scatter, so parts never collide): dx pixel (iy, ix)
 * takes dy at oy = (iy + padTop - ky*dH) / strideH wherever that divides and is inside.
 * Conv.IN0 dy, IN1 w, OUT dx.
 */
export function k_conv2d_grad_input(p: usize, part: i32, parts: i32): void {
  const batch = pi(p, Conv.BATCH), inH = pi(p, Conv.IN_H), inW = pi(p, Conv.IN_W), inC = pi(p, Conv.IN_C), outH = pi(p, Conv.OUT_H), outW = pi(p, Conv.OUT_W), outC = pi(p, Conv.OUT_C);
  const kH = pi(p, Conv.K_H), kW = pi(p, Conv.K_W), sH = pi(p, Conv.STRIDE_H), sW = pi(p, Conv.STRIDE_W), dH = pi(p, Conv.DILATION_H), dW = pi(p, Conv.DILATION_W);
  const padTop = pi(p, Conv.PAD_TOP), padLeft = pi(p, Conv.PAD_LEFT);
  const dy = pu(p, Conv.IN0), w = pu(p, Conv.IN1), dx = pu(p, Conv.OUT);
  const M = batch * inH * inW, K = kH * kW * outC, N = inC;
  const m0 = partStart(M, part, parts, MR), m1 = partStart(M, part + 1, parts, MR);
  if (m0 >= m1) return;
  if (inC <= 4 && (outC & 3) == 0) { gradInputFewChannels(p, m0, m1); return; }
  const nc = pi(p, Conv.NC);
  const scratch = pu(p, Conv.SCRATCH) + <usize>part * pu(p, Conv.PER_PART);
  const pb = scratch;
  const pstride: usize = (<usize>K * NR) << 2;
  const at = pb + ((<usize>K * ((nc + NR - 1) / NR * NR)) << 2);
  const KC = kBlock(K);
  const tile = at + ((<usize>MC * KC) << 2);
  const ldc: usize = <usize>N << 2;
  const hw = inH * inW;
  for (let jc = 0; jc < N; jc += nc) {
    const jn = min(N, jc + nc);
    // B[(s, oc), ic] = w[s, ic, oc]: the kernel with its two channel axes swapped.
    let dst = pb;
    for (let j = jc; j < jn; j += NR) {
      for (let s = 0; s < kH * kW; s++) {
        for (let oc = 0; oc < outC; oc++) {
          for (let jj = 0; jj < NR; jj++) {
            let v: f32 = 0;
            if (j + jj < jn) v = load<f32>(w + ((<usize>(s * inC + j + jj) * outC + oc) << 2));
            store<f32>(dst + (<usize>jj << 2), v);
          }
          dst += NR << 2;
        }
      }
    }
    for (let ic = m0; ic < m1; ic += MC) {
      const mc = min(MC, m1 - ic);
      for (let pc = 0; pc < K; pc += KC) {
        const kc = min(KC, K - pc);
        for (let i = 0; i < mc; i++) {
          const r = ic + i;
          const b = r / hw, rem = r - b * hw, iy = rem / inW, ix = rem - iy * inW;
          const row = at + ((<usize>i * kc) << 2);
          let s = pc / outC, ocOff = pc - s * outC, kk = 0;
          while (kk < kc) {
            const ky = s / kW, kx = s - ky * kW;
            const len = min(outC - ocOff, kc - kk);
            const ty = iy + padTop - ky * dH, tx = ix + padLeft - kx * dW;
            const oy = ty / sH, ox = tx / sW;
            const d = row + (<usize>kk << 2);
            if (ty >= 0 && tx >= 0 && oy * sH == ty && ox * sW == tx && oy < outH && ox < outW) {
              copyF32(d, dy + ((<usize>((b * outH + oy) * outW + ox) * outC + ocOff) << 2), len);
            } else zeroF32(d, len);
            kk += len; s++; ocOff = 0;
          }
        }
        gemmBlock(mc, kc, at, <usize>kc << 2, pb + ((<usize>pc * NR) << 2), pstride, jc, jn,
          dx + <usize>ic * ldc, ldc, pc > 0 ? 1 : 0, 0, 0, tile);
      }
    }
  }
}

/**
 * Gradient w.r.t. an input of at most 4 channels (an image): padded to a GEMM of 8 columns it
 * would waste most of the work, so each dx pixel takes its dot products over outC directly.
 */
function gradInputFewChannels(p: usize, m0: i32, m1: i32): void {
  const inH = pi(p, Conv.IN_H), inW = pi(p, Conv.IN_W), inC = pi(p, Conv.IN_C), outH = pi(p, Conv.OUT_H), outW = pi(p, Conv.OUT_W), outC = pi(p, Conv.OUT_C);
  const kH = pi(p, Conv.K_H), kW = pi(p, Conv.K_W), sH = pi(p, Conv.STRIDE_H), sW = pi(p, Conv.STRIDE_W), dH = pi(p, Conv.DILATION_H), dW = pi(p, Conv.DILATION_W);
  const padTop = pi(p, Conv.PAD_TOP), padLeft = pi(p, Conv.PAD_LEFT);
  const dy = pu(p, Conv.IN0), w = pu(p, Conv.IN1), dx = pu(p, Conv.OUT);
  const hw = inH * inW;
  const wc: usize = <usize>outC << 2;
  for (let r = m0; r < m1; r++) {
    const b = r / hw, rem = r - b * hw, iy = rem / inW, ix = rem - iy * inW;
    let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
    for (let ky = 0; ky < kH; ky++) {
      const ty = iy + padTop - ky * dH;
      const oy = ty / sH;
      if (ty < 0 || oy * sH != ty || oy >= outH) continue;
      for (let kx = 0; kx < kW; kx++) {
        const tx = ix + padLeft - kx * dW;
        const ox = tx / sW;
        if (tx < 0 || ox * sW != tx || ox >= outW) continue;
        const g = dy + ((<usize>((b * outH + oy) * outW + ox) * outC) << 2);
        const wr = w + ((<usize>(ky * kW + kx) * inC * outC) << 2);
        for (let oc = 0; oc < outC; oc += 4) {
          const o: usize = <usize>oc << 2;
          const d = v128.load(g + o);
          a0 = f32x4.add(a0, f32x4.mul(d, v128.load(wr + o)));
          if (inC > 1) a1 = f32x4.add(a1, f32x4.mul(d, v128.load(wr + wc + o)));
          if (inC > 2) a2 = f32x4.add(a2, f32x4.mul(d, v128.load(wr + 2 * wc + o)));
          if (inC > 3) a3 = f32x4.add(a3, f32x4.mul(d, v128.load(wr + 3 * wc + o)));
        }
      }
    }
    const dst = dx + ((<usize>r * inC) << 2);
    store<f32>(dst, hsum(a0));
    if (inC > 1) store<f32>(dst, hsum(a1), 4);
    if (inC > 2) store<f32>(dst, hsum(a2), 8);
    if (inC > 3) store<f32>(dst, hsum(a3), 12);
  }
}

// @ts-ignore: decorator
@inline function hsum(v: v128): f32 {
  return (f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1)) + (f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3));
}

/** Bytes at the start of each part's scratch holding its partial filter gradient [outC, K]. */
export function gradFilterPartialBytes(K: i32, outC: i32): usize {
  return ((<usize>K * outC + 15) & ~15) << 2;
}

/**
 * Filter gradient, phase 1: each part sums dy^T * im2col(x) over its own range of output pixels
 * into a partial [outC, K] at the start of its scratch. Conv.IN0 x, IN1 dy.
 */
export function k_conv2d_grad_filter(p: usize, part: i32, parts: i32): void {
  const batch = pi(p, Conv.BATCH), inH = pi(p, Conv.IN_H), inW = pi(p, Conv.IN_W), inC = pi(p, Conv.IN_C), outH = pi(p, Conv.OUT_H), outW = pi(p, Conv.OUT_W), outC = pi(p, Conv.OUT_C);
  const kH = pi(p, Conv.K_H), kW = pi(p, Conv.K_W), sH = pi(p, Conv.STRIDE_H), sW = pi(p, Conv.STRIDE_W), dH = pi(p, Conv.DILATION_H), dW = pi(p, Conv.DILATION_W);
  const padTop = pi(p, Conv.PAD_TOP), padLeft = pi(p, Conv.PAD_LEFT);
  const x = pu(p, Conv.IN0), dy = pu(p, Conv.IN1);
  const P = batch * outH * outW, K = kH * kW * inC;
  const q0 = partStart(P, part, parts, 1), q1 = partStart(P, part + 1, parts, 1);
  const scratch = pu(p, Conv.SCRATCH) + <usize>part * pu(p, Conv.PER_PART);
  const ct = scratch;
  const at = ct + gradFilterPartialBytes(K, outC);
  const panel = at + ((<usize>outC * KCP) << 2);
  const tile = panel + ((<usize>KCP * NR) << 2);
  const offs = tile + 128; // per column of a panel: ky*dH, kx*dW, channel
  const col = offs + 128;   // im2col rows of the block when channels are not a multiple of NR
  const ldc: usize = <usize>K << 2;
  if (q0 >= q1) { zeroF32(ct, K * outC); return; }
  const hw = outH * outW;
  const fast = inC % NR == 0;
  for (let pp = q0; pp < q1; pp += KCP) {
    const kc = min(KCP, q1 - pp);
    // A = dy^T for this block of pixels: [outC, kc].
    for (let t = 0; t < kc; t++) {
      const src = dy + ((<usize>(pp + t) * outC) << 2);
      for (let oc = 0; oc < outC; oc++) store<f32>(at + ((<usize>oc * kc + t) << 2), load<f32>(src + (<usize>oc << 2)));
    }
    if (!fast) for (let t = 0; t < kc; t++) im2colRow(p, x, pp + t, 0, K, col + ((<usize>t * K) << 2));
    for (let j = 0; j < K; j += NR) {
      const jw = min(NR, K - j);
      for (let jj = 0; jj < NR; jj++) {
        const kidx = min(j + jj, K - 1);
        const s = kidx / inC, ic = kidx - s * inC, ky = s / kW, kx = s - ky * kW;
        store<i32>(offs + (<usize>jj * 12), ky * dH);
        store<i32>(offs + (<usize>jj * 12) + 4, kx * dW);
        store<i32>(offs + (<usize>jj * 12) + 8, ic);
      }
      // B panel: im2col(x) rows pp..pp+kc, columns j..j+NR.
      let r = pp;
      let b = r / hw, rem = r - b * hw, oy = rem / outW, ox = rem - oy * outW;
      let dst = panel;
      for (let t = 0; t < kc; t++) {
        const iy0 = oy * sH - padTop, ix0 = ox * sW - padLeft;
        const base = x + ((<usize>b * inH * inW * inC) << 2);
        if (fast) {
          const iy = iy0 + load<i32>(offs), ix = ix0 + load<i32>(offs, 4);
          if (<u32>iy < <u32>inH && <u32>ix < <u32>inW) {
            const src = base + ((<usize>(iy * inW + ix) * inC + load<i32>(offs, 8)) << 2);
            v128.store(dst, v128.load(src));
            v128.store(dst, v128.load(src, 16), 16);
          } else {
            v128.store(dst, f32x4.splat(0));
            v128.store(dst, f32x4.splat(0), 16);
          }
        } else {
          const src = col + ((<usize>t * K + j) << 2);
          if (jw == NR) {
            v128.store(dst, v128.load(src));
            v128.store(dst, v128.load(src, 16), 16);
          } else {
            for (let jj = 0; jj < NR; jj++) {
              let v: f32 = 0;
              if (jj < jw) v = load<f32>(src + (<usize>jj << 2));
              store<f32>(dst + (<usize>jj << 2), v);
            }
          }
        }
        dst += NR << 2;
        if (++ox == outW) { ox = 0; if (++oy == outH) { oy = 0; b++; } }
      }
      gemmBlock(outC, kc, at, <usize>kc << 2, panel, 0, j, j + jw, ct, ldc, pp > q0 ? 1 : 0, 0, 0, tile);
    }
  }
}

/**
 * Filter gradient, phase 2: dw[k, oc] = sum over the phase-1 parts, in part order, of their
 * partial [oc, k]. Parameter block: GradSum.
 */
export function k_conv2d_grad_filter_sum(p: usize, part: i32, parts: i32): void {
  const K = pi(p, GradSum.K), outC = pi(p, GradSum.N), scratch = pu(p, GradSum.SCRATCH), stride = pu(p, GradSum.STRIDE), n = pi(p, GradSum.PARTS), dw = pu(p, GradSum.OUT);
  const k0 = partStart(K, part, parts, 1), k1 = partStart(K, part + 1, parts, 1);
  for (let k = k0; k < k1; k++) {
    for (let oc = 0; oc < outC; oc++) {
      let s: f32 = 0;
      const off: usize = (<usize>oc * K + k) << 2;
      for (let t = 0; t < n; t++) s += load<f32>(scratch + <usize>t * stride + off);
      store<f32>(dw + ((<usize>k * outC + oc) << 2), s);
    }
  }
}
