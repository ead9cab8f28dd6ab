/**
 * Learning-rate schedules (Keras's `keras.optimizers.schedules`): a function of the optimizer's
 * step count (0 on the first update).
 */
import { normalizeOptions, type SerializedObject } from '../layers/config.js';

export abstract class LearningRateSchedule {
  abstract readonly className: string;
  /** The learning rate at optimizer step `step` (0-based). */
  abstract call(step: number): number;
  abstract getConfig(): Record<string, unknown>;
  serialize(): SerializedObject {
    return { module: 'keras.optimizers.schedules', class_name: this.className, config: this.getConfig(), registered_name: null };
  }
}

function num(v: unknown, what: string, where: string, positive = false): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || (positive && v <= 0)) {
    throw new RangeError(`convnet: ${where}: ${what} must be a ${positive ? 'positive ' : ''}number, got ${JSON.stringify(v)}`);
  }
  return v;
}

export interface ExponentialDecayArgs { initialLearningRate: number; decaySteps: number; decayRate: number; staircase?: boolean; name?: string }

/** lr = initial · rate^(step / decaySteps) (the exponent floored when `staircase`). */
export class ExponentialDecay extends LearningRateSchedule {
  readonly className = 'ExponentialDecay';
  readonly initialLearningRate: number; readonly decaySteps: number; readonly decayRate: number; readonly staircase: boolean; readonly name: string;
  constructor(args: ExponentialDecayArgs) {
    super();
    const o = normalizeOptions(args as unknown as Record<string, unknown>, ['initialLearningRate', 'decaySteps', 'decayRate', 'staircase', 'name'], 'ExponentialDecay');
    this.initialLearningRate = num(o.initialLearningRate, 'initialLearningRate', 'ExponentialDecay');
    this.decaySteps = num(o.decaySteps, 'decaySteps', 'ExponentialDecay', true);
    this.decayRate = num(o.decayRate, 'decayRate', 'ExponentialDecay');
    this.staircase = !!o.staircase; this.name = (o.name as string) ?? 'ExponentialDecay';
  }
  call(step: number): number {
    let p = step / this.decaySteps;
    if (this.staircase) p = Math.floor(p);
    return this.initialLearningRate * Math.pow(this.decayRate, p);
  }
  getConfig(): Record<string, unknown> {
    return { initial_learning_rate: this.initialLearningRate, decay_steps: this.decaySteps, decay_rate: this.decayRate, staircase: this.staircase, name: this.name };
  }
}

export interface InverseTimeDecayArgs { initialLearningRate: number; decaySteps: number; decayRate: number; staircase?: boolean; name?: string }

/** lr = initial / (1 + rate · step / decaySteps). */
export class InverseTimeDecay extends LearningRateSchedule {
  readonly className = 'InverseTimeDecay';
  readonly initialLearningRate: number; readonly decaySteps: number; readonly decayRate: number; readonly staircase: boolean; readonly name: string;
  constructor(args: InverseTimeDecayArgs) {
    super();
    const o = normalizeOptions(args as unknown as Record<string, unknown>, ['initialLearningRate', 'decaySteps', 'decayRate', 'staircase', 'name'], 'InverseTimeDecay');
    this.initialLearningRate = num(o.initialLearningRate, 'initialLearningRate', 'InverseTimeDecay');
    this.decaySteps = num(o.decaySteps, 'decaySteps', 'InverseTimeDecay', true);
    this.decayRate = num(o.decayRate, 'decayRate', 'InverseTimeDecay');
    this.staircase = !!o.staircase; this.name = (o.name as string) ?? 'InverseTimeDecay';
  }
  call(step: number): number {
    let p = step / this.decaySteps;
    if (this.staircase) p = Math.floor(p);
    return this.initialLearningRate / (1 + this.decayRate * p);
  }
  getConfig(): Record<string, unknown> {
    return { initial_learning_rate: this.initialLearningRate, decay_steps: this.decaySteps, decay_rate: this.decayRate, staircase: this.staircase, name: this.name };
  }
}

export interface CosineDecayArgs { initialLearningRate: number; decaySteps: number; alpha?: number; warmupTarget?: number | null; warmupSteps?: number; name?: string }

/**
 * Cosine decay with optional linear warm-up: after `warmupSteps`, lr = target · ((1 − α) · ½(1 + cos(π t)) + α)
 * with t = min(step − warmupSteps, decaySteps) / decaySteps.
 */
export class CosineDecay extends LearningRateSchedule {
  readonly className = 'CosineDecay';
  readonly initialLearningRate: number; readonly decaySteps: number; readonly alpha: number;
  readonly warmupTarget: number | null; readonly warmupSteps: number; readonly name: string;
  constructor(args: CosineDecayArgs) {
    super();
    const o = normalizeOptions(args as unknown as Record<string, unknown>, ['initialLearningRate', 'decaySteps', 'alpha', 'warmupTarget', 'warmupSteps', 'name'], 'CosineDecay');
    this.initialLearningRate = num(o.initialLearningRate, 'initialLearningRate', 'CosineDecay');
    this.decaySteps = num(o.decaySteps, 'decaySteps', 'CosineDecay', true);
    this.alpha = (o.alpha as number) ?? 0; this.warmupTarget = (o.warmupTarget as number | null) ?? null;
    this.warmupSteps = (o.warmupSteps as number) ?? 0; this.name = (o.name as string) ?? 'CosineDecay';
  }
  call(step: number): number {
    const target = this.warmupTarget ?? this.initialLearningRate;
    if (this.warmupTarget !== null && step < this.warmupSteps) {
      return this.initialLearningRate + (this.warmupTarget - this.initialLearningRate) * (step / this.warmupSteps);
    }
    const t = Math.min(step - (this.warmupTarget !== null ? this.warmupSteps : 0), this.decaySteps) / this.decaySteps;
    const cosine = 0.5 * (1 + Math.cos(Math.PI * t));
    return target * ((1 - this.alpha) * cosine + this.alpha);
  }
  getConfig(): Record<string, unknown> {
    return { initial_learning_rate: this.initialLearningRate, decay_steps: this.decaySteps, alpha: this.alpha, name: this.name, warmup_target: this.warmupTarget, warmup_steps: this.warmupSteps };
  }
}

/** Constant pieces: values[i] while step <= boundaries[i] (values has one more entry). */
export class PiecewiseConstantDecay extends LearningRateSchedule {
  readonly className = 'PiecewiseConstantDecay';
  readonly boundaries: number[]; readonly values: number[]; readonly name: string;
  constructor(args: { boundaries: number[]; values: number[]; name?: string }) {
    super();
    const o = normalizeOptions(args as unknown as Record<string, unknown>, ['boundaries', 'values', 'name'], 'PiecewiseConstantDecay');
    this.boundaries = (o.boundaries as number[]) ?? []; this.values = (o.values as number[]) ?? [];
    if (this.values.length !== this.boundaries.length + 1) {
      throw new RangeError(`convnet: PiecewiseConstantDecay: values must have one more entry than boundaries (${this.boundaries.length} boundaries, ${this.values.length} values)`);
    }
    this.name = (o.name as string) ?? 'PiecewiseConstant';
  }
  call(step: number): number {
    for (let i = 0; i < this.boundaries.length; i++) if (step <= this.boundaries[i]) return this.values[i];
    return this.values[this.values.length - 1];
  }
  getConfig(): Record<string, unknown> { return { boundaries: this.boundaries, values: this.values, name: this.name }; }
}

const SCHEDULES: Record<string, new (a: any) => LearningRateSchedule> = { ExponentialDecay, InverseTimeDecay, CosineDecay, PiecewiseConstantDecay };

/** A schedule from its Keras config dict. */
export function deserializeSchedule(obj: SerializedObject): LearningRateSchedule {
  const cls = SCHEDULES[obj.class_name];
  if (!cls) throw new RangeError(`convnet: unknown learning-rate schedule ${JSON.stringify(obj.class_name)} (known: ${Object.keys(SCHEDULES).join(', ')})`);
  return new cls(obj.config);
}

export const schedules = { ExponentialDecay, InverseTimeDecay, CosineDecay, PiecewiseConstantDecay, LearningRateSchedule };
