/**
 * The notebook end to end (`runNotebook` with `notebookSteps()`), the built-in data set, and the
 * exercise as a sweep (`runSweep` with `defaultTrialRunner()`).
 */
export { runNotebook, prepareNotebook, BUILTIN_DEFAULTS, NOTEBOOK_DEFAULTS, DEFAULT_OUT } from './runner.js';
export type { NotebookOptions, ResolvedOptions, NotebookContext, NotebookStep, NotebookResult } from './runner.js';
export type { NotebookState } from './state.js';
export { notebookSteps, formatMatrix, fmtTuple, EXAMPLE_MATRIX, EXAMPLE_FILTER, NOTEBOOK_FILTERS, MODEL_FILE } from './steps.js';
export { generateBuiltinData, renderSample, renderHouse, encodeJpeg, BUILTIN_CLASSES } from './builtin-data.js';
export type { BuiltinData, BuiltinDataOptions, RawImage } from './builtin-data.js';
export { modelFromConfig, optimizerFromConfig, compiledModelFromConfig } from './model.js';
export { runSweep, checkSweepOptions, summarizeHistory, textTable, TrialInterrupted, BEST_MODEL_FILE, HALVING_FILE, localExecutor } from './sweep.js';
export type { SweepOptions, SweepResult, TrialRunner, TrialContext, TrialOutcome, Strategy, SweepRecord, TrialCheckpoint, SweepExecutor } from './sweep.js';
// Successive halving / Hyperband (runSweep's strategy 'halving' or 'hyperband') and a sweep's base model.
// The queue (src/queue, BullMQ) is not exported here: the CLI and user code import it on its own.
export { halvingRungs, hyperbandBrackets, promote, type BudgetKind, type HalvingOptions, type Rung } from '../sweep/halving.js';
export { HEAD_KEYS, PIXELS, type SweepBase, type Pixels } from '../sweep/base.js';
export { defaultTrialRunner, type TrialRunnerOptions } from './trial.js';
export {
  NOTEBOOK_CONFIG, PRESETS, SPACE_KEYS, OPTIMIZERS, validateSpace, planTrials, gridSize, trialId, filtersPerBlock, configDiff,
} from './space.js';
export type { TrialConfig, SearchSpace, SpaceKey } from './space.js';
export { inspectDataDir, makeSubset, type DataDirInfo } from './dataset.js';
export { prepareOutDir } from './outdir.js';
export { strings as notebookStrings, type NotebookStrings } from './i18n.js';
