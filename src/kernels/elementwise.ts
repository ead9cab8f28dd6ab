// Elementwise maps, broadcasting binary ops, bias + activation, reductions, softmax, transpose,
// cast and fill. Parts are contiguous ranges of the output (16-element aligned).
import { pi, pu, pf, partStart, unary64, unaryGrad64, isVecOp, unaryVec } from './common';
import {
  CHUNK, BIN_ADD, BIN_SUB, BIN_MUL, BIN_DIV, BIN_MAX, BIN_MIN, BIN_POW, BIN_GREATER, BIN_LESS, BIN_EQUAL,
  RED_SUM, RED_MAX, RED_MIN, RED_MEAN, RED_PROD,
} from './constants';
import { BiasAct, Binary, BinaryScalar, Block, Cast, Fill, Reduce, Softmax, Transpose, Unary, UnaryGrad } from './params';

// ---- unary -------------------------------------------------------------------------------

/** out = f(x). Parameter block: Unary. */
export function k_unary(p: usize, part: i32, parts: i32): void {
  const n = pi(p, Unary.N), op = pi(p, Unary.OP), alpha = pf(p, Unary.ALPHA), x = pu(p, Unary.X), out = pu(p, Unary.OUT);
  const s = partStart(n, part, parts, 16), e = partStart(n, part + 1, parts, 16);
  let i = s;
  if (isVecOp(op)) {
    const av = f32x4.splat(alpha);
    for (; i + 4 <= e; i += 4) v128.store(out + (<usize>i << 2), unaryVec(op, v128.load(x + (<usize>i << 2)), av));
  }
  for (; i < e; i++) store<f32>(out + (<usize>i << 2), <f32>unary64(op, <f64>load<f32>(x + (<usize>i << 2)), <f64>alpha));
}

/** dx = dy * f'(x). Parameter block: UnaryGrad. */
export function k_unary_grad(p: usize, part: i32, parts: i32): void {
  const n = pi(p, UnaryGrad.N), op = pi(p, UnaryGrad.OP), alpha = pf(p, UnaryGrad.ALPHA), x = pu(p, UnaryGrad.X), y = pu(p, UnaryGrad.Y), dy = pu(p, UnaryGrad.DY), dx = pu(p, UnaryGrad.DX);
  const s = partStart(n, part, parts, 16), e = partStart(n, part + 1, parts, 16);
  let i = s;
  if (op <= 1) {
    const one = f32x4.splat(1), zero = f32x4.splat(0);
    for (; i + 4 <= e; i += 4) {
      const o: usize = <usize>i << 2;
      const xv = v128.load(x + o);
      // relu: 1 where x > 0, NaN where x is NaN, else 0.
      const g = op == 0 ? one : v128.bitselect(xv, v128.bitselect(one, zero, f32x4.gt(xv, zero)), f32x4.ne(xv, xv));
      v128.store(dx + o, f32x4.mul(v128.load(dy + o), g));
    }
  }
  for (; i < e; i++) {
    const o: usize = <usize>i << 2;
    store<f32>(dx + o, <f32>(<f64>load<f32>(dy + o) * unaryGrad64(op, <f64>load<f32>(x + o), <f64>load<f32>(y + o), <f64>alpha)));
  }
}

// ---- binary ------------------------------------------------------------------------------

function bin64(op: i32, a: f64, b: f64): f64 {
  switch (op) {
    case BIN_ADD: return a + b;
    case BIN_SUB: return a - b;
    case BIN_MUL: return a * b;
    case BIN_DIV: return a / b;
    case BIN_MAX: return a >= b || a != a ? a : b;
    case BIN_MIN: return a <= b || a != a ? a : b;
    case BIN_POW: return Math.pow(a, b);
    case BIN_GREATER: return a > b ? 1 : 0;
    case BIN_LESS: return a < b ? 1 : 0;
    case BIN_EQUAL: return a == b ? 1 : 0;
  }
  return 0;
}

// @ts-ignore: decorator
@inline function binVec(op: i32, a: v128, b: v128): v128 {
  switch (op) {
    case BIN_ADD: return f32x4.add(a, b);
    case BIN_SUB: return f32x4.sub(a, b);
    case BIN_MUL: return f32x4.mul(a, b);
    case BIN_DIV: return f32x4.div(a, b);
    case BIN_MAX: return v128.bitselect(a, b, v128.or(f32x4.ge(a, b), f32x4.ne(a, a)));
    case BIN_MIN: return v128.bitselect(a, b, v128.or(f32x4.le(a, b), f32x4.ne(a, a)));
    case BIN_GREATER: return v128.and(f32x4.gt(a, b), f32x4.splat(1));
    case BIN_LESS: return v128.and(f32x4.lt(a, b), f32x4.splat(1));
    case BIN_EQUAL: return v128.and(f32x4.eq(a, b), f32x4.splat(1));
  }
  return a;
}

/** One run of the innermost axis: out[i] = a[i*as] op b[i*bs]. */
function binRun(op: i32, a: usize, as: i32, b: usize, bs: i32, out: usize, n: i32): void {
  let i = 0;
  if (op != 6) {
    if (as == 1 && bs == 1) {
      for (; i + 4 <= n; i += 4) { const o: usize = <usize>i << 2; v128.store(out + o, binVec(op, v128.load(a + o), v128.load(b + o))); }
    } else if (as == 1 && bs == 0) {
      const bv = v128.load32_splat(b);
      for (; i + 4 <= n; i += 4) { const o: usize = <usize>i << 2; v128.store(out + o, binVec(op, v128.load(a + o), bv)); }
    } else if (as == 0 && bs == 1) {
      const av = v128.load32_splat(a);
      for (; i + 4 <= n; i += 4) { const o: usize = <usize>i << 2; v128.store(out + o, binVec(op, av, v128.load(b + o))); }
    }
  }
  for (; i < n; i++) {
    store<f32>(out + (<usize>i << 2), <f32>bin64(op, <f64>load<f32>(a + (<usize>(i * as) << 2)), <f64>load<f32>(b + (<usize>(i * bs) << 2))));
  }
}

/**
 * out = a op b with broadcasting. Parameter block: Binary (rank 1..Block.MAX_RANK;
 * strides in elements, 0 on broadcast axes).
 */
export function k_binary(p: usize, part: i32, parts: i32): void {
  const rank = pi(p, Binary.RANK), op = pi(p, Binary.OP), a = pu(p, Binary.A), b = pu(p, Binary.B), out = pu(p, Binary.OUT), total = pi(p, Binary.TOTAL);
  const s = partStart(total, part, parts, 16), e = partStart(total, part + 1, parts, 16);
  if (s >= e) return;
  const last = rank - 1;
  const inner = pi(p, Binary.SHAPE + last), ias = pi(p, Binary.A_STRIDES + last), ibs = pi(p, Binary.B_STRIDES + last);
  // Index of s along each axis, and the input offsets there.
  let ai = 0, bi = 0, rest = s;
  const idx = p + Block.ODOMETER_BYTE; // scratch slots for the odometer, inside this part's own area below
  for (let d = last; d >= 0; d--) {
    const dim = pi(p, Binary.SHAPE + d);
    const q = rest % dim; rest = rest / dim;
    store<i32>(idx + (<usize>part << 5) + (<usize>d << 2), q);
    ai += q * pi(p, Binary.A_STRIDES + d); bi += q * pi(p, Binary.B_STRIDES + d);
  }
  const id = idx + (<usize>part << 5);
  let pos = s;
  while (pos < e) {
    const j = load<i32>(id + (<usize>last << 2));
    const len = min(inner - j, e - pos);
    binRun(op, a + (<usize>ai << 2), ias, b + (<usize>bi << 2), ibs, out + (<usize>pos << 2), len);
    pos += len;
    ai += len * ias; bi += len * ibs;
    store<i32>(id + (<usize>last << 2), j + len);
    // Carry into the outer axes.
    for (let d = last; d > 0; d--) {
      const dim = pi(p, Binary.SHAPE + d);
      const q = load<i32>(id + (<usize>d << 2));
      if (q < dim) break;
      store<i32>(id + (<usize>d << 2), 0);
      ai -= dim * pi(p, Binary.A_STRIDES + d); bi -= dim * pi(p, Binary.B_STRIDES + d);
      const q1 = load<i32>(id + (<usize>(d - 1) << 2)) + 1;
      store<i32>(id + (<usize>(d - 1) << 2), q1);
      ai += pi(p, Binary.A_STRIDES + d - 1); bi += pi(p, Binary.B_STRIDES + d - 1);
    }
  }
}

/** out = x op s (or s op x when reversed), in float64 like the reference. Parameter block: BinaryScalar. */
export function k_binary_scalar(p: usize, part: i32, parts: i32): void {
  const n = pi(p, BinaryScalar.N), op = pi(p, BinaryScalar.OP), rev = pi(p, BinaryScalar.REVERSE), x = pu(p, BinaryScalar.X), out = pu(p, BinaryScalar.OUT);
  const sc = load<f64>(p + (<usize>BinaryScalar.S << 2));
  const s = partStart(n, part, parts, 16), e = partStart(n, part + 1, parts, 16);
  let i = s;
  if (op <= 3) {
    const sv = f64x2.splat(sc);
    for (; i + 4 <= e; i += 4) {
      const v = v128.load(x + (<usize>i << 2));
      const lo = f64x2.promote_low_f32x4(v);
      const hi = f64x2.promote_low_f32x4(i32x4.shuffle(v, v, 2, 3, 0, 1));
      let rl: v128, rh: v128;
      if (op == BIN_ADD) { rl = f64x2.add(lo, sv); rh = f64x2.add(hi, sv); }
      else if (op == BIN_MUL) { rl = f64x2.mul(lo, sv); rh = f64x2.mul(hi, sv); }
      else if (op == BIN_SUB) { if (rev) { rl = f64x2.sub(sv, lo); rh = f64x2.sub(sv, hi); } else { rl = f64x2.sub(lo, sv); rh = f64x2.sub(hi, sv); } }
      else { if (rev) { rl = f64x2.div(sv, lo); rh = f64x2.div(sv, hi); } else { rl = f64x2.div(lo, sv); rh = f64x2.div(hi, sv); } }
      const dl = f32x4.demote_f64x2_zero(rl), dh = f32x4.demote_f64x2_zero(rh);
      v128.store(out + (<usize>i << 2), i32x4.shuffle(dl, dh, 0, 1, 4, 5));
    }
  }
  for (; i < e; i++) {
    const v = <f64>load<f32>(x + (<usize>i << 2));
    store<f32>(out + (<usize>i << 2), <f32>(rev ? bin64(op, sc, v) : bin64(op, v, sc)));
  }
}

/** out = act(x + bias) over rows x c. Parameter block: BiasAct (BIAS 0: none). */
export function k_bias_act(p: usize, part: i32, parts: i32): void {
  const rows = pi(p, BiasAct.ROWS), c = pi(p, BiasAct.C), act = pi(p, BiasAct.ACT), alpha = pf(p, BiasAct.ALPHA), x = pu(p, BiasAct.X), bias = pu(p, BiasAct.BIAS), out = pu(p, BiasAct.OUT);
  const r0 = partStart(rows, part, parts, 1), r1 = partStart(rows, part + 1, parts, 1);
  const av = f32x4.splat(alpha);
  const vec = isVecOp(act);
  for (let r = r0; r < r1; r++) {
    const xr = x + ((<usize>r * c) << 2), orow = out + ((<usize>r * c) << 2);
    let j = 0;
    if (vec) {
      for (; j + 4 <= c; j += 4) {
        const o: usize = <usize>j << 2;
        let v = v128.load(xr + o);
        if (bias) v = f32x4.add(v, v128.load(bias + o));
        v128.store(orow + o, unaryVec(act, v, av));
      }
    }
    for (; j < c; j++) {
      const o: usize = <usize>j << 2;
      let v = <f64>load<f32>(xr + o);
      if (bias) v += <f64>load<f32>(bias + o);
      store<f32>(orow + o, <f32>unary64(act, v, <f64>alpha));
    }
  }
}

// ---- reductions --------------------------------------------------------------------------

// @ts-ignore: decorator
@inline function initOf(op: i32): f64 {
  return op == RED_MAX ? -Infinity : op == RED_MIN ? Infinity : op == RED_PROD ? 1 : 0;
}
// @ts-ignore: decorator
@inline function combine(op: i32, acc: f64, v: f64): f64 {
  if (op == RED_MAX) return v > acc || v != v ? v : acc;
  if (op == RED_MIN) return v < acc || v != v ? v : acc;
  if (op == RED_PROD) return acc * v;
  return acc + v;
}


/**
 * Reduces x viewed as [outer, n, inner] over j in [j0, j1) for outer rows [o0, o1), into float64
 * accumulators written to dst64 (when non-zero, as [outer, inner]) or finished into out32.
 * acc is CHUNK float64 of scratch.
 */
function reduceRange(op: i32, x: usize, n: i32, inner: i32, o0: i32, o1: i32, j0: i32, j1: i32, acc: usize, dst64: usize, out32: usize): void {
  const init = initOf(op);
  for (let o = o0; o < o1; o++) {
    for (let i0 = 0; i0 < inner; i0 += CHUNK) {
      const w = min(CHUNK, inner - i0);
      for (let i = 0; i < w; i++) store<f64>(acc + (<usize>i << 3), init);
      for (let j = j0; j < j1; j++) {
        const row = x + ((<usize>(o * n + j) * inner + i0) << 2);
        let i = 0;
        if (op == RED_SUM || op == RED_MEAN) {
          for (; i + 4 <= w; i += 4) {
            const v = v128.load(row + (<usize>i << 2));
            const q = acc + (<usize>i << 3);
            v128.store(q, f64x2.add(v128.load(q), f64x2.promote_low_f32x4(v)));
            v128.store(q, f64x2.add(v128.load(q, 16), f64x2.promote_low_f32x4(i32x4.shuffle(v, v, 2, 3, 0, 1))), 16);
          }
        }
        for (; i < w; i++) {
          const q = acc + (<usize>i << 3);
          store<f64>(q, combine(op, load<f64>(q), <f64>load<f32>(row + (<usize>i << 2))));
        }
      }
      for (let i = 0; i < w; i++) {
        const v = load<f64>(acc + (<usize>i << 3));
        const at = <usize>(o * inner + i0 + i);
        if (dst64) store<f64>(dst64 + (at << 3), v);
        else store<f32>(out32 + (at << 2), <f32>(op == RED_MEAN ? v / n : v));
      }
    }
  }
}

/**
 * x [outer, n, inner] -> out [outer, inner]. Ops: 0 sum, 1 max, 2 min, 3 mean, 4 prod.
 * Parameter block: Reduce; SPLIT_N 1: each part reduces a range of n into float64 partials at
 * scratch + CHUNK*8, combined by k_reduce_sum; 0: parts are outer rows.
 */
export function k_reduce(p: usize, part: i32, parts: i32): void {
  const op = pi(p, Reduce.OP), outer = pi(p, Reduce.OUTER), n = pi(p, Reduce.N), inner = pi(p, Reduce.INNER), x = pu(p, Reduce.X), out = pu(p, Reduce.OUT);
  const scratch = pu(p, Reduce.SCRATCH) + <usize>part * pu(p, Reduce.PER_PART);
  if (pi(p, Reduce.SPLIT_N)) {
    const j0 = partStart(n, part, parts, 1), j1 = partStart(n, part + 1, parts, 1);
    reduceRange(op, x, n, inner, 0, outer, j0, j1, scratch, scratch + (CHUNK << 3), 0);
  } else {
    const o0 = partStart(outer, part, parts, 1), o1 = partStart(outer, part + 1, parts, 1);
    reduceRange(op, x, n, inner, o0, o1, 0, n, scratch, 0, out);
  }
}

/** Combines the partials of k_reduce in part order. Params as k_reduce plus 9: its part count. */
export function k_reduce_sum(p: usize, part: i32, parts: i32): void {
  const op = pi(p, Reduce.OP), outer = pi(p, Reduce.OUTER), n = pi(p, Reduce.N), inner = pi(p, Reduce.INNER), out = pu(p, Reduce.OUT);
  const scratch = pu(p, Reduce.SCRATCH) + (CHUNK << 3), stride = pu(p, Reduce.PER_PART), np = pi(p, Reduce.PARTS);
  const total = outer * inner;
  const s = partStart(total, part, parts, 1), e = partStart(total, part + 1, parts, 1);
  for (let i = s; i < e; i++) {
    let acc = initOf(op);
    for (let t = 0; t < np; t++) {
      const v = load<f64>(scratch + <usize>t * stride + (<usize>i << 3));
      if (op == RED_MAX) acc = v > acc || v != v ? v : acc;
      else if (op == RED_MIN) acc = v < acc || v != v ? v : acc;
      else if (op == RED_PROD) acc *= v;
      else acc += v;
    }
    store<f32>(out + (<usize>i << 2), <f32>(op == RED_MEAN ? acc / n : acc));
  }
}

/** Row-wise softmax of [rows, cols], in float64 like the reference. Parameter block: Softmax. */
export function k_softmax(p: usize, part: i32, parts: i32): void {
  const rows = pi(p, Softmax.ROWS), cols = pi(p, Softmax.COLS), x = pu(p, Softmax.X), out = pu(p, Softmax.OUT);
  const r0 = partStart(rows, part, parts, 1), r1 = partStart(rows, part + 1, parts, 1);
  for (let r = r0; r < r1; r++) {
    const xr = x + ((<usize>r * cols) << 2), orow = out + ((<usize>r * cols) << 2);
    let m: f64 = -Infinity;
    for (let c = 0; c < cols; c++) m = max(m, <f64>load<f32>(xr + (<usize>c << 2)));
    let s: f64 = 0;
    for (let c = 0; c < cols; c++) {
      const e = Math.exp(<f64>load<f32>(xr + (<usize>c << 2)) - m);
      store<f32>(orow + (<usize>c << 2), <f32>e);
      s += e;
    }
    for (let c = 0; c < cols; c++) {
      const q = orow + (<usize>c << 2);
      store<f32>(q, <f32>(<f64>load<f32>(q) / s));
    }
  }
}

/**
 * General transpose of 4-byte elements. Parameter block: Transpose (the shape is out's, the
 * strides are x's, in elements, along each out axis).
 */
export function k_transpose(p: usize, part: i32, parts: i32): void {
  const rank = pi(p, Transpose.RANK), total = pi(p, Transpose.TOTAL), x = pu(p, Transpose.X), out = pu(p, Transpose.OUT);
  const s = partStart(total, part, parts, 16), e = partStart(total, part + 1, parts, 16);
  if (s >= e) return;
  const last = rank - 1;
  const inner = pi(p, Transpose.SHAPE + last), ist = pi(p, Transpose.STRIDES + last);
  const id = p + Block.ODOMETER_BYTE + (<usize>part << 5);
  let xi = 0, rest = s;
  for (let d = last; d >= 0; d--) {
    const dim = pi(p, Transpose.SHAPE + d);
    const q = rest % dim; rest = rest / dim;
    store<i32>(id + (<usize>d << 2), q);
    xi += q * pi(p, Transpose.STRIDES + d);
  }
  let pos = s;
  while (pos < e) {
    const j = load<i32>(id + (<usize>last << 2));
    const len = min(inner - j, e - pos);
    const src = x + (<usize>xi << 2), dst = out + (<usize>pos << 2);
    for (let i = 0; i < len; i++) store<u32>(dst + (<usize>i << 2), load<u32>(src + (<usize>(i * ist) << 2)));
    pos += len; xi += len * ist;
    store<i32>(id + (<usize>last << 2), j + len);
    for (let d = last; d > 0; d--) {
      const dim = pi(p, Transpose.SHAPE + d);
      const q = load<i32>(id + (<usize>d << 2));
      if (q < dim) break;
      store<i32>(id + (<usize>d << 2), 0);
      xi -= dim * pi(p, Transpose.STRIDES + d);
      store<i32>(id + (<usize>(d - 1) << 2), load<i32>(id + (<usize>(d - 1) << 2)) + 1);
      xi += pi(p, Transpose.STRIDES + d - 1);
    }
  }
}

/** JavaScript's ToInt32 of a truncated finite double (NaN and infinities give 0). */
// @ts-ignore: decorator
@inline function toInt32(v: f64): i32 {
  if (!isFinite(v)) return 0;
  const t = Math.trunc(v);
  if (Math.abs(t) < 9.2e18) return <i32><i64>t;
  return <i32>(<i64>(t % 4294967296.0));
}

/** Dtype conversion. Codes: 0 float32, 1 int32, 2 uint8, 3 float64. Parameter block: Cast. */
export function k_cast(p: usize, part: i32, parts: i32): void {
  const n = pi(p, Cast.N), from = pi(p, Cast.FROM), to = pi(p, Cast.TO), x = pu(p, Cast.X), out = pu(p, Cast.OUT);
  const s = partStart(n, part, parts, 16), e = partStart(n, part + 1, parts, 16);
  for (let i = s; i < e; i++) {
    const ii = <usize>i;
    let v: f64;
    if (from == 0) v = <f64>load<f32>(x + (ii << 2));
    else if (from == 1) v = <f64>load<i32>(x + (ii << 2));
    else if (from == 2) v = <f64>load<u8>(x + ii);
    else v = load<f64>(x + (ii << 3));
    if (to == 0) store<f32>(out + (ii << 2), <f32>v);
    else if (to == 1) store<i32>(out + (ii << 2), toInt32(v));
    else if (to == 2) { const t = Math.trunc(v); store<u8>(out + ii, t != t ? 0 : <u8>min(max(t, 0), 255)); }
    else store<f64>(out + (ii << 3), v);
  }
}

/** Fills n floats with a value. Parameter block: Fill. */
export function k_fill(p: usize, part: i32, parts: i32): void {
  const n = pi(p, Fill.N), v = pf(p, Fill.VALUE), ptr = pu(p, Fill.PTR);
  const s = partStart(n, part, parts, 16), e = partStart(n, part + 1, parts, 16);
  let i = s;
  const vv = f32x4.splat(v);
  for (; i + 4 <= e; i += 4) v128.store(ptr + (<usize>i << 2), vv);
  for (; i < e; i++) store<f32>(ptr + (<usize>i << 2), v);
}
