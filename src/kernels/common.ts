// Shared helpers of the kernels: the parameter block, partitioning, scalar activations.
//
// Every kernel is `k_name(params: usize, part: i32, parts: i32)`: `params` points at a block of
// 32-bit slots written by the TypeScript side (pointers as u32, sizes as i32, reals as f32), and
// the kernel computes part `part` of `parts` fixed, disjoint pieces of the work. The same
// partition for the same `parts` keeps the results bit-identical whichever thread runs a part.

// @ts-ignore: decorator
@inline export function pi(p: usize, i: i32): i32 { return load<i32>(p + (<usize>i << 2)); }
// @ts-ignore: decorator
@inline export function pu(p: usize, i: i32): usize { return <usize>load<u32>(p + (<usize>i << 2)); }
// @ts-ignore: decorator
@inline export function pf(p: usize, i: i32): f32 { return load<f32>(p + (<usize>i << 2)); }

/** Start of part `part` of `parts` over [0, total), in whole units of `align`. */
export function partStart(total: i32, part: i32, parts: i32, align: i32): i32 {
  const units = (<i64>total + align - 1) / align;
  const s = <i32>(units * part / parts) * align;
  return s < total ? s : total;
}

/** Copies n floats (runs are short in im2col: a few channels). */
// @ts-ignore: decorator
@inline export function copyF32(dst: usize, src: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) v128.store(dst + (<usize>i << 2), v128.load(src + (<usize>i << 2)));
  for (; i < n; i++) store<f32>(dst + (<usize>i << 2), load<f32>(src + (<usize>i << 2)));
}

// @ts-ignore: decorator
@inline export function zeroF32(dst: usize, n: i32): void {
  let i = 0;
  const z = f32x4.splat(0);
  for (; i + 4 <= n; i += 4) v128.store(dst + (<usize>i << 2), z);
  for (; i < n; i++) store<f32>(dst + (<usize>i << 2), 0);
}

// Activation / unary op codes: the `code` column of the activation table (src/backend/activations.ts).
export const A_LINEAR = 0;
export const A_RELU = 1;

const SELU_ALPHA: f64 = 1.6732632423543772848170429916717;
const SELU_SCALE: f64 = 1.0507009873554804934193349852946;

function sigmoid(x: f64): f64 {
  return x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x));
}

/** erf to ~1e-7: the same Numerical Recipes erfc form as src/backend/activations.ts. */
function erf(x: f64): f64 {
  const s: f64 = x < 0 ? -1 : 1;
  const a = Math.abs(x);
  const t = 1 / (1 + 0.5 * a);
  const y = t * Math.exp(-a * a - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 +
    t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 +
    t * (-0.82215223 + t * 0.17087277)))))))));
  return s * (1 - y);
}

/** f(x) in float64, as the reference backend computes it. */
export function unary64(op: i32, x: f64, alpha: f64): f64 {
  switch (op) {
    case 0: return x;
    case 1: return x < 0 ? 0 : x; // NaN stays NaN, as pmax(x, 0)
    case 2: return sigmoid(x);
    case 3: return Math.tanh(x);
    case 4: return x > 0 ? x : alpha * Math.expm1(x);
    case 5: return x > 0 ? SELU_SCALE * x : SELU_SCALE * SELU_ALPHA * Math.expm1(x);
    case 6: return x > 0 ? x : alpha * x;
    case 7: return 0.5 * x * (1 + erf(x / Math.SQRT2));
    case 8: return x * sigmoid(x);
    case 9: return x > 20 ? x : Math.log1p(Math.exp(x));
    case 10: return min(max(x, 0), 6);
    case 11: return min(max(x + 3, 0), 6) / 6;
    case 12: return Math.exp(x);
    case 13: return Math.log(x);
    case 14: return -x;
    case 15: return Math.abs(x);
    case 16: return Math.sqrt(x);
    case 17: return x * x;
    case 18: return 1 / x;
    case 19: return x > 0 ? 1 : x < 0 ? -1 : x == 0 ? 0 : x;
  }
  return x;
}

/** f'(x) given x and y = f(x), in float64. */
export function unaryGrad64(op: i32, x: f64, y: f64, alpha: f64): f64 {
  switch (op) {
    case 0: return 1;
    case 1: return x > 0 ? 1 : x != x ? x : 0;
    case 2: return y * (1 - y);
    case 3: return 1 - y * y;
    case 4: return x > 0 ? 1 : y + alpha;
    case 5: return x > 0 ? SELU_SCALE : y + SELU_SCALE * SELU_ALPHA;
    case 6: return x > 0 ? 1 : x != x ? x : alpha;
    case 7: return 0.5 * (1 + erf(x / Math.SQRT2)) + x * Math.exp(-0.5 * x * x) / Math.sqrt(2 * Math.PI);
    case 8: { const s = sigmoid(x); return s * (1 + x * (1 - s)); }
    case 9: return sigmoid(x);
    case 10: return x > 0 && x < 6 ? 1 : x != x ? x : 0;
    case 11: return x > -3 && x < 3 ? 1.0 / 6 : x != x ? x : 0;
  }
  return 1;
}

/** Whether `unaryVec` handles op with f32x4 (cheap, exact ops). */
// @ts-ignore: decorator
@inline export function isVecOp(op: i32): bool {
  return op == 0 || op == 1 || op == 6 || op == 10 || op == 14 || op == 15 || op == 16 || op == 17 || op == 18;
}

// @ts-ignore: decorator
@inline export function unaryVec(op: i32, v: v128, alpha: v128): v128 {
  const z = f32x4.splat(0);
  switch (op) {
    case 1: return f32x4.pmax(v, z); // v < 0 ? 0 : v: NaN stays NaN
    case 6: return v128.bitselect(v, f32x4.mul(v, alpha), f32x4.gt(v, z));
    case 10: return f32x4.min(f32x4.max(v, z), f32x4.splat(6));
    case 14: return f32x4.neg(v);
    case 15: return f32x4.abs(v);
    case 16: return f32x4.sqrt(v);
    case 17: return f32x4.mul(v, v);
    case 18: return f32x4.div(f32x4.splat(1), v);
  }
  return v;
}

/** Applies activation `op` in place to rows x cols floats at c (row stride ldc bytes). */
export function actRows(op: i32, alpha: f32, c: usize, rows: i32, cols: i32, ldc: usize): void {
  if (op == 0) return;
  const av = f32x4.splat(alpha);
  for (let r = 0; r < rows; r++) {
    const row = c + <usize>r * ldc;
    let j = 0;
    if (isVecOp(op)) for (; j + 4 <= cols; j += 4) v128.store(row + (<usize>j << 2), unaryVec(op, v128.load(row + (<usize>j << 2)), av));
    for (; j < cols; j++) {
      const q = row + (<usize>j << 2);
      store<f32>(q, <f32>unary64(op, <f64>load<f32>(q), <f64>alpha));
    }
  }
}
