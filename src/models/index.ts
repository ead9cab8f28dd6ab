/**
 * Models: `Model` (training for every model), functional models (`new Model({ inputs, outputs })`),
 * Sequential, losses, metrics, callbacks and the Keras summary and progress bar.
 */
import { Model as ModelBase, type FunctionalArgs } from './model.js';
import { Functional } from './functional.js';

/** `new Model({ inputs, outputs, name })` makes a functional model, as `keras.Model(inputs, outputs)`. */
type ModelConstructor = { new (args: FunctionalArgs): Functional; readonly prototype: ModelBase } & Omit<typeof ModelBase, 'prototype'>;
/**
 * Keras's `keras.Model`: the base of every model (`x instanceof Model` holds for Sequential and
 * functional ones), and `new Model({ inputs, outputs })` for a functional model.
 */
export const Model = ModelBase as unknown as ModelConstructor;
export type Model = ModelBase;
export type { FunctionalArgs, SavableModel } from './model.js';
export { Functional };
export { Sequential } from './sequential.js';
export { Trainer } from './trainer.js';
export { transferModel } from './transfer.js';
export type { TransferOptions } from './transfer.js';
export type { CompileArgs, FitArgs, EvaluateArgs, PredictArgs, OnBatchArgs, TensorData, Data, Inputs } from './trainer.js';
export {
  Callback, History, EarlyStopping, ModelCheckpoint, CSVLogger, TerminateOnNaN, ReduceLROnPlateau, LearningRateScheduler,
  LambdaCallback, ProgbarLogger, callbacks,
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
export type { SummaryOptions } from './summary.js';
export { TensorBatches, ListBatches } from './tensor_batches.js';
