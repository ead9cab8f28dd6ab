/**
 * Models: `Model` (training for every model), functional models (`new Model({ inputs, outputs })`),
 * Sequential, losses, metrics, callbacks and the Keras summary and progress bar.
 */
export { Model } from './model.js';
export type { FunctionalArgs } from './model.js';
export { Functional } from './functional.js';
export { Sequential } from './sequential.js';
export { Trainer } from './trainer.js';
export type { CompileArgs, FitArgs, EvaluateArgs, PredictArgs, TensorData, Data, Inputs } from './trainer.js';
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
export { TensorBatches, ListBatches } from './tensor_batches.js';
