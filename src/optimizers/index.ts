/**
 * Optimizers, one file each, with Keras 3's names and defaults: `new optimizers.Adam({ learningRate: 1e-3 })`,
 * or a name in `compile({ optimizer: 'adam' })`.
 */
import { Optimizer } from './optimizer.js';
import { SGD } from './sgd.js';
import { Adam } from './adam.js';
import { AdamW } from './adamw.js';
import { RMSprop } from './rmsprop.js';
import { schedules, ExponentialDecay, InverseTimeDecay, CosineDecay, PiecewiseConstantDecay, LearningRateSchedule } from './schedules.js';
import type { SerializedObject } from '../layers/config.js';

export { Optimizer, SGD, Adam, AdamW, RMSprop, schedules, ExponentialDecay, InverseTimeDecay, CosineDecay, PiecewiseConstantDecay, LearningRateSchedule };
export type { OptimizerArgs } from './optimizer.js';
export type { SGDArgs } from './sgd.js';
export type { AdamArgs } from './adam.js';
export type { RMSpropArgs } from './rmsprop.js';

const BY_NAME: Record<string, new (a?: any) => Optimizer> = { sgd: SGD, adam: Adam, adamw: AdamW, rmsprop: RMSprop };

/** An optimizer from a name ('adam'), a Keras config dict `{ class_name: 'Adam', config }` or an instance. */
export function getOptimizer(id: string | Optimizer | SerializedObject): Optimizer {
  if (id instanceof Optimizer) return id;
  if (typeof id === 'string') {
    const cls = BY_NAME[id.toLowerCase()];
    if (!cls) throw new RangeError(`convnet: unknown optimizer ${JSON.stringify(id)} (known: ${Object.keys(BY_NAME).join(', ')})`);
    return new cls();
  }
  if (id && typeof id === 'object' && typeof id.class_name === 'string') {
    const cls = BY_NAME[id.class_name.toLowerCase()];
    if (!cls) throw new RangeError(`convnet: unknown optimizer class ${JSON.stringify(id.class_name)}`);
    const cfg: Record<string, unknown> = { ...(id.config ?? {}) };
    for (const k of ['use_ema', 'ema_momentum', 'ema_overwrite_frequency', 'loss_scale_factor', 'gradient_accumulation_steps']) delete cfg[k];
    for (const k of Object.keys(cfg)) if (cfg[k] === null) delete cfg[k];
    return new cls(cfg);
  }
  throw new TypeError(`convnet: cannot make an optimizer from ${JSON.stringify(id)}`);
}

/** The optimizer classes under one name, as in `keras.optimizers`. */
export const optimizers = { SGD, Adam, AdamW, RMSprop, Optimizer, schedules, get: getOptimizer };
