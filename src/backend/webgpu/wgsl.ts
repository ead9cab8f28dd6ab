/**
 * WGSL sources of the webgpu backend, generated per variant (op, transposes, optional buffers) and
 * compiled once by the backend's pipeline cache.
 *
 * Every kernel reads its integer and float parameters from one uniform block of 32 words
 * (`array<vec4<u32>, 8>`, floats bit-cast), written per call from a typed array. Elementwise
 * kernels run 256 invocations per workgroup over a 2-D grid (WebGPU limits one dimension to 65,535
 * workgroups); `elementwise()` writes their common part (prelude, entry point, bounds check) around
 * each one's bindings and body. NaN follows src/backend/backend.ts: tests use bit patterns, never `x != x` (shader
 * compilers may assume finite math), and exp/log are computed here to ~1 ulp rather than with the
 * builtins (whose error WGSL allows to grow to thousands of ulp).
 */
import type { Activation, BinaryOp, ReduceOp, UnaryOp } from '../backend.js';
import { SELU_ALPHA, SELU_SCALE } from '../activations.js';

/** Words in the uniform parameter block of every kernel. */
export const PARAM_WORDS = 32;
export const WG = 256;

const f = (x: number): string => {
  const s = Math.fround(x).toPrecision(9);
  return /[.e]/.test(s) ? s : s + '.0';
};

/** Shared helpers: parameter access, NaN/infinity bits, accurate exp/log/expm1/log1p, erf, sigmoid. */
export const PRELUDE = /* wgsl */ `
@group(0) @binding(0) var<uniform> params: array<vec4<u32>, 8>;
fn pu(i: u32) -> u32 { return params[i / 4u][i % 4u]; }
fn pf(i: u32) -> f32 { return bitcast<f32>(pu(i)); }
var<private> NAN_BITS: u32 = 0x7fc00000u;
var<private> INF_BITS: u32 = 0x7f800000u;
fn nan_() -> f32 { return bitcast<f32>(NAN_BITS); }
fn inf_() -> f32 { return bitcast<f32>(INF_BITS); }
fn isnan_(x: f32) -> bool { return (bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u; }
fn max_(a: f32, b: f32) -> f32 { return select(b, a, a >= b || isnan_(a)); }
fn min_(a: f32, b: f32) -> f32 { return select(b, a, a <= b || isnan_(a)); }
fn exp_(x: f32) -> f32 {
  if (isnan_(x)) { return x; }
  if (x > 88.72284) { return inf_(); }
  if (x < -103.97208) { return 0.0; }
  let n = round(x * 1.44269504);
  let r = (x - n * 0.693145752) - n * 1.42860677e-6;
  let p = 1.0 + r * (1.0 + r * (0.5 + r * (0.166666672 + r * (0.0416666679 + r * (0.00833333377 + r * (0.00138888892 + r * 0.000198412701))))));
  let e = i32(n);
  if (e < -126) { return ldexp(ldexp(p, e + 64), -64); }
  if (e > 127) { return ldexp(ldexp(p, e - 64), 64); }
  return ldexp(p, e);
}
fn expm1_(x: f32) -> f32 {
  if (abs(x) < 0.5) {
    return x * (1.0 + x * (0.5 + x * (0.166666672 + x * (0.0416666679 + x * (0.00833333377 + x * (0.00138888892 + x * (0.000198412701 + x * 2.48015876e-5)))))));
  }
  return exp_(x) - 1.0;
}
fn log_(x: f32) -> f32 {
  if (isnan_(x) || x < 0.0) { return nan_(); }
  if (x == 0.0) { return -inf_(); }
  if (bitcast<u32>(x) == INF_BITS) { return x; }
  var m = frexp(x).fract;
  var e = frexp(x).exp;
  if (m < 0.707106781) { m = m * 2.0; e = e - 1; }
  let g = m - 1.0;
  let s = g / (2.0 + g);
  let s2 = s * s;
  let l = 2.0 * s * (1.0 + s2 * (0.333333343 + s2 * (0.2 + s2 * (0.142857149 + s2 * (0.111111112 + s2 * 0.0909090936)))));
  let ef = f32(e);
  return ef * 0.693145752 + (l + ef * 1.42860677e-6);
}
fn log1p_(y: f32) -> f32 {
  let u = 1.0 + y;
  if (u == 1.0) { return y; }
  if (bitcast<u32>(u) == INF_BITS) { return u; }
  return log_(u) * (y / (u - 1.0));
}
fn sigm_(x: f32) -> f32 {
  if (x >= 0.0) { return 1.0 / (1.0 + exp_(-x)); }
  let e = exp_(x);
  return e / (1.0 + e);
}
fn erf_(x: f32) -> f32 {
  let s = select(1.0, -1.0, x < 0.0);
  let a = abs(x);
  let t = 1.0 / (1.0 + 0.5 * a);
  let y = t * exp_(-a * a - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 +
    t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 +
    t * (-0.82215223 + t * 0.17087277)))))))));
  return s * (1.0 - y);
}
fn tanh_(x: f32) -> f32 {
  let e = expm1_(-2.0 * abs(x));
  let t = -e / (e + 2.0);
  return select(t, -t, x < 0.0);
}
fn pow_(a: f32, b: f32) -> f32 {
  if (b == 0.0) { return 1.0; }
  if (isnan_(a) || isnan_(b)) { return nan_(); }
  if (a == 0.0) { return select(0.0, inf_(), b < 0.0); }
  if (a > 0.0) { return exp_(b * log_(a)); }
  if (floor(b) != b) { return nan_(); }
  let r = exp_(b * log_(-a));
  let odd = abs(b) < 16777216.0 && (i32(b) & 1) != 0;
  return select(r, -r, odd);
}
// a * b - p exactly (Dekker/Veltkamp splitting; WGSL's fma need not be fused).
fn twoProdErr(a: f32, b: f32, p: f32) -> f32 {
  let ca = 4097.0 * a;
  let ah = ca - (ca - a);
  let al = a - ah;
  let cb = 4097.0 * b;
  let bh = cb - (cb - b);
  let bl = b - bh;
  return ((ah * bh - p) + ah * bl + al * bh) + al * bl;
}
// Linear index of a 2-D grid of 256-wide workgroups.
fn gid(wid: vec3<u32>, nwg: vec3<u32>, li: u32) -> u32 { return (wid.y * nwg.x + wid.x) * ${WG}u + li; }
`;

/** Body of f(x) for every unary op (NaN in, NaN out, handled by the caller). */
function unaryExpr(op: UnaryOp): string {
  switch (op) {
    case 'linear': return 'x';
    case 'relu': return 'select(x, 0.0, x < 0.0)';
    case 'sigmoid': return 'sigm_(x)';
    case 'tanh': return 'tanh_(x)';
    case 'elu': return 'select(alpha * expm1_(x), x, x > 0.0)';
    case 'selu': return `select(${f(SELU_SCALE * SELU_ALPHA)} * expm1_(x), ${f(SELU_SCALE)} * x, x > 0.0)`;
    case 'leaky_relu': return 'select(alpha * x, x, x > 0.0)';
    case 'gelu': return '0.5 * x * (1.0 + erf_(x * 0.707106781))';
    case 'swish': return 'x * sigm_(x)';
    case 'softplus': return 'select(log1p_(exp_(x)), x, x > 20.0)';
    case 'relu6': return 'min(max(x, 0.0), 6.0)';
    case 'hard_sigmoid': return 'min(max(x + 3.0, 0.0), 6.0) / 6.0';
    case 'exp': return 'exp_(x)';
    case 'log': return 'log_(x)';
    case 'neg': return '-x';
    case 'abs': return 'abs(x)';
    case 'sqrt': return 'select(sqrt(x), nan_(), x < 0.0)';
    case 'square': return 'x * x';
    case 'reciprocal': return '1.0 / x';
    case 'sign': return 'select(select(0.0, -1.0, x < 0.0), 1.0, x > 0.0)';
  }
}

/** Codes of the unary ops (the kernels switch on a uniform code: one pipeline for all of them). */
export const UNARY_CODES: readonly UnaryOp[] = [
  'linear', 'relu', 'sigmoid', 'tanh', 'elu', 'selu', 'leaky_relu', 'gelu', 'swish', 'softplus', 'relu6',
  'hard_sigmoid', 'exp', 'log', 'neg', 'abs', 'sqrt', 'square', 'reciprocal', 'sign',
];
export const BINARY_CODES: readonly BinaryOp[] = ['add', 'sub', 'mul', 'div', 'max', 'min', 'pow', 'greater', 'less', 'equal'];

/** `fn act(x, alpha, op)`: unary op number `op` (UNARY_CODES), NaN passed through. */
export const ACT_FN = `fn act(x: f32, alpha: f32, op: u32) -> f32 {
  if (isnan_(x)) { return x; }
  switch op {
${UNARY_CODES.map((o, i) => `    case ${i}u: { return ${unaryExpr(o)}; }`).join('\n')}
    default: { return x; }
  }
}`;

function dactExpr(op: Activation): string {
  switch (op) {
    case 'linear': return '1.0';
    case 'relu': return 'select(0.0, 1.0, x > 0.0)';
    case 'sigmoid': return 'y * (1.0 - y)';
    case 'tanh': return '1.0 - y * y';
    case 'elu': return 'select(y + alpha, 1.0, x > 0.0)';
    case 'selu': return `select(y + ${f(SELU_SCALE * SELU_ALPHA)}, ${f(SELU_SCALE)}, x > 0.0)`;
    case 'leaky_relu': return 'select(alpha, 1.0, x > 0.0)';
    case 'gelu': return '0.5 * (1.0 + erf_(x * 0.707106781)) + x * exp_(-0.5 * x * x) * 0.398942280';
    case 'swish': return '(sigm_(x) * (1.0 + x * (1.0 - sigm_(x))))';
    case 'softplus': return 'sigm_(x)';
    case 'relu6': return 'select(0.0, 1.0, x > 0.0 && x < 6.0)';
    case 'hard_sigmoid': return 'select(0.0, 0.166666672, x > -3.0 && x < 3.0)';
  }
}

/** `fn dact(x, y, alpha, op)`: f'(x) given y = f(x); NaN at a NaN input except for linear (op 0). */
const DACT_FN = `fn dact(x: f32, y: f32, alpha: f32, op: u32) -> f32 {
  if (op == 0u) { return 1.0; }
  if (isnan_(x)) { return nan_(); }
  switch op {
${UNARY_CODES.slice(0, 12).map((o, i) => `    case ${i}u: { return ${dactExpr(o as Activation)}; }`).join('\n')}
    default: { return 1.0; }
  }
}`;

function binaryExpr(op: BinaryOp): string {
  switch (op) {
    case 'add': return 'a + b';
    case 'sub': return 'a - b';
    case 'mul': return 'a * b';
    case 'div': return 'a / b';
    case 'max': return 'max_(a, b)';
    case 'min': return 'min_(a, b)';
    case 'pow': return 'pow_(a, b)';
    case 'greater': return 'select(0.0, 1.0, a > b)';
    case 'less': return 'select(0.0, 1.0, a < b)';
    case 'equal': return 'select(0.0, 1.0, a == b)';
  }
}

/** `fn bin(a, b, op)`: binary op number `op` (BINARY_CODES). */
const BIN_FN = `fn bin(a: f32, b: f32, op: u32) -> f32 {
  switch op {
${BINARY_CODES.map((o, i) => `    case ${i}u: { return ${binaryExpr(o)}; }`).join('\n')}
    default: { return a; }
  }
}`;

/**
 * x op s with s a float64 given as hi + lo (two float32s), rounded once as the wasm and reference
 * backends do in float64: error-free transformations (TwoSum, fma) for + - * /, and comparisons
 * that break ties at hi by the sign of lo. `rev`: s op x.
 */
const BIN_SCALAR_FN = `fn finite_(x: f32) -> bool { return (bitcast<u32>(x) & 0x7f800000u) != 0x7f800000u; }
fn addd(a: f32, hi: f32, lo: f32) -> f32 {
  let s = a + hi;
  if (!finite_(s) || !finite_(lo)) { return s + lo; }
  let bb = s - a;
  let e = (a - (s - bb)) + (hi - bb);
  return s + (e + lo);
}
fn gt_(x: f32, hi: f32, lo: f32) -> bool { return x > hi || (x == hi && lo < 0.0); }
fn lt_(x: f32, hi: f32, lo: f32) -> bool { return x < hi || (x == hi && lo > 0.0); }
fn binS(x: f32, hi: f32, lo: f32, op: u32, rev: bool) -> f32 {
  switch op {
    case 0u: { return addd(x, hi, lo); }
    case 1u: { if (rev) { return addd(-x, hi, lo); } return addd(x, -hi, -lo); }
    case 2u: {
      let p = x * hi;
      if (!finite_(p) || p == 0.0 || !finite_(lo)) { return p; }
      return p + (twoProdErr(x, hi, p) + x * lo);
    }
    case 3u: {
      if (rev) {
        let q = hi / x;
        if (!finite_(q) || q == 0.0 || !finite_(lo)) { return q; }
        let r = (hi - q * x) - twoProdErr(q, x, q * x);
        return q + (r + lo) / x;
      }
      let q = x / hi;
      if (!finite_(q) || q == 0.0 || !finite_(lo)) { return q; }
      let r = (x - q * hi) - twoProdErr(q, hi, q * hi);
      return q + (r - q * lo) / hi;
    }
    case 4u: { if (rev) { return select(x, hi, (!gt_(x, hi, lo) && !isnan_(x)) || isnan_(hi)); } return select(hi, x, (!lt_(x, hi, lo) && !isnan_(hi)) || isnan_(x)); }
    case 5u: { if (rev) { return select(x, hi, (!lt_(x, hi, lo) && !isnan_(x)) || isnan_(hi)); } return select(hi, x, (!gt_(x, hi, lo) && !isnan_(hi)) || isnan_(x)); }
    case 6u: { if (rev) { return pow_(hi, x); } return pow_(x, hi); }
    case 7u: { if (rev) { return select(0.0, 1.0, lt_(x, hi, lo)); } return select(0.0, 1.0, gt_(x, hi, lo)); }
    case 8u: { if (rev) { return select(0.0, 1.0, gt_(x, hi, lo)); } return select(0.0, 1.0, lt_(x, hi, lo)); }
    case 9u: { return select(0.0, 1.0, x == hi && lo == 0.0); }
    default: { return x; }
  }
}`;

export const MAIN = `@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) li: u32)`;

/** The entry point of an elementwise kernel: `i` is this invocation's element; those past params[0] return. */
const EACH = `${MAIN} {
  let i = gid(wid, nwg, li);
  if (i >= pu(0u)) { return; }`;

/** An elementwise kernel: PRELUDE, `head` (helper functions), `decls` (bindings), then `body` for each element i. */
function elementwise(decls: string, body: string, head = ''): string {
  return `${PRELUDE}${head}\n${decls}\n${EACH}${body}\n}`;
}

/** The usual pair of bindings: input X (1) and output O (2), arrays of `type`. */
export function io(type: 'f32' | 'u32'): string {
  return `@group(0) @binding(1) var<storage, read> X: array<${type}>;
@group(0) @binding(2) var<storage, read_write> O: array<${type}>;`;
}

// ---- elementwise --------------------------------------------------------------------------------

/** params: [n, alpha, op]. */
export function unaryShader(): string {
  return elementwise(io('f32'), `
  O[i] = act(X[i], pf(1u), pu(2u));`, ACT_FN);
}

/** params: [n, alpha, op]. */
export function unaryGradShader(): string {
  return elementwise(`@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(2) var<storage, read> Y: array<f32>;
@group(0) @binding(3) var<storage, read> DY: array<f32>;
@group(0) @binding(4) var<storage, read_write> DX: array<f32>;`, `
  DX[i] = DY[i] * dact(X[i], Y[i], pf(1u), pu(2u));`, DACT_FN);
}

/** params: [n, rank, outShape[rank], aStrides[rank], bStrides[rank]] (rank <= 9), op at word 31. */
export function binaryShader(): string {
  return elementwise(`@group(0) @binding(1) var<storage, read> A: array<f32>;
@group(0) @binding(2) var<storage, read> B: array<f32>;
@group(0) @binding(3) var<storage, read_write> O: array<f32>;`, `
  let rank = pu(1u);
  var rem = i;
  var ai = 0u;
  var bi = 0u;
  for (var d = rank; d > 0u; d = d - 1u) {
    let s = pu(1u + d);
    let c = rem % s;
    rem = rem / s;
    ai = ai + c * pu(1u + rank + d);
    bi = bi + c * pu(1u + 2u * rank + d);
  }
  O[i] = bin(A[ai], B[bi], pu(31u));`, BIN_FN);
}

/** params: [n, s hi, s lo, op, reverse]. */
export function binaryScalarShader(): string {
  return elementwise(io('f32'), `
  O[i] = binS(X[i], pf(1u), pf(2u), pu(3u), pu(4u) != 0u);`, BIN_SCALAR_FN);
}

/** params: [rows * c, c, alpha, op]. */
export function biasActShader(hasBias: boolean): string {
  return elementwise(`${io('f32')}
${hasBias ? '@group(0) @binding(3) var<storage, read> BIAS: array<f32>;' : ''}`, `
  O[i] = act(X[i]${hasBias ? ' + BIAS[i % pu(1u)]' : ''}, pf(2u), pu(3u));`, ACT_FN);
}

// ---- reductions, softmax ----------------------------------------------------------------------------

/**
 * Sums and products accumulate as an unevaluated pair hi + lo of float32s (error-free TwoSum / fma
 * steps, about 44 bits), so long reductions round like the float64 accumulators of the other
 * backends; `plain` carries the ordinary float32 result for infinities and NaN.
 */
const PAIR_FNS = `fn finite2_(x: f32) -> bool { return (bitcast<u32>(x) & 0x7f800000u) != 0x7f800000u; }
fn padd(a: vec2<f32>, b: vec2<f32>) -> vec2<f32> {
  let s = a.x + b.x;
  let bb = s - a.x;
  let e = (a.x - (s - bb)) + (b.x - bb) + a.y + b.y;
  let h = s + e;
  return vec2<f32>(h, e - (h - s));
}
fn pmul(a: vec2<f32>, b: vec2<f32>) -> vec2<f32> {
  let p = a.x * b.x;
  let e = twoProdErr(a.x, b.x, p) + a.x * b.y + a.y * b.x;
  let h = p + e;
  return vec2<f32>(h, e - (h - p));
}`;

function reduceStep(op: ReduceOp): { init: string; step: string; result: string; pair: boolean } {
  switch (op) {
    case 'max': return { init: '-inf_()', step: 'acc = select(acc, v, v > acc || isnan_(v));', result: 'acc', pair: false };
    case 'min': return { init: 'inf_()', step: 'acc = select(acc, v, v < acc || isnan_(v));', result: 'acc', pair: false };
    case 'prod': return { init: '1.0', step: 'acc = acc * v; pr = pmul(pr, vec2<f32>(v, 0.0));', result: 'select(acc, pr.x + pr.y, finite2_(acc))', pair: true };
    default: return { init: '0.0', step: 'acc = acc + v; pr = padd(pr, vec2<f32>(v, 0.0));', result: 'select(acc, pr.x + pr.y, finite2_(acc))', pair: true };
  }
}

/** One invocation per output. params: [outer, n, inner]. */
export function reduceShader(op: ReduceOp): string {
  const { init, step, result } = reduceStep(op);
  return `${PRELUDE}${PAIR_FNS}
${io('f32')}
${MAIN} {
  let i = gid(wid, nwg, li);
  let n = pu(1u);
  let inner = pu(2u);
  if (i >= pu(0u) * inner) { return; }
  let o = i / inner;
  let c = i % inner;
  var acc: f32 = ${init};
  var pr = vec2<f32>(${init}, 0.0);
  for (var j = 0u; j < n; j = j + 1u) { let v = X[(o * n + j) * inner + c]; ${step} }
  let r = ${result};
  O[i] = ${op === 'mean' ? 'r / f32(n)' : 'r'};
}`;
}

/** One workgroup per output, 256 invocations striding over n then a tree. params: [outer, n, inner]. */
export function reduceWideShader(op: ReduceOp): string {
  const { init, step, pair } = reduceStep(op);
  const combine = op === 'max' ? 'max_(a, b)' : op === 'min' ? 'min_(a, b)' : op === 'prod' ? 'a * b' : 'a + b';
  const pcombine = op === 'prod' ? 'pmul' : 'padd';
  return `${PRELUDE}${PAIR_FNS}
${io('f32')}
var<workgroup> part: array<f32, ${WG}>;
var<workgroup> ppart: array<vec2<f32>, ${WG}>;
fn comb(a: f32, b: f32) -> f32 { return ${combine}; }
${MAIN} {
  let i = wid.y * nwg.x + wid.x;
  let n = pu(1u);
  let inner = pu(2u);
  let outs = pu(0u) * inner;
  let o = i / inner;
  let c = i % inner;
  var acc: f32 = ${init};
  var pr = vec2<f32>(${init}, 0.0);
  if (i < outs) {
    for (var j = li; j < n; j = j + ${WG}u) { let v = X[(o * n + j) * inner + c]; ${step} }
  }
  part[li] = acc;
  ppart[li] = pr;
  workgroupBarrier();
  for (var s = ${WG / 2}u; s > 0u; s = s >> 1u) {
    if (li < s) {
      part[li] = comb(part[li], part[li + s]);
      ${pair ? `ppart[li] = ${pcombine}(ppart[li], ppart[li + s]);` : ''}
    }
    workgroupBarrier();
  }
  if (li == 0u && i < outs) {
    let r = ${pair ? 'select(part[0], ppart[0].x + ppart[0].y, finite2_(part[0]))' : 'part[0]'};
    O[i] = ${op === 'mean' ? 'r / f32(n)' : 'r'};
  }
}`;
}

/** One invocation per row. params: [rows, cols]. */
export function softmaxShader(): string {
  return `${PRELUDE}
${io('f32')}
${MAIN} {
  let r = gid(wid, nwg, li);
  if (r >= pu(0u)) { return; }
  let cols = pu(1u);
  let base = r * cols;
  var m = -inf_();
  for (var c = 0u; c < cols; c = c + 1u) { let v = X[base + c]; if (v > m || isnan_(v)) { m = v; } }
  var s: f32 = 0.0;
  for (var c = 0u; c < cols; c = c + 1u) { let e = exp_(X[base + c] - m); O[base + c] = e; s = s + e; }
  for (var c = 0u; c < cols; c = c + 1u) { O[base + c] = O[base + c] / s; }
}`;
}

// ---- data movement ---------------------------------------------------------------------------------

/**
 * General transpose over elements of `words` 32-bit words (1: float32/int32, 2: float64).
 * params: [n, rank, outShape[rank], inStridesPermuted[rank]] (rank <= 14).
 */
export function transposeShader(words: 1 | 2): string {
  return elementwise(io('u32'), `
  let rank = pu(1u);
  var rem = i;
  var xi = 0u;
  for (var d = rank; d > 0u; d = d - 1u) {
    let s = pu(1u + d);
    xi = xi + (rem % s) * pu(1u + rank + d);
    rem = rem / s;
  }
  ${words === 1 ? 'O[i] = X[xi];' : 'O[2u * i] = X[2u * xi]; O[2u * i + 1u] = X[2u * xi + 1u];'}`);
}

/** Transpose of bytes (uint8): one invocation per output word of 4 elements. Same params. */
export function transposeBytesShader(): string {
  return `${PRELUDE}
${io('u32')}
${MAIN} {
  let w = gid(wid, nwg, li);
  let n = pu(0u);
  if (w * 4u >= n) { return; }
  let rank = pu(1u);
  var word = 0u;
  for (var k = 0u; k < 4u; k = k + 1u) {
    let i = w * 4u + k;
    if (i >= n) { break; }
    var rem = i;
    var xi = 0u;
    for (var d = rank; d > 0u; d = d - 1u) {
      let s = pu(1u + d);
      xi = xi + (rem % s) * pu(1u + rank + d);
      rem = rem / s;
    }
    let byte = (X[xi / 4u] >> (8u * (xi % 4u))) & 255u;
    word = word | (byte << (8u * k));
  }
  O[w] = word;
}`;
}

export type GpuDType = 'float32' | 'int32' | 'uint8';

/**
 * cast between float32, int32 and uint8 as the reference backend stores: truncation; float32 -> int32
 * wraps modulo 2^32 (an Int32Array store), NaN and infinities -> 0; uint8 saturates. params: [n].
 */
const TO_INT32 = `fn toInt32_(v: f32) -> u32 {
  if ((bitcast<u32>(v) & 0x7f800000u) == 0x7f800000u) { return 0u; }
  let t = trunc(v);
  if (abs(t) < 2147483648.0) { return bitcast<u32>(i32(t)); }
  let r = t - floor(t / 4294967296.0) * 4294967296.0;
  return u32(r);
}`;

export function castShader(from: GpuDType, to: GpuDType): string {
  const read = from === 'float32' ? 'bitcast<f32>(X[i])' : from === 'int32' ? 'bitcast<i32>(X[i])'
    : '((X[i / 4u] >> (8u * (i % 4u))) & 255u)';
  const conv = (v: string): string => {
    if (to === 'float32') return `bitcast<u32>(f32(${v}))`;
    if (to === 'int32') {
      if (from === 'float32') return `toInt32_(${v})`;
      return `bitcast<u32>(i32(${v}))`;
    }
    // uint8
    if (from === 'float32') return `u32(select(clamp(trunc(${v}), 0.0, 255.0), 0.0, isnan_(${v})))`;
    if (from === 'int32') return `u32(clamp(${v}, 0, 255))`;
    return `${v}`;
  };
  if (to !== 'uint8') {
    return elementwise(io('u32'), `
  let v = ${read};
  O[i] = ${conv('v')};`, TO_INT32);
  }
  return `${PRELUDE}
${io('u32')}
${MAIN} {${packBytes(`(${conv('v')})`, `let v = ${read};`)}`;
}

/**
 * The body of a kernel with a uint8 output, a 32-bit word per invocation (WGSL has no byte stores):
 * byte k of word w is `byte` of element i = 4w + k, after the statement `pre` (n = params[0] elements).
 */
export function packBytes(byte: string, pre = ''): string {
  return `
  let w = gid(wid, nwg, li);
  let n = pu(0u);
  if (w * 4u >= n) { return; }
  var word = 0u;
  for (var k = 0u; k < 4u; k = k + 1u) {
    let i = w * 4u + k;
    if (i >= n) { break; }${pre ? `
    ${pre}` : ''}
    word = word | (${byte} << (8u * k));
  }
  O[w] = word;
}`;
}

// ---- GEMM and implicit-GEMM convolutions ---------------------------------------------------------------

/**
 * Tiled GEMM: 64x64 output tiles per workgroup of 16x16 invocations (4x4 outputs each, as four
 * vec4 rows), K in steps of 16 through workgroup memory. Variants supply loadA(m, k), loadB(k, n)
 * (called in bounds only) and the epilogue storeC(m, n, v, z). wid.z splits K into chunks of
 * params[3] (split-K): with params[4] = splits > 1 the partial sums go to the scratch S
 * [splits, M, N] and a second pass (splitKReduceShader) finishes. Transposes, split and epilogue
 * choices are uniform parameters, not compile-time variants: SwiftShader spends seconds compiling
 * each GEMM pipeline, and on GPUs a uniform branch costs next to nothing.
 * params: [M, N, K, kChunk, splits, accumulate, aKFast, bNFast, ...variant params from word 8].
 */
function gemm(bindings: string, loads: string, store: string): string {
  return `${PRELUDE}
${bindings}
@group(0) @binding(4) var<storage, read_write> S: array<f32>;
var<workgroup> As: array<f32, 1024>;
var<workgroup> Bs: array<vec4<f32>, 256>;
${loads}
${store}
@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let M = pu(0u);
  let N = pu(1u);
  let K = pu(2u);
  let kChunk = pu(3u);
  let aK = pu(6u) != 0u;
  let bN = pu(7u) != 0u;
  let m0 = wid.y * 64u;
  let n0 = wid.x * 64u;
  let kBegin = wid.z * kChunk;
  let kEnd = min(K, kBegin + kChunk);
  var acc0 = vec4<f32>(0.0);
  var acc1 = vec4<f32>(0.0);
  var acc2 = vec4<f32>(0.0);
  var acc3 = vec4<f32>(0.0);
  for (var kt = kBegin; kt < kEnd; kt = kt + 16u) {
    for (var r = 0u; r < 4u; r = r + 1u) {
      let e = li + 256u * r;
      let akk = select(e / 64u, e % 16u, aK);
      let amm = select(e % 64u, e / 16u, aK);
      var va: f32 = 0.0;
      if (m0 + amm < M && kt + akk < kEnd) { va = loadA(m0 + amm, kt + akk); }
      As[akk * 64u + amm] = va;
      let bkk = select(e % 16u, e / 64u, bN);
      let bnn = select(e / 16u, e % 64u, bN);
      var vb: f32 = 0.0;
      if (n0 + bnn < N && kt + bkk < kEnd) { vb = loadB(kt + bkk, n0 + bnn); }
      Bs[bkk * 16u + bnn / 4u][bnn % 4u] = vb;
    }
    workgroupBarrier();
    for (var kk = 0u; kk < 16u; kk = kk + 1u) {
      let b = Bs[kk * 16u + lid.x];
      let ab = kk * 64u + lid.y * 4u;
      acc0 = acc0 + As[ab] * b;
      acc1 = acc1 + As[ab + 1u] * b;
      acc2 = acc2 + As[ab + 2u] * b;
      acc3 = acc3 + As[ab + 3u] * b;
    }
    workgroupBarrier();
  }
  let n = n0 + lid.x * 4u;
  let m = m0 + lid.y * 4u;
  storeRow(m, n, acc0, wid.z);
  storeRow(m + 1u, n, acc1, wid.z);
  storeRow(m + 2u, n, acc2, wid.z);
  storeRow(m + 3u, n, acc3, wid.z);
}
fn storeRow(m: u32, n: u32, v: vec4<f32>, z: u32) {
  if (m >= pu(0u)) { return; }
  let N = pu(1u);
  for (var j = 0u; j < 4u; j = j + 1u) {
    if (n + j < N) { storeC(m, n + j, v[j], z); }
  }
}`;
}

/** The plain epilogue: to the scratch when split (params[4] > 1), else out (+)= v (accumulate: params[5]). */
const PLAIN_STORE = `fn storeC(m: u32, n: u32, v: f32, z: u32) {
  let N = pu(1u);
  if (pu(4u) > 1u) { S[(z * pu(0u) + m) * N + n] = v; return; }
  if (pu(5u) != 0u) { C[m * N + n] = C[m * N + n] + v; return; }
  C[m * N + n] = v;
}`;

/** params: [M, N, K, kChunk, splits, accumulate, aKFast (= !transA), bNFast (= !transB)]. */
export function matmulShader(): string {
  return gemm(`@group(0) @binding(1) var<storage, read> A: array<f32>;
@group(0) @binding(2) var<storage, read> B: array<f32>;
@group(0) @binding(3) var<storage, read_write> C: array<f32>;`,
  `fn loadA(m: u32, k: u32) -> f32 { if (pu(6u) == 0u) { return A[k * pu(0u) + m]; } return A[m * pu(2u) + k]; }
fn loadB(k: u32, n: u32) -> f32 { if (pu(7u) == 0u) { return B[n * pu(2u) + k]; } return B[k * pu(1u) + n]; }`,
  PLAIN_STORE);
}

/** Finishes a split-K GEMM: out (+)= sum over splits. params: [M*N, splits, accumulate]. */
export function splitKReduceShader(): string {
  return `${PRELUDE}
@group(0) @binding(1) var<storage, read> S: array<f32>;
@group(0) @binding(2) var<storage, read_write> C: array<f32>;
${MAIN} {
  let i = gid(wid, nwg, li);
  let n = pu(0u);
  if (i >= n) { return; }
  var acc: f32 = 0.0;
  for (var z = 0u; z < pu(1u); z = z + 1u) { acc = acc + S[z * n + i]; }
  if (pu(2u) != 0u) { acc = C[i] + acc; }
  C[i] = acc;
}`;
}

/**
 * Conv parameter words from 8: batch, inH, inW, inC, outH, outW, outC, kH, kW, strideH, strideW,
 * dilationH, dilationW, padTop, padLeft, alpha (as float bits).
 */
const CONV_LETS = `
fn cB() -> u32 { return pu(8u); }
fn cInH() -> u32 { return pu(9u); }
fn cInW() -> u32 { return pu(10u); }
fn cInC() -> u32 { return pu(11u); }
fn cOutH() -> u32 { return pu(12u); }
fn cOutW() -> u32 { return pu(13u); }
fn cOutC() -> u32 { return pu(14u); }
fn cKH() -> u32 { return pu(15u); }
fn cKW() -> u32 { return pu(16u); }
fn cSH() -> i32 { return i32(pu(17u)); }
fn cSW() -> i32 { return i32(pu(18u)); }
fn cDH() -> i32 { return i32(pu(19u)); }
fn cDW() -> i32 { return i32(pu(20u)); }
fn cPT() -> i32 { return i32(pu(21u)); }
fn cPL() -> i32 { return i32(pu(22u)); }
fn cAlpha() -> f32 { return pf(23u); }
fn cAct() -> u32 { return pu(24u); }
fn cHasBias() -> bool { return pu(25u) != 0u; }
`;

/** Forward conv as implicit GEMM: M = batch*outH*outW, N = outC, K = kH*kW*inC; bias (word 25) and activation fused. */
export function conv2dShader(): string {
  return gemm(`@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(2) var<storage, read> W: array<f32>;
@group(0) @binding(3) var<storage, read_write> C: array<f32>;
@group(0) @binding(5) var<storage, read> BIAS: array<f32>;
${CONV_LETS}${ACT_FN}`,
  `fn loadA(m: u32, k: u32) -> f32 {
  let ox = m % cOutW(); let t = m / cOutW(); let oy = t % cOutH(); let b = t / cOutH();
  let ic = k % cInC(); let t2 = k / cInC(); let kx = t2 % cKW(); let ky = t2 / cKW();
  let iy = i32(oy) * cSH() - cPT() + i32(ky) * cDH();
  let ix = i32(ox) * cSW() - cPL() + i32(kx) * cDW();
  if (iy < 0 || ix < 0 || iy >= i32(cInH()) || ix >= i32(cInW())) { return 0.0; }
  return X[((b * cInH() + u32(iy)) * cInW() + u32(ix)) * cInC() + ic];
}
fn loadB(k: u32, n: u32) -> f32 { return W[k * pu(1u) + n]; }`,
  `fn storeC(m: u32, n: u32, v: f32, z: u32) {
  if (pu(4u) > 1u) { S[(z * pu(0u) + m) * pu(1u) + n] = v; return; }
  var s = v;
  if (cHasBias()) { s = s + BIAS[n]; }
  C[m * pu(1u) + n] = act(s, cAlpha(), cAct());
}`);
}

/** dx as implicit GEMM: M = batch*inH*inW, N = inC, K = kH*kW*outC (taps whose output row/column is whole). */
export function conv2dGradInputShader(): string {
  return gemm(`@group(0) @binding(1) var<storage, read> DY: array<f32>;
@group(0) @binding(2) var<storage, read> W: array<f32>;
@group(0) @binding(3) var<storage, read_write> C: array<f32>;
${CONV_LETS}`,
  `fn loadA(m: u32, k: u32) -> f32 {
  let ix = m % cInW(); let t = m / cInW(); let iy = t % cInH(); let b = t / cInH();
  let oc = k % cOutC(); let t2 = k / cOutC(); let kx = t2 % cKW(); let ky = t2 / cKW();
  let ty = i32(iy) + cPT() - i32(ky) * cDH();
  let tx = i32(ix) + cPL() - i32(kx) * cDW();
  if (ty < 0 || tx < 0 || ty % cSH() != 0 || tx % cSW() != 0) { return 0.0; }
  let oy = u32(ty / cSH()); let ox = u32(tx / cSW());
  if (oy >= cOutH() || ox >= cOutW()) { return 0.0; }
  return DY[((b * cOutH() + oy) * cOutW() + ox) * cOutC() + oc];
}
fn loadB(k: u32, n: u32) -> f32 {
  let oc = k % cOutC(); let t2 = k / cOutC();
  return W[(t2 * cInC() + n) * cOutC() + oc];
}`, PLAIN_STORE);
}

/** dw as implicit GEMM: M = kH*kW*inC, N = outC, K = batch*outH*outW (split-K: K is large). */
export function conv2dGradFilterShader(): string {
  return gemm(`@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(2) var<storage, read> DY: array<f32>;
@group(0) @binding(3) var<storage, read_write> C: array<f32>;
${CONV_LETS}`,
  `fn loadA(m: u32, k: u32) -> f32 {
  let ic = m % cInC(); let t = m / cInC(); let kx = t % cKW(); let ky = t / cKW();
  let ox = k % cOutW(); let t2 = k / cOutW(); let oy = t2 % cOutH(); let b = t2 / cOutH();
  let iy = i32(oy) * cSH() - cPT() + i32(ky) * cDH();
  let ix = i32(ox) * cSW() - cPL() + i32(kx) * cDW();
  if (iy < 0 || ix < 0 || iy >= i32(cInH()) || ix >= i32(cInW())) { return 0.0; }
  return X[((b * cInH() + u32(iy)) * cInW() + u32(ix)) * cInC() + ic];
}
fn loadB(k: u32, n: u32) -> f32 { return DY[k * pu(1u) + n]; }`, PLAIN_STORE);
}

// ---- depthwise convolution ---------------------------------------------------------------------------

/** One invocation per output element. params: [n, mult, ..., conv words from 8]. */
export function depthwiseShader(hasBias: boolean): string {
  return elementwise(`@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(2) var<storage, read> W: array<f32>;
@group(0) @binding(3) var<storage, read_write> O: array<f32>;
${hasBias ? '@group(0) @binding(4) var<storage, read> BIAS: array<f32>;' : ''}`, `
  let M = pu(1u);
  let o = i % cOutC(); let t = i / cOutC(); let ox = t % cOutW(); let t2 = t / cOutW(); let oy = t2 % cOutH(); let b = t2 / cOutH();
  let c = o / M;
  var s: f32 = ${hasBias ? 'BIAS[o]' : '0.0'};
  for (var ky = 0u; ky < cKH(); ky = ky + 1u) {
    let iy = i32(oy) * cSH() - cPT() + i32(ky) * cDH();
    if (iy < 0 || iy >= i32(cInH())) { continue; }
    for (var kx = 0u; kx < cKW(); kx = kx + 1u) {
      let ix = i32(ox) * cSW() - cPL() + i32(kx) * cDW();
      if (ix < 0 || ix >= i32(cInW())) { continue; }
      s = s + X[((b * cInH() + u32(iy)) * cInW() + u32(ix)) * cInC() + c] * W[(ky * cKW() + kx) * cOutC() + o];
    }
  }
  O[i] = act(s, cAlpha(), cAct());`, CONV_LETS + ACT_FN);
}

/** dx: one invocation per input element. params: [n, mult, ..., conv words]. */
export function depthwiseGradInputShader(): string {
  return elementwise(`@group(0) @binding(1) var<storage, read> DY: array<f32>;
@group(0) @binding(2) var<storage, read> W: array<f32>;
@group(0) @binding(3) var<storage, read_write> O: array<f32>;`, `
  let M = pu(1u);
  let c = i % cInC(); let t = i / cInC(); let ix = t % cInW(); let t2 = t / cInW(); let iy = t2 % cInH(); let b = t2 / cInH();
  var s: f32 = 0.0;
  for (var ky = 0u; ky < cKH(); ky = ky + 1u) {
    let ty = i32(iy) + cPT() - i32(ky) * cDH();
    if (ty < 0 || ty % cSH() != 0) { continue; }
    let oy = u32(ty / cSH());
    if (oy >= cOutH()) { continue; }
    for (var kx = 0u; kx < cKW(); kx = kx + 1u) {
      let tx = i32(ix) + cPL() - i32(kx) * cDW();
      if (tx < 0 || tx % cSW() != 0) { continue; }
      let ox = u32(tx / cSW());
      if (ox >= cOutW()) { continue; }
      for (var m = 0u; m < M; m = m + 1u) {
        s = s + DY[((b * cOutH() + oy) * cOutW() + ox) * cOutC() + c * M + m] * W[(ky * cKW() + kx) * cOutC() + c * M + m];
      }
    }
  }
  O[i] = s;`, CONV_LETS);
}

/** dw: one workgroup per filter element, 256 invocations over batch*outH*outW. params: [n, mult, ..., conv words]. */
export function depthwiseGradFilterShader(): string {
  return `${PRELUDE}${CONV_LETS}
@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(2) var<storage, read> DY: array<f32>;
@group(0) @binding(3) var<storage, read_write> O: array<f32>;
var<workgroup> part: array<f32, ${WG}>;
${MAIN} {
  let i = wid.y * nwg.x + wid.x;
  let M = pu(1u);
  var s: f32 = 0.0;
  if (i < pu(0u)) {
    let o = i % cOutC(); let t = i / cOutC(); let kx = t % cKW(); let ky = t / cKW();
    let c = o / M;
    let total = cB() * cOutH() * cOutW();
    for (var j = li; j < total; j = j + ${WG}u) {
      let ox = j % cOutW(); let t2 = j / cOutW(); let oy = t2 % cOutH(); let b = t2 / cOutH();
      let iy = i32(oy) * cSH() - cPT() + i32(ky) * cDH();
      let ix = i32(ox) * cSW() - cPL() + i32(kx) * cDW();
      if (iy < 0 || ix < 0 || iy >= i32(cInH()) || ix >= i32(cInW())) { continue; }
      s = s + X[((b * cInH() + u32(iy)) * cInW() + u32(ix)) * cInC() + c] * DY[j * cOutC() + o];
    }
  }
  part[li] = s;
  workgroupBarrier();
  for (var h = ${WG / 2}u; h > 0u; h = h >> 1u) {
    if (li < h) { part[li] = part[li] + part[li + h]; }
    workgroupBarrier();
  }
  if (li == 0u && i < pu(0u)) { O[i] = part[0]; }
}`;
}

// ---- pooling ---------------------------------------------------------------------------------------------

/** Pool words from 4: batch, inH, inW, C, outH, outW, poolH, poolW, strideH, strideW, padTop, padLeft. */
const POOL_LETS = `
fn qB() -> u32 { return pu(4u); }
fn qInH() -> u32 { return pu(5u); }
fn qInW() -> u32 { return pu(6u); }
fn qC() -> u32 { return pu(7u); }
fn qOutH() -> u32 { return pu(8u); }
fn qOutW() -> u32 { return pu(9u); }
fn qPH() -> i32 { return i32(pu(10u)); }
fn qPW() -> i32 { return i32(pu(11u)); }
fn qSH() -> i32 { return i32(pu(12u)); }
fn qSW() -> i32 { return i32(pu(13u)); }
fn qPT() -> i32 { return i32(pu(14u)); }
fn qPL() -> i32 { return i32(pu(15u)); }
// Clipped window of output (oy, ox): y0, y1, x0, x1.
fn win(oy: u32, ox: u32) -> vec4<i32> {
  let ys = i32(oy) * qSH() - qPT();
  let xs = i32(ox) * qSW() - qPL();
  return vec4<i32>(max(ys, 0), min(ys + qPH(), i32(qInH())), max(xs, 0), min(xs + qPW(), i32(qInW())));
}
`;

/** Max or average pooling, one invocation per output. params: [n, 0, 0, 0, pool words]. */
export function poolShader(max: boolean): string {
  return elementwise(io('f32'), `
  let c = i % qC(); let t = i / qC(); let ox = t % qOutW(); let t2 = t / qOutW(); let oy = t2 % qOutH(); let b = t2 / qOutH();
  let w = win(oy, ox);
  var acc: f32 = ${max ? '-inf_()' : '0.0'};
  for (var y = w.x; y < w.y; y = y + 1) {
    for (var x = w.z; x < w.w; x = x + 1) {
      let v = X[((b * qInH() + u32(y)) * qInW() + u32(x)) * qC() + c];
      ${max ? 'if (v > acc || isnan_(v)) { acc = v; }' : 'acc = acc + v;'}
    }
  }
  O[i] = ${max ? 'acc' : 'acc / f32((w.y - w.x) * (w.w - w.z))'};`, POOL_LETS);
}

/**
 * Pooling gradients, one invocation per input element gathering from the windows that hold it
 * (no atomics). Max: dy goes to the element forward returned (first NaN, else first maximum).
 * params: [n, 0, 0, 0, pool words].
 */
export function poolGradShader(max: boolean): string {
  return elementwise(`${max ? '@group(0) @binding(3) var<storage, read> X: array<f32>;' : ''}
@group(0) @binding(1) var<storage, read> DY: array<f32>;
@group(0) @binding(2) var<storage, read_write> O: array<f32>;`, `
  let c = i % qC(); let t = i / qC(); let x = i32(t % qInW()); let t2 = t / qInW(); let y = i32(t2 % qInH()); let b = t2 / qInH();
  // Outputs whose window holds row y: oy*s - p <= y < oy*s - p + pool.
  let oy0 = max((y + qPT() - qPH() + qSH()) / qSH(), 0);
  let oy1 = min((y + qPT()) / qSH(), i32(qOutH()) - 1);
  let ox0 = max((x + qPL() - qPW() + qSW()) / qSW(), 0);
  let ox1 = min((x + qPL()) / qSW(), i32(qOutW()) - 1);
  var s: f32 = 0.0;
  for (var oy = oy0; oy <= oy1; oy = oy + 1) {
    for (var ox = ox0; ox <= ox1; ox = ox + 1) {
      let w = win(u32(oy), u32(ox));
      if (y < w.x || y >= w.y || x < w.z || x >= w.w) { continue; }
      let g = DY[((b * qOutH() + u32(oy)) * qOutW() + u32(ox)) * qC() + c];
      ${max ? `var m: f32 = 0.0;
      var aty = -1;
      var atx = -1;
      for (var yy = w.x; yy < w.y; yy = yy + 1) {
        for (var xx = w.z; xx < w.w; xx = xx + 1) {
          let v = X[((b * qInH() + u32(yy)) * qInW() + u32(xx)) * qC() + c];
          if (aty < 0 || ((v > m || isnan_(v)) && !isnan_(m))) { m = v; aty = yy; atx = xx; }
        }
      }
      if (aty == y && atx == x) { s = s + g; }` : 's = s + g / f32((w.y - w.x) * (w.w - w.z));'}
    }
  }
  O[i] = s;`, POOL_LETS);
}

// ---- optimizers ------------------------------------------------------------------------------------------

/** params: [n, lr, beta1, beta2, epsilon, lrT, weightDecay]. */
export function adamShader(amsgrad: boolean): string {
  return elementwise(`@group(0) @binding(1) var<storage, read_write> P: array<f32>;
@group(0) @binding(2) var<storage, read> G: array<f32>;
@group(0) @binding(3) var<storage, read_write> Mo: array<f32>;
@group(0) @binding(4) var<storage, read_write> V: array<f32>;
${amsgrad ? '@group(0) @binding(5) var<storage, read_write> H: array<f32>;' : ''}`, `
  var p = P[i];
  let wd = pf(6u);
  if (wd != 0.0) { p = p - p * wd * pf(1u); }
  let g = G[i];
  let m = Mo[i] + (g - Mo[i]) * (1.0 - pf(2u));
  let v = V[i] + (g * g - V[i]) * (1.0 - pf(3u));
  Mo[i] = m;
  V[i] = v;
  var vu = v;
  ${amsgrad ? 'let h = max_(H[i], v); H[i] = h; vu = h;' : ''}
  P[i] = p - pf(5u) * m / (sqrt(vu) + pf(4u));`);
}

/** params: [n, lr, momentum, nesterov, weightDecay]. */
export function sgdShader(withVelocity: boolean): string {
  return elementwise(`@group(0) @binding(1) var<storage, read_write> P: array<f32>;
@group(0) @binding(2) var<storage, read> G: array<f32>;
${withVelocity ? '@group(0) @binding(3) var<storage, read_write> V: array<f32>;' : ''}`, `
  let lr = pf(1u);
  var p = P[i];
  let wd = pf(4u);
  if (wd != 0.0) { p = p - p * wd * lr; }
  let g = G[i];
  ${withVelocity ? `let mom = pf(2u);
  let v = mom * V[i] - lr * g;
  V[i] = v;
  if (pu(3u) != 0u) { p = p + (mom * v - lr * g); } else { p = p + v; }` : 'p = p - lr * g;'}
  P[i] = p;`);
}

/** params: [n, lr, rho, momentum, epsilon]. */
export function rmspropShader(withMomentum: boolean, centered: boolean): string {
  return elementwise(`@group(0) @binding(1) var<storage, read_write> P: array<f32>;
@group(0) @binding(2) var<storage, read> G: array<f32>;
@group(0) @binding(3) var<storage, read_write> MS: array<f32>;
${withMomentum ? '@group(0) @binding(4) var<storage, read_write> MOM: array<f32>;' : ''}
${centered ? '@group(0) @binding(5) var<storage, read_write> MG: array<f32>;' : ''}`, `
  let rho = pf(2u);
  let g = G[i];
  let s = rho * MS[i] + (1.0 - rho) * g * g;
  MS[i] = s;
  var den = s;
  ${centered ? 'let a = rho * MG[i] + (1.0 - rho) * g; MG[i] = a; den = den - a * a;' : ''}
  let inc = pf(1u) * g / sqrt(den + pf(4u));
  ${withMomentum ? 'let mv = pf(3u) * MOM[i] + inc; MOM[i] = mv; P[i] = P[i] - mv;' : 'P[i] = P[i] - inc;'}`);
}

/** Fills 32-bit words [offset, offset + words) with one value. params: [words, bits, offset]. */
export function fillShader(): string {
  return elementwise(`@group(0) @binding(1) var<storage, read_write> O: array<u32>;`, `
  O[pu(2u) + i] = pu(1u);`);
}

/**
 * Moves rows of bytes, any alignment: O byte dOff + o*dW + j = X byte sOff + o*sW + j (o < outer,
 * j < w). One invocation per destination word [first, first + words); a word that also holds other
 * bytes is read-modified-written by the one invocation that owns it, so only the rows' bytes change.
 * params: [w, sW, sOff, dW, dOff, outer, first, words].
 */
export function copyBytesShader(): string {
  return `${PRELUDE}
${io('u32')}
${MAIN} {
  let g = gid(wid, nwg, li);
  if (g >= pu(7u)) { return; }
  let wd = pu(6u) + g;
  let w = pu(0u);
  let dOff = pu(4u);
  var word = 0u;
  var mask = 0u;
  for (var k = 0u; k < 4u; k = k + 1u) {
    let p = wd * 4u + k;
    if (p < dOff) { continue; }
    let o = (p - dOff) / pu(3u);
    let j = (p - dOff) % pu(3u);
    if (o >= pu(5u) || j >= w) { continue; }
    let q = pu(2u) + o * pu(1u) + j;
    word = word | (((X[q / 4u] >> (8u * (q % 4u))) & 255u) << (8u * k));
    mask = mask | (255u << (8u * k));
  }
  if (mask == 0xffffffffu) { O[wd] = word; } else if (mask != 0u) { O[wd] = (O[wd] & ~mask) | word; }
}`;
}

/** out byte j = x byte IDX[j / row] * row + j % row: rows of `row` bytes, one invocation per output word. params: [words, row, bytes]. */
export function gatherBytesShader(): string {
  return elementwise(`${io('u32')}
@group(0) @binding(3) var<storage, read> IDX: array<u32>;`, `
  let row = pu(1u);
  var word = 0u;
  for (var k = 0u; k < 4u; k = k + 1u) {
    let j = i * 4u + k;
    if (j >= pu(2u)) { break; }
    let q = IDX[j / row] * row + j % row;
    word = word | (((X[q / 4u] >> (8u * (q % 4u))) & 255u) << (8u * k));
  }
  O[i] = word;`);
}

/** Copies rows of 32-bit words: dst[dOff + o*dW + j] = src[sOff + o*sW + j], j < w. params: [outer*w, w, sW, sOff, dW, dOff]. */
export function copy2dShader(): string {
  return elementwise(io('u32'), `
  let w = pu(1u);
  let o = i / w;
  let j = i % w;
  O[pu(5u) + o * pu(4u) + j] = X[pu(3u) + o * pu(2u) + j];`);
}

/** out row r = x row idx[r], rows of `row` 32-bit words. params: [rows*row, row]. */
export function gatherRowsShader(): string {
  return elementwise(`${io('u32')}
@group(0) @binding(3) var<storage, read> IDX: array<u32>;`, `
  let row = pu(1u);
  O[i] = X[IDX[i / row] * row + i % row];`);
}

// ---- images [N, H, W, C] (spatial layers, augmentation) -------------------------------------------------

/** out [N, outH, outW, C] = x at (top, left), zeros elsewhere. params: [total, h, w, c, outH, outW, top, left (i32)]. */
export function shift2dShader(): string {
  return elementwise(io('f32'), `
  let c = pu(3u);
  let k = i % c; let t = i / c; let j = t % pu(5u); let t2 = t / pu(5u); let r = t2 % pu(4u); let b = t2 / pu(4u);
  let sr = i32(r) - bitcast<i32>(pu(6u));
  let sj = i32(j) - bitcast<i32>(pu(7u));
  var v: f32 = 0.0;
  if (sr >= 0 && sj >= 0 && sr < i32(pu(1u)) && sj < i32(pu(2u))) { v = X[((b * pu(1u) + u32(sr)) * pu(2u) + u32(sj)) * c + k]; }
  O[i] = v;`);
}

/** Nearest up-sampling (grad = false: out [N, H*sh, W*sw, C]) or its gradient (grad: dx [N, H, W, C]). params: [total, h, w, c, sh, sw]. */
export function upsample2dShader(grad: boolean): string {
  return elementwise(io('f32'), `
  let h = pu(1u); let w = pu(2u); let c = pu(3u); let sh = pu(4u); let sw = pu(5u);
  let k = i % c; let t = i / c;
  ${grad ? `let x = t % w; let t2 = t / w; let y = t2 % h; let b = t2 / h;
  var s: f32 = 0.0;
  for (var r = 0u; r < sh; r = r + 1u) {
    for (var q = 0u; q < sw; q = q + 1u) { s = s + X[((b * h * sh + y * sh + r) * (w * sw) + x * sw + q) * c + k]; }
  }
  O[i] = s;` : `let x = t % (w * sw); let t2 = t / (w * sw); let y = t2 % (h * sh); let b = t2 / (h * sh);
  O[i] = X[((b * h + y / sh) * w + x / sw) * c + k];`}`);
}

/** Per-image flips: FLAGS[n] bit 0 flips rows, bit 1 columns. params: [total, h, w, c]. */
export function flip2dShader(): string {
  return elementwise(`${io('f32')}
@group(0) @binding(3) var<storage, read> FLAGS: array<u32>;`, `
  let h = pu(1u); let w = pu(2u); let c = pu(3u);
  let k = i % c; let t = i / c; let x = t % w; let t2 = t / w; let y = t2 % h; let b = t2 / h;
  let f = FLAGS[b];
  let sy = select(y, h - 1u - y, (f & 1u) != 0u);
  let sx = select(x, w - 1u - x, (f & 2u) != 0u);
  O[i] = X[((b * h + sy) * w + sx) * c + k];`);
}

/**
 * Bilinear resize (nearest: lo = hi) with the host's axis tables, as heap-images.ts's resize2d.
 * T = [loY(th), hiY(th), wY(th) f32 bits, loX(tw), hiX(tw), wX(tw)]. params: [total, h, w, c, th, tw].
 */
export function resize2dShader(): string {
  return elementwise(`${io('f32')}
@group(0) @binding(3) var<storage, read> T: array<u32>;`, `
  let h = pu(1u); let w = pu(2u); let c = pu(3u); let th = pu(4u); let tw = pu(5u);
  let k = i % c; let t = i / c; let j = t % tw; let t2 = t / tw; let r = t2 % th; let b = t2 / th;
  let ylo = T[r]; let yhi = T[th + r]; let wy = bitcast<f32>(T[2u * th + r]);
  let xo = 3u * th;
  let xlo = T[xo + j]; let xhi = T[xo + tw + j]; let wx = bitcast<f32>(T[xo + 2u * tw + j]);
  let tl = X[((b * h + ylo) * w + xlo) * c + k]; let tr = X[((b * h + ylo) * w + xhi) * c + k];
  let bl = X[((b * h + yhi) * w + xlo) * c + k]; let br = X[((b * h + yhi) * w + xhi) * c + k];
  let top = tl + (tr - tl) * wx;
  let bottom = bl + (br - bl) * wx;
  O[i] = top + (bottom - top) * wy;`);
}

/**
 * resize2d's gradient gathered per input pixel: T holds per axis the outputs that read each input
 * row (column) and their weights, as [start(len + 1), idx(E), weight(E) f32 bits], y then x (x at
 * offset pu(6)). params: [total, h, w, c, th, tw, xOffset].
 */
export function resize2dGradShader(): string {
  return elementwise(`@group(0) @binding(1) var<storage, read> DY: array<f32>;
@group(0) @binding(2) var<storage, read_write> O: array<f32>;
@group(0) @binding(3) var<storage, read> T: array<u32>;`, `
  let h = pu(1u); let w = pu(2u); let c = pu(3u); let th = pu(4u); let tw = pu(5u); let xo = pu(6u);
  let k = i % c; let t = i / c; let x = t % w; let t2 = t / w; let y = t2 % h; let b = t2 / h;
  let ey = T[h]; let ex = T[xo + w];
  var s: f32 = 0.0;
  for (var p = T[y]; p < T[y + 1u]; p = p + 1u) {
    let oi = T[h + 1u + p]; let wy = bitcast<f32>(T[h + 1u + ey + p]);
    for (var q = T[xo + x]; q < T[xo + x + 1u]; q = q + 1u) {
      let oj = T[xo + w + 1u + q]; let wx = bitcast<f32>(T[xo + w + 1u + ex + q]);
      s = s + DY[((b * th + oi) * tw + oj) * c + k] * (wy * wx);
    }
  }
  O[i] = s;`);
}

/**
 * Per-image projective resampling, as heap-images.ts's affine (TensorFlow's ImageProjectiveTransform):
 * TR[n * 6 ..] = [a0 a1 a2 b0 b1 b2] (f32). params: [total, h, w, c, mode (0 reflect, 1 wrap,
 * 2 constant, 3 nearest), bilinear, fill (f32)]. Rounding is half away from zero like Math.round for
 * the coordinates met here (floor(v + 0.5)).
 */
export function affine2dShader(): string {
  return elementwise(`${io('f32')}
@group(0) @binding(3) var<storage, read> TR: array<f32>;
fn mapc(c0: f32, len: u32, mode: u32) -> f32 {
  let n = f32(len);
  var c = c0;
  if (c >= 0.0 && c <= n - 1.0) { return c; }
  if (mode == 2u) { return -1.0; }
  if (mode == 3u) { return clamp(c, 0.0, n - 1.0); }
  if (len <= 1u) { return 0.0; }
  if (mode == 1u) {
    let sz = n - 1.0;
    if (c < 0.0) { c = c + sz * (trunc(-c / sz) + 1.0); } else { c = c - sz * trunc(c / sz); }
    return clamp(c, 0.0, n - 1.0);
  }
  let sz2 = 2.0 * n;
  if (c < 0.0) {
    if (c < -sz2) { c = sz2 * trunc(-c / sz2) + c; }
    c = select(-c - 1.0, c + sz2, c < -n);
  } else {
    c = c - sz2 * trunc(c / sz2);
    if (c >= n) { c = sz2 - c - 1.0; }
  }
  return clamp(c, 0.0, n - 1.0);
}
fn rnd(v: f32) -> f32 { return floor(v + 0.5); }
fn px(base: u32, yy: f32, xx: f32, k: u32) -> f32 {
  let my = mapc(yy, pu(1u), pu(4u)); let mx = mapc(xx, pu(2u), pu(4u));
  if (my < 0.0 || mx < 0.0) { return pf(6u); }
  return X[base + (u32(rnd(my)) * pu(2u) + u32(rnd(mx))) * pu(3u) + k];
}`, `
  let h = pu(1u); let w = pu(2u); let c = pu(3u);
  let k = i % c; let t = i / c; let x = t % w; let t2 = t / w; let y = t2 % h; let b = t2 / h;
  let base = b * h * w * c;
  let fx = f32(x); let fy = f32(y);
  let ix = TR[b * 6u] * fx + TR[b * 6u + 1u] * fy + TR[b * 6u + 2u];
  let iy = TR[b * 6u + 3u] * fx + TR[b * 6u + 4u] * fy + TR[b * 6u + 5u];
  if (pu(5u) == 0u) { O[i] = px(base, rnd(iy), rnd(ix), k); return; }
  let my = mapc(iy, h, pu(4u)); let mx = mapc(ix, w, pu(4u));
  if (my < 0.0 || mx < 0.0) { O[i] = pf(6u); return; }
  let y0 = floor(my); let x0 = floor(mx);
  let wy = my - y0; let wx = mx - x0;
  let v00 = px(base, y0, x0, k); let v01 = px(base, y0, x0 + 1.0, k);
  let v10 = px(base, y0 + 1.0, x0, k); let v11 = px(base, y0 + 1.0, x0 + 1.0, k);
  O[i] = (1.0 - wy) * ((1.0 - wx) * v00 + wx * v01) + wy * ((1.0 - wx) * v10 + wx * v11);`);
}
