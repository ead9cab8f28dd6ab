/** Scalar definitions of the activations and their derivatives, shared by the reference backend and tests. */
import type { UnaryOp, Activation } from './backend.js';

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

export function unaryFn(op: UnaryOp, alpha: number): (x: number) => number {
  switch (op) {
    case 'linear': return (x) => x;
    case 'relu': return (x) => (x < 0 ? 0 : x); // NaN stays NaN (NumPy's maximum), as the f32x4 pmax(x, 0) kernels
    case 'sigmoid': return sigmoid;
    case 'tanh': return Math.tanh;
    case 'elu': return (x) => (x > 0 ? x : alpha * Math.expm1(x));
    case 'selu': return (x) => (x > 0 ? SELU_SCALE * x : SELU_SCALE * SELU_ALPHA * Math.expm1(x));
    case 'leaky_relu': return (x) => (x > 0 ? x : alpha * x);
    case 'gelu': return (x) => 0.5 * x * (1 + erf(x / Math.SQRT2));
    case 'swish': return (x) => x * sigmoid(x);
    case 'softplus': return (x) => (x > 20 ? x : Math.log1p(Math.exp(x)));
    case 'relu6': return (x) => Math.min(Math.max(x, 0), 6);
    case 'hard_sigmoid': return (x) => Math.min(Math.max(x + 3, 0), 6) / 6;
    case 'exp': return Math.exp;
    case 'log': return Math.log;
    case 'neg': return (x) => -x;
    case 'abs': return Math.abs;
    case 'sqrt': return Math.sqrt;
    case 'square': return (x) => x * x;
    case 'reciprocal': return (x) => 1 / x;
    case 'sign': return (x) => (x > 0 ? 1 : x < 0 ? -1 : x === 0 ? 0 : NaN);
  }
}

/** f'(x) given x and y = f(x). At a NaN input every derivative except linear's is NaN (so dx is NaN there, never a silent 0). */
export function unaryGradFn(op: Activation, alpha: number): (x: number, y: number) => number {
  switch (op) {
    case 'linear': return () => 1;
    case 'relu': return (x) => (x > 0 ? 1 : x !== x ? NaN : 0);
    case 'sigmoid': return (_x, y) => y * (1 - y);
    case 'tanh': return (_x, y) => 1 - y * y;
    case 'elu': return (x, y) => (x > 0 ? 1 : y + alpha);
    case 'selu': return (x, y) => (x > 0 ? SELU_SCALE : y + SELU_SCALE * SELU_ALPHA);
    case 'leaky_relu': return (x) => (x > 0 ? 1 : x !== x ? NaN : alpha);
    case 'gelu': return (x) => 0.5 * (1 + erf(x / Math.SQRT2)) + x * Math.exp(-0.5 * x * x) / Math.sqrt(2 * Math.PI);
    case 'swish': return (x) => { const s = sigmoid(x); return s * (1 + x * (1 - s)); };
    case 'softplus': return (x) => sigmoid(x);
    case 'relu6': return (x) => (x > 0 && x < 6 ? 1 : x !== x ? NaN : 0);
    case 'hard_sigmoid': return (x) => (x > -3 && x < 3 ? 1 / 6 : x !== x ? NaN : 0);
  }
}

export const ACTIVATIONS: readonly Activation[] = ['linear', 'relu', 'sigmoid', 'tanh', 'elu', 'selu', 'leaky_relu', 'gelu', 'swish', 'softplus', 'relu6', 'hard_sigmoid'];
