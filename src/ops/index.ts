/** The ops users call. Every op checks its arguments, allocates its output and records its gradient. */
export {
  add, sub, mul, div, maximum, minimum, pow, greater, less, equal,
  neg, exp, log, sqrt, square, abs, reciprocal, sign, clip,
  activation, relu, sigmoid, tanh,
} from './elementwise.js';
export { sum, mean, max, min, broadcastTo } from './reduce.js';
export { matmul, transpose, dense } from './linalg.js';
export type { MatMulOptions } from './linalg.js';
export { conv2d, maxPool2d, avgPool2d, conv2dParams, pool2dParams, convOutput } from './conv.js';
export type { Conv2DOptions, Pool2DOptions, Padding } from './conv.js';
export { depthwiseConv2d, depthwiseConv2dParams, conv2dTranspose, conv2dTransposeParams, convTransposeLength } from './depthwise.js';
export { conv1d, maxPool1d } from './conv1d.js';
export type { Conv1DOptions } from './conv1d.js';
export type { Conv2DTransposeOptions } from './depthwise.js';
export { resize, aspectCrop } from './resize.js';
export type { ResizeOptions, Interpolation } from './resize.js';
export { softmax, logSoftmax, stopGradient, dropout, cast, takeRows, concat } from './nn.js';
export * from './ndimage.js';
export * from './filters.js';
