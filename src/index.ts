/**
 * convnet-ts: the package root, `import { ... } from 'convnet-ts'`. It exports what users call;
 * helpers that the CLI, the report and the tests share stay in their modules (test/cli/exports.test.ts
 * keeps them out). The Keras-level areas (layers, optimizers, models) are public as a whole; the
 * other areas are listed name by name. `ops` is also a namespace: `import { ops } from 'convnet-ts'`.
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
  correlate, convolve,
  applyFilter, getFilter, filterNames, gaussianKernel,
} from './ops/index.js';
export type { MatMulOptions, Conv2DOptions, Pool2DOptions, Padding } from './ops/index.js';
export type { NdMode, CorrelateOptions, NdArrayLike, Kernel2D, FilterInfo } from './ops/index.js';

// Keras-level API: layers, optimizers, models, losses, metrics, callbacks.
export * from './layers/index.js';
export * from './optimizers/index.js';
export * from './models/index.js';

// Images from folders.
export { ImageDataGenerator, DirectoryIterator, checkDirectory } from './data/index.js';
export type { Batch, BatchIterator, ImageDataGeneratorOptions, FlowFromDirectoryOptions, ClassMode, SkippedFile, CheckReport } from './data/index.js';

// Image files and figures.
export { imread, imsave, ImageReadError, loadImg, imgToArray } from './io/index.js';
export type { ImreadOptions, ImsaveOptions, LoadImgOptions, Img } from './io/index.js';
export { Figure, Axes, figure, gcf, gca, subplot, imshow, title, axis, suptitle, savefig, close, colormap, colormapNames } from './viz/index.js';
export type { FigureOptions, ImshowOptions, TitleOptions } from './viz/index.js';

// Model files.
export { loadModel, saveModel, saveWeights, loadWeights, UnsafeFileError } from './io/models/index.js';
export type { ModelFormat, SaveOptions, LoadOptions } from './io/models/index.js';

// The notebook, the sweep and their report.
export { runNotebook, generateBuiltinData } from './notebook/index.js';
export type { NotebookOptions, NotebookResult, BuiltinData, BuiltinDataOptions } from './notebook/index.js';
export { runSweep, defaultTrialRunner, PRESETS, validateSpace } from './notebook/index.js';
export type { SweepOptions, SweepResult, TrialRunner, TrialRunnerOptions, TrialConfig, SearchSpace } from './notebook/index.js';
export { buildReport, serveReport } from './report/index.js';
export type { ReportServer } from './report/index.js';
