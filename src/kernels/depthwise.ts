// Depthwise 2-D convolution in NHWC (MobileNet's 3x3 per-channel filters), forward and backward.
//
// Kernel w [kH, kW, C, M] (M = depth multiplier), output channel c * M + m, outC = C * M.
// Parameter block: Conv of ./params; IN0 x (dy for the input gradient), IN1 w (dy for the filter
// gradient), BIAS (0: none), OUT (dx, dw), DEPTH_MULT M.
// With M == 1 the channel loop runs in f32x4; other multipliers take the scalar loop.
// Every part writes a disjoint piece of the output, so no zeroing or reduction pass is needed.
import { pi, pu, pf, partStart, actRows } from './common';
import { Conv } from './params';

/** First tap index k in [0, n) with 0 <= base + k * step < len (steps are positive). */
// @ts-ignore: decorator
@inline function tapLo(base: i32, step: i32, n: i32): i32 {
  if (base >= 0) return 0;
  const k = (-base + step - 1) / step;
  return k < n ? k : n;
}
/** One past the last tap index k in [0, n) with base + k * step < len. */
// @ts-ignore: decorator
@inline function tapHi(base: i32, step: i32, n: i32, len: i32): i32 {
  if (base >= len) return 0;
  const k = (len - 1 - base) / step + 1;
  return k < n ? k : n;
}

/** Forward. Parts: output rows (batch * outH). In-bounds taps are found once per row and pixel, not tested per tap. */
export function k_depthwise_conv2d(p: usize, part: i32, parts: i32): void {
  const inH = pi(p, Conv.IN_H), inW = pi(p, Conv.IN_W), C = pi(p, Conv.IN_C), outH = pi(p, Conv.OUT_H), outW = pi(p, Conv.OUT_W), outC = pi(p, Conv.OUT_C);
  const kH = pi(p, Conv.K_H), kW = pi(p, Conv.K_W), sH = pi(p, Conv.STRIDE_H), sW = pi(p, Conv.STRIDE_W), dH = pi(p, Conv.DILATION_H), dW = pi(p, Conv.DILATION_W);
  const padTop = pi(p, Conv.PAD_TOP), padLeft = pi(p, Conv.PAD_LEFT), act = pi(p, Conv.ACT), alpha = pf(p, Conv.ALPHA);
  const x = pu(p, Conv.IN0), w = pu(p, Conv.IN1), bias = pu(p, Conv.BIAS), out = pu(p, Conv.OUT), M = pi(p, Conv.DEPTH_MULT);
  const rows = pi(p, Conv.BATCH) * outH;
  const r0 = partStart(rows, part, parts, 1), r1 = partStart(rows, part + 1, parts, 1);
  const tapBytes: usize = <usize>outC << 2;
  const pixBytes: usize = <usize>C << 2;
  for (let r = r0; r < r1; r++) {
    const b = r / outH, oy = r - b * outH;
    const img = x + ((<usize>b * inH * inW * C) << 2);
    const y0 = oy * sH - padTop;
    const ky0 = tapLo(y0, dH, kH), ky1 = tapHi(y0, dH, kH, inH);
    for (let ox = 0; ox < outW; ox++) {
      const dst = out + ((<usize>(r * outW + ox) * outC) << 2);
      const x0 = ox * sW - padLeft;
      const kx0 = tapLo(x0, dW, kW), kx1 = tapHi(x0, dW, kW, inW);
      if (M == 1) {
        let c = 0;
        for (; c + 4 <= C; c += 4) {
          let acc = bias ? v128.load(bias + (<usize>c << 2)) : f32x4.splat(0);
          for (let ky = ky0; ky < ky1; ky++) {
            const src = img + ((<usize>((y0 + ky * dH) * inW + x0) * C + c) << 2);
            const wt = w + <usize>(ky * kW) * tapBytes + (<usize>c << 2);
            for (let kx = kx0; kx < kx1; kx++) {
              const xv = v128.load(src + <usize>(kx * dW) * pixBytes);
              acc = f32x4.add(acc, f32x4.mul(xv, v128.load(wt + <usize>kx * tapBytes)));
            }
          }
          v128.store(dst + (<usize>c << 2), acc);
        }
        for (; c < C; c++) store<f32>(dst + (<usize>c << 2), scalarOut(img, w, bias, c, c, oy, ox, p));
      } else {
        for (let o = 0; o < outC; o++) store<f32>(dst + (<usize>o << 2), scalarOut(img, w, bias, o / M, o, oy, ox, p));
      }
      actRows(act, alpha, dst, 1, outC, 0);
    }
  }
}

/** One output channel o (input channel c) at (oy, ox), summed in the same tap order as the vector loop. */
function scalarOut(img: usize, w: usize, bias: usize, c: i32, o: i32, oy: i32, ox: i32, p: usize): f32 {
  const inH = pi(p, Conv.IN_H), inW = pi(p, Conv.IN_W), C = pi(p, Conv.IN_C), outC = pi(p, Conv.OUT_C);
  const kH = pi(p, Conv.K_H), kW = pi(p, Conv.K_W), sH = pi(p, Conv.STRIDE_H), sW = pi(p, Conv.STRIDE_W), dH = pi(p, Conv.DILATION_H), dW = pi(p, Conv.DILATION_W);
  const padTop = pi(p, Conv.PAD_TOP), padLeft = pi(p, Conv.PAD_LEFT);
  let acc: f32 = bias ? load<f32>(bias + (<usize>o << 2)) : 0;
  for (let ky = 0; ky < kH; ky++) {
    const iy = oy * sH - padTop + ky * dH;
    if (iy < 0 || iy >= inH) continue;
    for (let kx = 0; kx < kW; kx++) {
      const ix = ox * sW - padLeft + kx * dW;
      if (ix < 0 || ix >= inW) continue;
      acc += load<f32>(img + ((<usize>(iy * inW + ix) * C + c) << 2)) * load<f32>(w + ((<usize>(ky * kW + kx) * outC + o) << 2));
    }
  }
  return acc;
}

/**
 * Input gradient, gathered: dx[b, iy, ix, c] = sum over the taps whose output position lands on
 * (iy, ix) of dy[b, oy, ox, c*M + m] * w[ky, kx, c, m]. Parts: input rows (batch * inH); dx is overwritten.
 */
export function k_depthwise_conv2d_grad_input(p: usize, part: i32, parts: i32): void {
  const inH = pi(p, Conv.IN_H), inW = pi(p, Conv.IN_W), C = pi(p, Conv.IN_C), outH = pi(p, Conv.OUT_H), outW = pi(p, Conv.OUT_W), outC = pi(p, Conv.OUT_C);
  const kH = pi(p, Conv.K_H), kW = pi(p, Conv.K_W), sH = pi(p, Conv.STRIDE_H), sW = pi(p, Conv.STRIDE_W), dH = pi(p, Conv.DILATION_H), dW = pi(p, Conv.DILATION_W);
  const padTop = pi(p, Conv.PAD_TOP), padLeft = pi(p, Conv.PAD_LEFT);
  const dy = pu(p, Conv.IN0), w = pu(p, Conv.IN1), dx = pu(p, Conv.OUT), M = pi(p, Conv.DEPTH_MULT);
  const rows = pi(p, Conv.BATCH) * inH;
  const r0 = partStart(rows, part, parts, 1), r1 = partStart(rows, part + 1, parts, 1);
  const tapBytes: usize = <usize>outC << 2;
  for (let r = r0; r < r1; r++) {
    const b = r / inH, iy = r - b * inH;
    const g = dy + ((<usize>b * outH * outW * outC) << 2);
    // The taps ky that reach this row form an arithmetic progression: first, step, count.
    const ty = tapRun(iy + padTop, dH, sH, kH, outH);
    const ky0 = <i32>(ty & 0xffff), kyStep = <i32>((ty >>> 16) & 0xffff), kyN = <i32>(ty >>> 32);
    // Output rows (and below, columns) of successive taps step back by a whole number of rows.
    const oy0 = kyN ? (iy + padTop - ky0 * dH) / sH : 0, oyStep = kyStep * dH / sH;
    for (let ix = 0; ix < inW; ix++) {
      const dst = dx + ((<usize>(r * inW + ix) * C) << 2);
      const tx = tapRun(ix + padLeft, dW, sW, kW, outW);
      const kx0 = <i32>(tx & 0xffff), kxStep = <i32>((tx >>> 16) & 0xffff), kxN = <i32>(tx >>> 32);
      const ox0 = kxN ? (ix + padLeft - kx0 * dW) / sW : 0, oxStep = kxStep * dW / sW;
      let c = 0;
      if (M == 1) {
        for (; c + 4 <= C; c += 4) {
          let acc = f32x4.splat(0);
          for (let j = 0, ky = ky0, oy = oy0; j < kyN; j++, ky += kyStep, oy -= oyStep) {
            const grow = g + ((<usize>(oy * outW) * outC + c) << 2);
            const wrow = w + <usize>(ky * kW) * tapBytes + (<usize>c << 2);
            for (let i = 0, kx = kx0, ox = ox0; i < kxN; i++, kx += kxStep, ox -= oxStep) {
              acc = f32x4.add(acc, f32x4.mul(v128.load(grow + <usize>ox * tapBytes), v128.load(wrow + <usize>kx * tapBytes)));
            }
          }
          v128.store(dst + (<usize>c << 2), acc);
        }
      }
      for (; c < C; c++) {
        let acc: f32 = 0;
        for (let j = 0, ky = ky0; j < kyN; j++, ky += kyStep) {
          const oy = (iy + padTop - ky * dH) / sH;
          for (let i = 0, kx = kx0; i < kxN; i++, kx += kxStep) {
            const ox = (ix + padLeft - kx * dW) / sW;
            const go = g + ((<usize>(oy * outW + ox) * outC + c * M) << 2);
            const wo = w + ((<usize>(ky * kW + kx) * outC + c * M) << 2);
            for (let m = 0; m < M; m++) acc += load<f32>(go + (<usize>m << 2)) * load<f32>(wo + (<usize>m << 2));
          }
        }
        store<f32>(dst + (<usize>c << 2), acc);
      }
    }
  }
}

/**
 * The taps k in [0, n) whose output position o = (t - k * d) / s is whole and inside [0, outLen),
 * for t = input position + leading pad. They form an arithmetic progression (solutions of a
 * congruence within an interval), returned packed: first | step << 16 | count << 32.
 */
function tapRun(t: i32, d: i32, s: i32, n: i32, outLen: i32): u64 {
  if (s == 1 && d == 1) {
    // k in (t - outLen, t] within [0, n): no division needed.
    const lo = max(t - outLen + 1, 0), hi = min(t, n - 1);
    return hi < lo ? 0 : <u64>lo | (<u64>1 << 16) | (<u64>(hi - lo + 1) << 32);
  }
  let first = -1, step = 1, count = 0;
  for (let k = 0; k < n; k++) {
    const u = t - k * d;
    if (u < 0) break;
    if (u % s != 0 || u / s >= outLen) continue;
    if (count == 0) first = k;
    else if (count == 1) step = k - first;
    count++;
  }
  if (count == 0) return 0;
  return <u64>first | (<u64>step << 16) | (<u64>count << 32);
}

/** Filter gradient: dw[ky, kx, c, m] = sum over batch and output positions of x * dy. Parts: taps (kH * kW); dw is overwritten. */
export function k_depthwise_conv2d_grad_filter(p: usize, part: i32, parts: i32): void {
  const batch = pi(p, Conv.BATCH), inH = pi(p, Conv.IN_H), inW = pi(p, Conv.IN_W), C = pi(p, Conv.IN_C), outH = pi(p, Conv.OUT_H), outW = pi(p, Conv.OUT_W), outC = pi(p, Conv.OUT_C);
  const kH = pi(p, Conv.K_H), kW = pi(p, Conv.K_W), sH = pi(p, Conv.STRIDE_H), sW = pi(p, Conv.STRIDE_W), dH = pi(p, Conv.DILATION_H), dW = pi(p, Conv.DILATION_W);
  const padTop = pi(p, Conv.PAD_TOP), padLeft = pi(p, Conv.PAD_LEFT);
  const x = pu(p, Conv.IN0), dy = pu(p, Conv.IN1), dw = pu(p, Conv.OUT), M = pi(p, Conv.DEPTH_MULT);
  const taps = kH * kW;
  const t0 = partStart(taps, part, parts, 1), t1 = partStart(taps, part + 1, parts, 1);
  for (let t = t0; t < t1; t++) {
    const ky = t / kW, kx = t - ky * kW;
    const dst = dw + ((<usize>t * outC) << 2);
    for (let o = 0; o < outC; o++) store<f32>(dst + (<usize>o << 2), 0);
    // Output rows and columns whose tap (ky, kx) lands inside the input.
    const oy0 = tapLo(ky * dH - padTop, sH, outH), oy1 = tapHi(ky * dH - padTop, sH, outH, inH);
    const ox0 = tapLo(kx * dW - padLeft, sW, outW), ox1 = tapHi(kx * dW - padLeft, sW, outW, inW);
    for (let b = 0; b < batch; b++) {
      for (let oy = oy0; oy < oy1; oy++) {
        const iy = oy * sH - padTop + ky * dH;
        for (let ox = ox0; ox < ox1; ox++) {
          const ix = ox * sW - padLeft + kx * dW;
          const xs = x + ((<usize>((b * inH + iy) * inW + ix) * C) << 2);
          const gs = dy + ((<usize>((b * outH + oy) * outW + ox) * outC) << 2);
          let c = 0;
          if (M == 1) {
            for (; c + 4 <= C; c += 4) {
              const q = dst + (<usize>c << 2);
              v128.store(q, f32x4.add(v128.load(q), f32x4.mul(v128.load(xs + (<usize>c << 2)), v128.load(gs + (<usize>c << 2)))));
            }
          }
          for (; c < C; c++) {
            const xv = load<f32>(xs + (<usize>c << 2));
            for (let m = 0; m < M; m++) {
              const q = dst + ((<usize>(c * M + m)) << 2);
              store<f32>(q, load<f32>(q) + xv * load<f32>(gs + ((<usize>(c * M + m)) << 2)));
            }
          }
        }
      }
    }
  }
}
