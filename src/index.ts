/**
 * convnet-ts: the package root, `import { ... } from 'convnet-ts'`. It exports what users call;
 * helpers that the CLI, the report and the tests share stay in their modules (test/cli/exports.test.ts
 * keeps them out). The Keras-level areas (layers, optimizers, models) are public as a whole; the
 * other areas are listed name by name. `ops` is also a namespace: `import { ops } from 'convnet-ts'`.
 */

// Tensors, backends, gradients and ops (src/core.ts, shared with convnet-ts/browser).
export * from './core.js';

// Keras-level API: layers, optimizers, models, losses, metrics, callbacks.
export * from './layers/index.js';
export * from './optimizers/index.js';
export * from './models/index.js';

// Images from folders.
export { ImageDataGenerator, DirectoryIterator, ArrayIterator, checkDirectory } from './data/index.js';
export type { Batch, BatchIterator, ImageDataGeneratorOptions, FlowFromDirectoryOptions, FlowOptions, ClassMode, SkippedFile, CheckReport } from './data/index.js';

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
export type { SweepOptions, SweepResult, TrialRunner, TrialRunnerOptions, TrialConfig, SearchSpace, Strategy, BudgetKind } from './notebook/index.js';
export { buildReport, serveReport } from './report/index.js';
export type { ReportServer } from './report/index.js';
