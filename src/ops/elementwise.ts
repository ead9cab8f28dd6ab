/**
 * Elementwise ops with NumPy broadcasting; each op's gradient rule is written next to it.
 */
import { Tensor, fmtShape } from '../tensor/tensor.js';
import { record } from '../autograd/tape.js';
import type { UnaryOp, Activation, BinaryOp } from '../backend/backend.js';
import { ACTIVATIONS, FUSABLE } from '../backend/activations.js';
import { B, assertFloat, broadcast, out, sameShape } from './util.js';
import { sumTo } from './reduce.js';

type Operand = Tensor | number;

// ---- binary ---------------------------------------------------------------------------------

function binaryRaw(op: BinaryOp, a: Operand, b: Operand, name: string): Tensor {
  if (typeof a === 'number' && typeof b === 'number') throw new TypeError(`convnet: ${name}: at least one operand must be a Tensor`);
  if (typeof b === 'number') {
    assertFloat(a as Tensor, name, 'a');
    if (Number.isNaN(b) && op !== 'equal') throw new RangeError(`convnet: ${name}: scalar operand is NaN`);
    const r = out((a as Tensor).shape);
    B().binaryScalar(op, a as Tensor, b, r, false);
    return r;
  }
  if (typeof a === 'number') {
    assertFloat(b, name, 'b');
    const r = out(b.shape);
    B().binaryScalar(op, b, a, r, true);
    return r;
  }
  assertFloat(a, name, 'a');
  assertFloat(b, name, 'b');
  const p = broadcast(a.shape, b.shape, name);
  const r = out(p.outShape);
  B().binary(op, a, b, r, p);
  return r;
}

const shapeOf = (x: Operand): readonly number[] => (typeof x === 'number' ? [] : x.shape);
const tensorsOf = (...xs: Operand[]): Tensor[] => xs.filter((x): x is Tensor => typeof x !== 'number');
/** Maps the gradients of both operands to the recorded inputs (numbers drop out). */
function gradsFor(a: Operand, b: Operand, ga: () => Tensor | null, gb: () => Tensor | null): (Tensor | null)[] {
  const r: (Tensor | null)[] = [];
  if (typeof a !== 'number') r.push(ga());
  if (typeof b !== 'number') r.push(gb());
  return r;
}

/** a + b */
export function add(a: Operand, b: Operand): Tensor {
  const y = binaryRaw('add', a, b, 'add');
  record('add', tensorsOf(a, b), y, (dy) => gradsFor(a, b, () => sumTo(dy, shapeOf(a)), () => sumTo(dy, shapeOf(b))));
  return y;
}

/** a - b */
export function sub(a: Operand, b: Operand): Tensor {
  const y = binaryRaw('sub', a, b, 'sub');
  record('sub', tensorsOf(a, b), y, (dy) => gradsFor(a, b, () => sumTo(dy, shapeOf(a)), () => neg(sumTo(dy, shapeOf(b)))));
  return y;
}

/** a * b */
export function mul(a: Operand, b: Operand): Tensor {
  const y = binaryRaw('mul', a, b, 'mul');
  record('mul', tensorsOf(a, b), y, (dy) => gradsFor(a, b, () => sumTo(binaryRaw('mul', dy, b, 'mul'), shapeOf(a)), () => sumTo(binaryRaw('mul', dy, a, 'mul'), shapeOf(b))));
  return y;
}

/** a / b */
export function div(a: Operand, b: Operand): Tensor {
  const y = binaryRaw('div', a, b, 'div');
  record('div', tensorsOf(a, b), y, (dy) => gradsFor(a, b,
    () => sumTo(binaryRaw('div', dy, b, 'div'), shapeOf(a)),
    // d(a/b)/db = -a / b^2 = -y / b
    () => sumTo(neg(binaryRaw('div', binaryRaw('mul', dy, y, 'mul'), b, 'div')), shapeOf(b))));
  return y;
}

/** Elementwise maximum; the gradient goes to `a` where a >= b. */
export function maximum(a: Operand, b: Operand): Tensor {
  const y = binaryRaw('max', a, b, 'maximum');
  record('maximum', tensorsOf(a, b), y, (dy) => {
    const ma = binaryRaw('equal', y, a, 'maximum'); // 1 where a won
    return gradsFor(a, b, () => sumTo(binaryRaw('mul', dy, ma, 'mul'), shapeOf(a)),
      () => sumTo(binaryRaw('mul', dy, binaryRaw('sub', 1, ma, 'sub'), 'mul'), shapeOf(b)));
  });
  return y;
}

/** Elementwise minimum; the gradient goes to `a` where a <= b. */
export function minimum(a: Operand, b: Operand): Tensor {
  const y = binaryRaw('min', a, b, 'minimum');
  record('minimum', tensorsOf(a, b), y, (dy) => {
    const ma = binaryRaw('equal', y, a, 'minimum');
    return gradsFor(a, b, () => sumTo(binaryRaw('mul', dy, ma, 'mul'), shapeOf(a)),
      () => sumTo(binaryRaw('mul', dy, binaryRaw('sub', 1, ma, 'sub'), 'mul'), shapeOf(b)));
  });
  return y;
}

/** a ** b */
export function pow(a: Operand, b: Operand): Tensor {
  const y = binaryRaw('pow', a, b, 'pow');
  record('pow', tensorsOf(a, b), y, (dy) => gradsFor(a, b,
    () => sumTo(binaryRaw('mul', dy, binaryRaw('mul', b, binaryRaw('pow', a, typeof b === 'number' ? b - 1 : binaryRaw('sub', b, 1, 'sub'), 'pow'), 'mul'), 'mul'), shapeOf(a)),
    () => sumTo(binaryRaw('mul', dy, binaryRaw('mul', y, unaryRaw('log', a as Tensor, 0), 'mul'), 'mul'), shapeOf(b))));
  return y;
}

/** 1 where a > b, else 0 (no gradient). */
export function greater(a: Operand, b: Operand): Tensor { return binaryRaw('greater', a, b, 'greater'); }
/** 1 where a < b, else 0 (no gradient). */
export function less(a: Operand, b: Operand): Tensor { return binaryRaw('less', a, b, 'less'); }
/** 1 where a == b, else 0 (no gradient). */
export function equal(a: Operand, b: Operand): Tensor { return binaryRaw('equal', a, b, 'equal'); }

// ---- unary ----------------------------------------------------------------------------------

function unaryRaw(op: UnaryOp, x: Tensor | number, alpha: number, name: string = op): Tensor {
  if (typeof x === 'number') throw new TypeError(`convnet: ${name}: expected a Tensor`);
  assertFloat(x, name);
  const y = out(x.shape);
  B().unary(op, x, y, alpha);
  return y;
}

export function neg(x: Tensor): Tensor {
  const y = unaryRaw('neg', x, 0);
  record('neg', [x], y, (dy) => [unaryRaw('neg', dy, 0)]);
  return y;
}
export function exp(x: Tensor): Tensor {
  const y = unaryRaw('exp', x, 0);
  record('exp', [x], y, (dy) => [binaryRaw('mul', dy, y, 'exp')]);
  return y;
}
export function log(x: Tensor): Tensor {
  const y = unaryRaw('log', x, 0);
  record('log', [x], y, (dy) => [binaryRaw('div', dy, x, 'log')]);
  return y;
}
export function sqrt(x: Tensor): Tensor {
  const y = unaryRaw('sqrt', x, 0);
  record('sqrt', [x], y, (dy) => [binaryRaw('div', binaryRaw('mul', dy, 0.5, 'sqrt'), y, 'sqrt')]);
  return y;
}
export function square(x: Tensor): Tensor {
  const y = unaryRaw('square', x, 0);
  record('square', [x], y, (dy) => [binaryRaw('mul', binaryRaw('mul', dy, x, 'square'), 2, 'square')]);
  return y;
}
export function abs(x: Tensor): Tensor {
  const y = unaryRaw('abs', x, 0);
  record('abs', [x], y, (dy) => [binaryRaw('mul', dy, unaryRaw('sign', x, 0), 'abs')]);
  return y;
}
export function reciprocal(x: Tensor): Tensor {
  const y = unaryRaw('reciprocal', x, 0);
  record('reciprocal', [x], y, (dy) => [unaryRaw('neg', binaryRaw('mul', dy, unaryRaw('square', y, 0), 'reciprocal'), 0)]);
  return y;
}
/** Sign of x (no gradient). */
export function sign(x: Tensor): Tensor { return unaryRaw('sign', x, 0); }

/** Clips values to [lo, hi]; the gradient flows where lo <= x <= hi. */
export function clip(x: Tensor, lo: number, hi: number): Tensor {
  if (!(lo <= hi)) throw new RangeError(`convnet: clip: lower bound ${lo} must not exceed upper bound ${hi}`);
  assertFloat(x, 'clip');
  const t = out(x.shape);
  B().binaryScalar('max', x, lo, t, false);
  const y = out(x.shape);
  B().binaryScalar('min', t, hi, y, false);
  t.dispose();
  record('clip', [x], y, (dy) => {
    const inside = binaryRaw('mul', binaryRaw('sub', 1, binaryRaw('less', x, lo, 'clip'), 'clip'),
      binaryRaw('sub', 1, binaryRaw('greater', x, hi, 'clip'), 'clip'), 'clip');
    return [binaryRaw('mul', dy, inside, 'clip')];
  });
  return y;
}

// ---- activations ----------------------------------------------------------------------------

const DEFAULT_ALPHA: Partial<Record<Activation, number>> = { elu: 1, leaky_relu: 0.2 };

/** Applies a Keras activation by name ('relu', 'sigmoid', ..., 'linear'). `alpha`: elu scale / leaky_relu slope. */
export function activation(x: Tensor, name: Activation, alpha?: number): Tensor {
  if (!ACTIVATIONS.includes(name)) {
    throw new RangeError(`convnet: activation: unknown activation ${JSON.stringify(name)} (known: ${ACTIVATIONS.join(', ')}, softmax)`);
  }
  if (name === 'linear') return x;
  const a = alpha ?? DEFAULT_ALPHA[name] ?? 0;
  const y = unaryRaw(name, x, a, name);
  record(name, [x], y, (dy) => {
    const dx = out(x.shape);
    B().unaryGrad(name, x, y, dy, dx, a);
    return [dx];
  });
  return y;
}

export const relu = (x: Tensor): Tensor => activation(x, 'relu');
export const sigmoid = (x: Tensor): Tensor => activation(x, 'sigmoid');
export const tanh = (x: Tensor): Tensor => activation(x, 'tanh');

/**
 * Gradient of a (fused) activation given its output only: valid for linear, relu, sigmoid, tanh, relu6.
 * With `inPlace` the result overwrites `dy` (the caller owns it), saving a full-size block.
 */
export function activationGradFromOutput(name: Activation, y: Tensor, dy: Tensor, alpha = 0, inPlace = false): Tensor {
  if (name === 'linear') return dy;
  const dx = inPlace ? dy : out(y.shape);
  B().unaryGrad(name, y, y, dy, dx, alpha);
  return dx;
}
/** Activations whose derivative is a function of the output alone (so they can be fused into kernels): from the activation table. */
export { FUSABLE };

export { unaryRaw, binaryRaw, sameShape, fmtShape };
