// 2-D max and average pooling in NHWC, forward and backward, f32x4 across channels.
//
// Parameter block: Pool of ./params; SPLIT_ROWS 1: parts are output rows; 0: parts are whole
// images, for overlapping windows, so backward parts never add into the same dx element.
import { pi, pu, partStart } from './common';
import { Pool } from './params';

/** Forward max (mode 0) or average (mode 1). Pool.X x, Y out. Parts: output rows. */
function poolForward(p: usize, part: i32, parts: i32, avg: bool): void {
  const batch = pi(p, Pool.BATCH), inH = pi(p, Pool.IN_H), inW = pi(p, Pool.IN_W), C = pi(p, Pool.C), outH = pi(p, Pool.OUT_H), outW = pi(p, Pool.OUT_W);
  const pH = pi(p, Pool.H), pW = pi(p, Pool.W), sH = pi(p, Pool.STRIDE_H), sW = pi(p, Pool.STRIDE_W), padTop = pi(p, Pool.PAD_TOP), padLeft = pi(p, Pool.PAD_LEFT);
  const x = pu(p, Pool.X), out = pu(p, Pool.Y);
  const rows = batch * outH;
  const r0 = partStart(rows, part, parts, 1), r1 = partStart(rows, part + 1, parts, 1);
  const rowBytes: usize = (<usize>inW * C) << 2;
  for (let r = r0; r < r1; r++) {
    const b = r / outH, oy = r - b * outH;
    const ys = oy * sH - padTop;
    const y0 = max(ys, 0), y1 = min(ys + pH, inH);
    const img = x + <usize>b * inH * rowBytes;
    for (let ox = 0; ox < outW; ox++) {
      const xs = ox * sW - padLeft;
      const x0 = max(xs, 0), x1 = min(xs + pW, inW);
      const dst = out + ((<usize>(r * outW + ox) * C) << 2);
      const cnt = <f32>((y1 - y0) * (x1 - x0));
      let c = 0;
      for (; c + 4 <= C; c += 4) {
        let m = avg ? f32x4.splat(0) : f32x4.splat(-Infinity);
        for (let y = y0; y < y1; y++) {
          const src = img + <usize>y * rowBytes + (<usize>c << 2);
          for (let xx = x0; xx < x1; xx++) {
            const v = v128.load(src + ((<usize>xx * C) << 2));
            if (avg) m = f32x4.add(m, v);
            else m = v128.bitselect(v, m, v128.or(f32x4.gt(v, m), f32x4.ne(v, v)));
          }
        }
        if (avg) m = f32x4.div(m, f32x4.splat(cnt));
        v128.store(dst + (<usize>c << 2), m);
      }
      for (; c < C; c++) {
        let m: f32 = avg ? 0 : -Infinity;
        for (let y = y0; y < y1; y++) {
          for (let xx = x0; xx < x1; xx++) {
            const v = load<f32>(img + <usize>y * rowBytes + ((<usize>xx * C + c) << 2));
            if (avg) m += v;
            else if (v > m || v != v) m = v;
          }
        }
        store<f32>(dst + (<usize>c << 2), avg ? m / cnt : m);
      }
    }
  }
}

export function k_max_pool(p: usize, part: i32, parts: i32): void { poolForward(p, part, parts, false); }
export function k_avg_pool(p: usize, part: i32, parts: i32): void { poolForward(p, part, parts, true); }

/**
 * Backward, adding into dx (zeroed beforehand). Max: each dy goes to the first maximal input of
 * its window (TensorFlow's rule). Avg: dy / count to every input of the window.
 * Pool.X x (max only), Y dy, DX dx.
 */
function poolBackward(p: usize, part: i32, parts: i32, avg: bool): void {
  const batch = pi(p, Pool.BATCH), inH = pi(p, Pool.IN_H), inW = pi(p, Pool.IN_W), C = pi(p, Pool.C), outH = pi(p, Pool.OUT_H), outW = pi(p, Pool.OUT_W);
  const pH = pi(p, Pool.H), pW = pi(p, Pool.W), sH = pi(p, Pool.STRIDE_H), sW = pi(p, Pool.STRIDE_W), padTop = pi(p, Pool.PAD_TOP), padLeft = pi(p, Pool.PAD_LEFT);
  const x = pu(p, Pool.X), dy = pu(p, Pool.Y), dx = pu(p, Pool.DX), splitRows = pi(p, Pool.SPLIT_ROWS);
  let r0: i32, r1: i32;
  if (splitRows) { r0 = partStart(batch * outH, part, parts, 1); r1 = partStart(batch * outH, part + 1, parts, 1); }
  else { r0 = partStart(batch, part, parts, 1) * outH; r1 = partStart(batch, part + 1, parts, 1) * outH; }
  const rowBytes: usize = (<usize>inW * C) << 2;
  for (let r = r0; r < r1; r++) {
    const b = r / outH, oy = r - b * outH;
    const ys = oy * sH - padTop;
    const y0 = max(ys, 0), y1 = min(ys + pH, inH);
    const imgOff = <usize>b * inH * rowBytes;
    for (let ox = 0; ox < outW; ox++) {
      const xs = ox * sW - padLeft;
      const x0 = max(xs, 0), x1 = min(xs + pW, inW);
      const g = dy + ((<usize>(r * outW + ox) * C) << 2);
      if (avg) {
        const cnt = <f32>((y1 - y0) * (x1 - x0));
        for (let y = y0; y < y1; y++) {
          for (let xx = x0; xx < x1; xx++) {
            const d = dx + imgOff + <usize>y * rowBytes + ((<usize>xx * C) << 2);
            let c = 0;
            for (; c + 4 <= C; c += 4) {
              const q = d + (<usize>c << 2);
              v128.store(q, f32x4.add(v128.load(q), f32x4.div(v128.load(g + (<usize>c << 2)), f32x4.splat(cnt))));
            }
            for (; c < C; c++) {
              const q = d + (<usize>c << 2);
              store<f32>(q, load<f32>(q) + load<f32>(g + (<usize>c << 2)) / cnt);
            }
          }
        }
        continue;
      }
      const ww = x1 - x0;
      let c = 0;
      for (; c + 4 <= C; c += 4) {
        let m = f32x4.splat(-Infinity);
        let at = i32x4.splat(-1);
        let q = 0;
        for (let y = y0; y < y1; y++) {
          const src = x + imgOff + <usize>y * rowBytes + (<usize>c << 2);
          for (let xx = x0; xx < x1; xx++) {
            const v = v128.load(src + ((<usize>xx * C) << 2));
            // Take v when it is larger or NaN, unless a NaN is already held (the first NaN wins, as forward returns NaN).
            const upd = v128.or(v128.and(v128.or(f32x4.gt(v, m), f32x4.ne(v, v)), f32x4.eq(m, m)), i32x4.lt_s(at, i32x4.splat(0)));
            m = v128.bitselect(v, m, upd);
            at = v128.bitselect(i32x4.splat(q), at, upd);
            q++;
          }
        }
        const gv = v128.load(g + (<usize>c << 2));
        addAt(dx + imgOff, rowBytes, C, c, x0, y0, ww, i32x4.extract_lane(at, 0), f32x4.extract_lane(gv, 0));
        addAt(dx + imgOff, rowBytes, C, c + 1, x0, y0, ww, i32x4.extract_lane(at, 1), f32x4.extract_lane(gv, 1));
        addAt(dx + imgOff, rowBytes, C, c + 2, x0, y0, ww, i32x4.extract_lane(at, 2), f32x4.extract_lane(gv, 2));
        addAt(dx + imgOff, rowBytes, C, c + 3, x0, y0, ww, i32x4.extract_lane(at, 3), f32x4.extract_lane(gv, 3));
      }
      for (; c < C; c++) {
        let m: f32 = -Infinity;
        let at = -1, q = 0;
        for (let y = y0; y < y1; y++) {
          for (let xx = x0; xx < x1; xx++) {
            const v = load<f32>(x + imgOff + <usize>y * rowBytes + ((<usize>xx * C + c) << 2));
            if (at < 0 || ((v > m || v != v) && m == m)) { m = v; at = q; }
            q++;
          }
        }
        addAt(dx + imgOff, rowBytes, C, c, x0, y0, ww, at, load<f32>(g + (<usize>c << 2)));
      }
    }
  }
}

// @ts-ignore: decorator
@inline function addAt(img: usize, rowBytes: usize, C: i32, c: i32, x0: i32, y0: i32, ww: i32, q: i32, g: f32): void {
  if (q < 0) return;
  const y = y0 + q / ww, xx = x0 + q % ww;
  const d = img + <usize>y * rowBytes + ((<usize>xx * C + c) << 2);
  store<f32>(d, load<f32>(d) + g);
}

/**
 * Max-pool backward for 2x2 windows with stride 2 inside the input, channels a multiple of 4:
 * writes every dx element of its band of input rows (gradient at the first maximum of each
 * window, zeros elsewhere), so dx needs no zeroing pass and no read-modify-write. Parts are
 * output rows; output row oy owns input rows [2oy, 2oy + 2), the last one also the rows below.
 */
function maxPoolGrad2x2(p: usize, part: i32, parts: i32): void {
  const batch = pi(p, Pool.BATCH), inH = pi(p, Pool.IN_H), inW = pi(p, Pool.IN_W), C = pi(p, Pool.C), outH = pi(p, Pool.OUT_H), outW = pi(p, Pool.OUT_W);
  const x = pu(p, Pool.X), dy = pu(p, Pool.Y), dx = pu(p, Pool.DX);
  const r0 = partStart(batch * outH, part, parts, 1), r1 = partStart(batch * outH, part + 1, parts, 1);
  const rowBytes: usize = (<usize>inW * C) << 2;
  const cb: usize = <usize>C << 2;
  const z = f32x4.splat(0);
  for (let r = r0; r < r1; r++) {
    const b = r / outH, oy = r - b * outH;
    const img = <usize>b * inH * rowBytes;
    const top = img + <usize>(2 * oy) * rowBytes;
    // Rows past the last window (odd heights) and columns past the last one (odd widths) get zeros.
    const bandEnd = oy == outH - 1 ? img + <usize>inH * rowBytes : top + 2 * rowBytes;
    for (let q = top + 2 * rowBytes; q < bandEnd; q += 16) v128.store(dx + q, z);
    if (2 * outW < inW) {
      const tail = (<usize>(2 * outW) * C) << 2;
      for (let q = tail; q < rowBytes; q += 16) { v128.store(dx + top + q, z); v128.store(dx + top + rowBytes + q, z); }
    }
    const g = dy + ((<usize>r * outW * C) << 2);
    for (let ox = 0; ox < outW; ox++) {
      const o0 = top + <usize>(2 * ox) * cb;
      const o1 = o0 + rowBytes;
      const go = g + <usize>ox * cb;
      for (let c: usize = 0; c < cb; c += 16) {
        const a = v128.load(x + o0 + c), bb = v128.load(x + o0 + cb + c);
        const cc = v128.load(x + o1 + c), d = v128.load(x + o1 + cb + c);
        const gv = v128.load(go + c);
        // In window order a, b, c, d: the first NaN if any (forward returned NaN), else the first maximum.
        const gb = v128.and(v128.or(f32x4.gt(bb, a), f32x4.ne(bb, bb)), f32x4.eq(a, a));
        const m1 = v128.bitselect(bb, a, gb);
        const gc = v128.and(v128.or(f32x4.gt(cc, m1), f32x4.ne(cc, cc)), f32x4.eq(m1, m1));
        const m2 = v128.bitselect(cc, m1, gc);
        const gd = v128.and(v128.or(f32x4.gt(d, m2), f32x4.ne(d, d)), f32x4.eq(m2, m2));
        const notD = v128.not(gd);
        const isC = v128.and(gc, notD);
        const isB = v128.andnot(v128.and(gb, notD), gc);
        const isA = v128.not(v128.or(v128.or(gb, gc), gd));
        v128.store(dx + o0 + c, v128.and(gv, isA));
        v128.store(dx + o0 + cb + c, v128.and(gv, isB));
        v128.store(dx + o1 + c, v128.and(gv, isC));
        v128.store(dx + o1 + cb + c, v128.and(gv, gd));
      }
    }
  }
}

/** Whether the 2x2 path applies (params as the backward block); it then writes all of dx. */
// @ts-ignore: decorator
@inline function is2x2(p: usize): bool {
  return pi(p, Pool.H) == 2 && pi(p, Pool.W) == 2 && pi(p, Pool.STRIDE_H) == 2 && pi(p, Pool.STRIDE_W) == 2 && pi(p, Pool.PAD_TOP) == 0 && pi(p, Pool.PAD_LEFT) == 0 && (pi(p, Pool.C) & 3) == 0 &&
    2 * pi(p, Pool.OUT_H) <= pi(p, Pool.IN_H) && 2 * pi(p, Pool.OUT_W) <= pi(p, Pool.IN_W);
}

export function k_max_pool_grad(p: usize, part: i32, parts: i32): void {
  if (is2x2(p)) maxPoolGrad2x2(p, part, parts);
  else poolBackward(p, part, parts, false);
}
export function k_avg_pool_grad(p: usize, part: i32, parts: i32): void { poolBackward(p, part, parts, true); }
