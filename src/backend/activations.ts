/**
 * The one table of elementwise functions and activations: each row is an op's kernel code, its
 * scalar definition (the reference backend's, and the oracle of the tests), its derivative when it
 * is an activation, and whether that derivative follows from the output alone (then it can be fused
 * into conv/dense epilogues). Types (UnaryOp, Activation), the wasm/native op codes and the lists
 * the front end checks names against are all derived from it. Adding an activation: one row here,
 * plus its case in the kernels (src/kernels/common.ts unary64/unaryGrad64, by `code`).
 */

export const SELU_ALPHA = 1.6732632423543772848170429916717;
export const SELU_SCALE = 1.0507009873554804934193349852946;

/** Abramowitz-Stegun 7.1.26 is too coarse for gelu; this is erf to ~1e-7 (W. J. Cody's rational form via erfc). */
export function erf(x: number): number {
  const s = x < 0 ? -1 : 1;
  const a = Math.abs(x);
  // Numerical Recipes erfc Chebyshev approximation, fractional error < 1.2e-7.
  const t = 1 / (1 + 0.5 * a);
  const y = t * Math.exp(-a * a - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 +
    t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 +
    t * (-0.82215223 + t * 0.17087277)))))))));
  return s * (1 - y);
}

export function sigmoid(x: number): number {
  return x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x));
}

/** One row of the table (see the top of this file). */
interface UnaryRow {
  /** Op code in the kernels' parameter block (src/kernels/common.ts switches on it). */
  readonly code: number;
  /** f(x) for the given alpha (leaky_relu's slope, elu's scale). */
  readonly f: (alpha: number) => (x: number) => number;
  /** Activations only: f'(x) given x and y = f(x); NaN at a NaN input except for linear. */
  readonly grad?: (alpha: number) => (x: number, y: number) => number;
  /** The derivative is a function of the output alone (fusable into kernels' epilogues). */
  readonly fromOutput?: boolean;
}

export const UNARY_TABLE = {
  linear: { code: 0, f: () => (x) => x, grad: () => () => 1, fromOutput: true },
  // NaN stays NaN (NumPy's maximum), as the f32x4 pmax(x, 0) kernels
  relu: { code: 1, f: () => (x) => (x < 0 ? 0 : x), grad: () => (x) => (x > 0 ? 1 : x !== x ? NaN : 0), fromOutput: true },
  sigmoid: { code: 2, f: () => sigmoid, grad: () => (_x, y) => y * (1 - y), fromOutput: true },
  tanh: { code: 3, f: () => Math.tanh, grad: () => (_x, y) => 1 - y * y, fromOutput: true },
  elu: { code: 4, f: (alpha) => (x) => (x > 0 ? x : alpha * Math.expm1(x)), grad: (alpha) => (x, y) => (x > 0 ? 1 : y + alpha) },
  selu: {
    code: 5, f: () => (x) => (x > 0 ? SELU_SCALE * x : SELU_SCALE * SELU_ALPHA * Math.expm1(x)),
    grad: () => (x, y) => (x > 0 ? SELU_SCALE : y + SELU_SCALE * SELU_ALPHA),
  },
  leaky_relu: { code: 6, f: (alpha) => (x) => (x > 0 ? x : alpha * x), grad: (alpha) => (x) => (x > 0 ? 1 : x !== x ? NaN : alpha) },
  gelu: {
    code: 7, f: () => (x) => 0.5 * x * (1 + erf(x / Math.SQRT2)),
    grad: () => (x) => 0.5 * (1 + erf(x / Math.SQRT2)) + x * Math.exp(-0.5 * x * x) / Math.sqrt(2 * Math.PI),
  },
  swish: { code: 8, f: () => (x) => x * sigmoid(x), grad: () => (x) => { const s = sigmoid(x); return s * (1 + x * (1 - s)); } },
  softplus: { code: 9, f: () => (x) => (x > 20 ? x : Math.log1p(Math.exp(x))), grad: () => (x) => sigmoid(x) },
  relu6: { code: 10, f: () => (x) => Math.min(Math.max(x, 0), 6), grad: () => (x) => (x > 0 && x < 6 ? 1 : x !== x ? NaN : 0), fromOutput: true },
  hard_sigmoid: { code: 11, f: () => (x) => Math.min(Math.max(x + 3, 0), 6) / 6, grad: () => (x) => (x > -3 && x < 3 ? 1 / 6 : x !== x ? NaN : 0) },
  exp: { code: 12, f: () => Math.exp },
  log: { code: 13, f: () => Math.log },
  neg: { code: 14, f: () => (x) => -x },
  abs: { code: 15, f: () => Math.abs },
  sqrt: { code: 16, f: () => Math.sqrt },
  square: { code: 17, f: () => (x) => x * x },
  reciprocal: { code: 18, f: () => (x) => 1 / x },
  sign: { code: 19, f: () => (x) => (x > 0 ? 1 : x < 0 ? -1 : x === 0 ? 0 : NaN) },
} as const satisfies Record<string, UnaryRow>;

/** Elementwise functions of one input (the table's names). `alpha` is the slope of leaky_relu / elu's scale. */
export type UnaryOp = keyof typeof UNARY_TABLE;
/** Activations: the rows with a derivative. */
export type Activation = { [K in UnaryOp]: (typeof UNARY_TABLE)[K] extends { grad: unknown } ? K : never }[UnaryOp];

const ROWS = Object.entries(UNARY_TABLE) as [UnaryOp, UnaryRow][];

/** Every unary op in kernel-code order (index = code), for the wasm and native backends. */
export const UNARY_OPS: readonly UnaryOp[] = ROWS.slice().sort((a, b) => a[1].code - b[1].code).map(([n]) => n);
/** The activations, in table order. */
export const ACTIVATIONS: readonly Activation[] = ROWS.filter(([, r]) => r.grad).map(([n]) => n as Activation);
/** Activations whose derivative is a function of the output alone (so they can be fused into kernels). */
export const FUSABLE: ReadonlySet<Activation> = new Set(ROWS.filter(([, r]) => r.fromOutput).map(([n]) => n as Activation));

export function unaryFn(op: UnaryOp, alpha: number): (x: number) => number {
  const row = (UNARY_TABLE as Record<string, UnaryRow>)[op];
  if (!row) throw new RangeError(`convnet: unknown unary op ${JSON.stringify(op)}`);
  return row.f(alpha);
}

/** f'(x) given x and y = f(x). At a NaN input every derivative except linear's is NaN (so dx is NaN there, never a silent 0). */
export function unaryGradFn(op: Activation, alpha: number): (x: number, y: number) => number {
  const row = (UNARY_TABLE as Record<string, UnaryRow>)[op];
  if (!row?.grad) throw new RangeError(`convnet: ${JSON.stringify(op)} is not an activation with a gradient`);
  return row.grad(alpha);
}
