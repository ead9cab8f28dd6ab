/**
 * The engine's public names, shared by the package root (src/index.ts) and the browser entry
 * (src/browser.ts): tensors, backends, gradients and ops, as users call them. Helpers the other
 * modules share stay in their modules (test/cli/exports.test.ts keeps them out).
 */

// Tensors, memory scopes, seeded random numbers and initial values.
export { Tensor, tensor, zeros, ones, full, empty, scalar, scope, startScope, endScope } from './tensor/index.js';
export { Rng, setSeed, getSeed, rng, rngFor } from './tensor/index.js';
export { randomUniform, randomNormal, truncatedNormal, glorotUniform, glorotNormal, heUniform, heNormal } from './tensor/index.js';
export type { Nested, DType, TypedArray, RandomOptions } from './tensor/index.js';

// Backends and threads.
export * from './backend/index.js';

// Gradients.
export { valueAndGrad, noGrad } from './autograd/index.js';

// Ops, by name and as the `ops` namespace.
export * as ops from './ops/index.js';
export {
  add, sub, mul, div, maximum, minimum, pow, greater, less, equal,
  neg, exp, log, sqrt, square, abs, reciprocal, sign, clip,
  activation, relu, sigmoid, tanh,
  sum, mean, max, min, broadcastTo,
  matmul, transpose, dense,
  conv2d, maxPool2d, avgPool2d,
  softmax, logSoftmax, stopGradient, dropout, cast, takeRows, concat,
  correlate, convolve, correlateAsync, convolveAsync,
  applyFilter, getFilter, filterNames, gaussianKernel,
} from './ops/index.js';
export type { MatMulOptions, Conv2DOptions, Pool2DOptions, Padding } from './ops/index.js';
export type { NdMode, CorrelateOptions, NdArrayLike, Kernel2D, FilterInfo } from './ops/index.js';
