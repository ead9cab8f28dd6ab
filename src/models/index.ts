/**
 * Models: Sequential with compile / fit / evaluate / predict, losses, metrics, callbacks and the
 * Keras summary and progress bar.
 */
export { Sequential } from './sequential.js';
export type { CompileArgs, FitArgs, EvaluateArgs, PredictArgs, TensorData, Data } from './sequential.js';
export {
  Callback, History, EarlyStopping, ModelCheckpoint, CSVLogger, TerminateOnNaN, ReduceLROnPlateau, LearningRateScheduler,
  LambdaCallback, ProgbarLogger, callbacks, formatFilepath,
} from './callbacks.js';
export type { Logs, CallbackModel, StopReason } from './callbacks.js';
export {
  Loss, BinaryCrossentropy, CategoricalCrossentropy, SparseCategoricalCrossentropy, MeanSquaredError, MeanAbsoluteError, Huber,
  losses, getLoss,
} from './losses.js';
export {
  Metric, Accuracy, BinaryAccuracy, CategoricalAccuracy, SparseCategoricalAccuracy, Precision, Recall, AUC, metrics, getMetric,
} from './metrics.js';
export { Progbar } from './progbar.js';
export { summaryLines, readableMemorySize } from './summary.js';
export type { SummaryOptions } from './summary.js';
export { TensorBatches } from './tensor_batches.js';
