/**
 * Activations by Keras name. `getActivation('relu')(x)` applies it with autograd; layers keep the
 * name and write it in their config as Keras does ('swish' is written 'silu', its Keras 3 name).
 */
import type { Tensor } from '../tensor/index.js';
import { activation as activationOp, softmax, logSoftmax, exp, abs, add, div, mul, tanh } from '../ops/index.js';
import type { Activation as BackendActivation } from '../backend/backend.js';

export type ActivationName =
  | 'linear' | 'relu' | 'sigmoid' | 'softmax' | 'tanh' | 'elu' | 'selu' | 'leaky_relu' | 'gelu'
  | 'swish' | 'silu' | 'softplus' | 'relu6' | 'hard_sigmoid'
  | 'log_softmax' | 'exponential' | 'softsign' | 'mish' | 'hard_silu';

export const ACTIVATION_NAMES: readonly ActivationName[] = [
  'linear', 'relu', 'sigmoid', 'softmax', 'tanh', 'elu', 'selu', 'leaky_relu', 'gelu', 'swish', 'silu',
  'softplus', 'relu6', 'hard_sigmoid', 'log_softmax', 'exponential', 'softsign', 'mish', 'hard_silu',
];

/** Activations composed from ops here rather than run as one backend kernel. */
const COMPOSED: ReadonlySet<ActivationName> = new Set<ActivationName>(['softmax', 'log_softmax', 'exponential', 'softsign', 'mish', 'hard_silu']);

/** Normalises an activation identifier (null/undefined -> 'linear'; 'swish' -> 'silu'). */
export function activationName(id: unknown, where: string): ActivationName {
  if (id === undefined || id === null) return 'linear';
  const s = typeof id === 'string' ? id.toLowerCase() : id;
  if (s === 'swish') return 'silu';
  if (s === 'leakyrelu') return 'leaky_relu';
  if (s === 'hard_swish') return 'hard_silu';
  if (typeof s !== 'string' || !ACTIVATION_NAMES.includes(s as ActivationName)) {
    throw new RangeError(`convnet: ${where}: unknown activation ${JSON.stringify(id)} (known: ${ACTIVATION_NAMES.join(', ')})`);
  }
  return s as ActivationName;
}

/** The backend's name for an elementwise activation (null for softmax and the composed ones). */
export function backendActivation(name: ActivationName): BackendActivation | null {
  if (COMPOSED.has(name)) return null;
  if (name === 'silu') return 'swish';
  return name as BackendActivation;
}

/** Applies the named activation to x (softmax over the last axis). */
export function applyActivation(x: Tensor, name: ActivationName): Tensor {
  if (name === 'linear') return x;
  switch (name) {
    case 'softmax': return softmax(x, -1);
    case 'log_softmax': return logSoftmax(x, -1);
    case 'exponential': return exp(x);
    case 'softsign': return div(x, add(abs(x), 1));
    case 'mish': return mul(x, tanh(activationOp(x, 'softplus')));
    case 'hard_silu': return mul(x, activationOp(x, 'hard_sigmoid'));
  }
  return activationOp(x, backendActivation(name)!);
}

/** `activations.get('relu')` returns a function of a tensor. */
export function getActivation(id: string): (x: Tensor) => Tensor {
  const name = activationName(id, 'activations.get');
  return (x) => applyActivation(x, name);
}

export const activations = {
  get: getActivation,
  relu: (x: Tensor) => applyActivation(x, 'relu'), sigmoid: (x: Tensor) => applyActivation(x, 'sigmoid'),
  softmax: (x: Tensor) => applyActivation(x, 'softmax'), tanh: (x: Tensor) => applyActivation(x, 'tanh'),
  linear: (x: Tensor) => x, elu: (x: Tensor) => applyActivation(x, 'elu'), selu: (x: Tensor) => applyActivation(x, 'selu'),
  leakyRelu: (x: Tensor) => applyActivation(x, 'leaky_relu'), gelu: (x: Tensor) => applyActivation(x, 'gelu'),
  swish: (x: Tensor) => applyActivation(x, 'silu'), silu: (x: Tensor) => applyActivation(x, 'silu'),
  softplus: (x: Tensor) => applyActivation(x, 'softplus'), relu6: (x: Tensor) => applyActivation(x, 'relu6'),
  hardSigmoid: (x: Tensor) => applyActivation(x, 'hard_sigmoid'),
  logSoftmax: (x: Tensor) => applyActivation(x, 'log_softmax'), exponential: (x: Tensor) => applyActivation(x, 'exponential'),
  softsign: (x: Tensor) => applyActivation(x, 'softsign'), mish: (x: Tensor) => applyActivation(x, 'mish'),
  hardSilu: (x: Tensor) => applyActivation(x, 'hard_silu'), hardSwish: (x: Tensor) => applyActivation(x, 'hard_silu'),
};
