/**
 * Callbacks with Keras's hooks and names. `fit` calls, in order: onTrainBegin, then per epoch
 * onEpochBegin, onTrainBatchBegin/End for each batch, onTestBegin/End around validation, and
 * onEpochEnd with the epoch's logs (`loss`, metrics, `val_*`); finally onTrainEnd.
 * Set `model.stopTraining = true` from a callback to stop after the current batch.
 */
import { isNode, nodeOnly, writeOut, writeErr } from '../runtime.js';
// ModelCheckpoint and CSVLogger write files: Node only, never loaded in a browser.
const { mkdirSync, appendFileSync, writeFileSync, existsSync, renameSync, rmSync } =
  isNode ? await import('node:fs') : nodeOnly<typeof import('node:fs')>('writing files');
const { dirname, basename, join, extname } = isNode ? await import('node:path') : nodeOnly<typeof import('node:path')>('writing files');
import type { Tensor } from '../tensor/index.js';
import { Progbar } from './progbar.js';
import { normalizeOptions } from '../layers/config.js';

export type Logs = Record<string, number>;

/** What callbacks see of the model (Sequential implements it). */
export interface CallbackModel {
  stopTraining: boolean;
  /** True when fit stopped because of Ctrl-C. */
  readonly interrupted?: boolean;
  optimizer: { learningRate: number } | null;
  getWeights(): Tensor[];
  setWeights(ws: Tensor[]): void;
  save(path: string, opts?: Record<string, unknown>): Promise<void>;
  saveWeights?(path: string, opts?: Record<string, unknown>): Promise<void>;
}

export interface TrainParams { epochs: number; steps: number; verbose: number }

export class Callback {
  model: CallbackModel | null = null;
  params: TrainParams = { epochs: 1, steps: 0, verbose: 0 };
  setModel(m: CallbackModel): void { this.model = m; }
  setParams(p: TrainParams): void { this.params = p; }
  async onTrainBegin(_logs?: Logs): Promise<void> {}
  async onTrainEnd(_logs?: Logs): Promise<void> {}
  async onEpochBegin(_epoch: number, _logs?: Logs): Promise<void> {}
  async onEpochEnd(_epoch: number, _logs?: Logs): Promise<void> {}
  async onTrainBatchBegin(_batch: number, _logs?: Logs): Promise<void> {}
  async onTrainBatchEnd(_batch: number, _logs?: Logs): Promise<void> {}
  async onTestBegin(_logs?: Logs): Promise<void> {}
  async onTestEnd(_logs?: Logs): Promise<void> {}
  async onTestBatchEnd(_batch: number, _logs?: Logs): Promise<void> {}
  async onPredictBatchEnd(_batch: number, _logs?: Logs): Promise<void> {}
}

/** User hooks as a plain object: `{ onEpochEnd: (epoch, logs) => ... }`. */
export type CallbackHooks = Partial<Pick<Callback, 'onTrainBegin' | 'onTrainEnd' | 'onEpochBegin' | 'onEpochEnd' |
  'onTrainBatchBegin' | 'onTrainBatchEnd' | 'onTestBegin' | 'onTestEnd' | 'onTestBatchEnd'>> | Record<string, unknown>;

const HOOKS = ['onTrainBegin', 'onTrainEnd', 'onEpochBegin', 'onEpochEnd', 'onTrainBatchBegin', 'onTrainBatchEnd', 'onTestBegin', 'onTestEnd', 'onTestBatchEnd', 'onPredictBatchEnd'];

/** Wraps an object of hook functions (camelCase or Keras's snake_case names) as a Callback. */
export class LambdaCallback extends Callback {
  constructor(hooks: Record<string, unknown>) {
    super();
    for (const [k, v] of Object.entries(hooks)) {
      const ck = k.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase()).replace(/^on([a-z])/, (_, c: string) => 'on' + c.toUpperCase());
      const name = ck === 'onBatchEnd' ? 'onTrainBatchEnd' : ck === 'onBatchBegin' ? 'onTrainBatchBegin' : ck;
      if (!HOOKS.includes(name) || typeof v !== 'function') throw new TypeError(`convnet: callback hook ${JSON.stringify(k)} is not one of ${HOOKS.join(', ')}`);
      (this as unknown as Record<string, unknown>)[name] = async (...args: unknown[]) => { await (v as (...a: unknown[]) => unknown)(...args); };
    }
  }
}

export function toCallback(c: Callback | Record<string, unknown>): Callback {
  return c instanceof Callback ? c : new LambdaCallback(c);
}

/**
 * Why fit ended: it ran every epoch ('completed'), a callback set `model.stopTraining`
 * ('early_stopping'), its `signal` aborted ('interrupted'), or the loss, a gradient or a weight
 * became NaN or infinite ('non_finite'; the weights are those from before that batch).
 */
export type StopReason = 'completed' | 'early_stopping' | 'interrupted' | 'non_finite';

/** What `fit` returns: `history.history.loss[epoch]`, `history.epoch`, `history.stopReason`. */
export class History extends Callback {
  epoch: number[] = [];
  history: Record<string, number[]> = {};
  stopReason: StopReason = 'completed';
  async onEpochEnd(epoch: number, logs: Logs = {}): Promise<void> {
    this.epoch.push(epoch);
    for (const [k, v] of Object.entries(logs)) (this.history[k] ??= []).push(v);
  }
}

/** Prints "Epoch i/N" and the progress bar (Keras's ProgbarLogger). */
export class ProgbarLogger extends Callback {
  private bar: Progbar | null = null;
  private epochs = 1;
  private done = 0;
  /** `now`: the bar's clock in milliseconds (performance.now by default; tests pass a fake one). */
  constructor(private readonly verbose: 1 | 2, private readonly write?: (s: string) => void, private readonly tty?: boolean, private readonly now?: () => number) { super(); }
  async onTrainBegin(): Promise<void> { this.epochs = this.params.epochs; }
  async onEpochBegin(epoch: number): Promise<void> {
    if (this.epochs > 1) (this.write ?? writeOut)(`Epoch ${epoch + 1}/${this.epochs}\n`);
    this.bar = new Progbar(this.params.steps, { verbose: this.verbose, write: this.write, isTTY: this.tty, now: this.now });
    this.done = 0;
  }
  async onTrainBatchEnd(batch: number, logs: Logs = {}): Promise<void> {
    this.done = batch + 1;
    // verbose 2 draws only the epoch's last line, and off a terminal a progress line every 30 s.
    this.bar?.update(batch + 1, Object.entries(logs), false);
  }
  /** The last line shows the batches really run (`11/80` when stopped early) and says when fit was interrupted. */
  async onEpochEnd(_epoch: number, logs: Logs = {}): Promise<void> {
    this.bar?.update(this.done, Object.entries(logs), true, this.model?.interrupted ? 'interrupted' : undefined);
  }
}

type Mode = 'auto' | 'min' | 'max';
function better(mode: Mode, monitor: string): (a: number, b: number) => boolean {
  const m = mode === 'auto' ? (/acc|auc|precision|recall/.test(monitor) ? 'max' : 'min') : mode;
  return m === 'max' ? (a, b) => a > b : (a, b) => a < b;
}
function isMax(mode: Mode, monitor: string): boolean { return better(mode, monitor)(1, 0); }

function warnMissing(cls: string, monitor: string, logs: Logs): void {
  writeErr(`convnet: ${cls}: metric "${monitor}" is not in the logs (available: ${Object.keys(logs).join(', ')}); skipping\n`);
}

export interface EarlyStoppingArgs {
  monitor?: string; minDelta?: number; patience?: number; verbose?: number; mode?: Mode;
  baseline?: number | null; restoreBestWeights?: boolean; startFromEpoch?: number;
}

/** Stops training when `monitor` has not improved by `minDelta` for `patience` epochs. */
export class EarlyStopping extends Callback {
  readonly monitor: string; readonly minDelta: number; readonly patience: number; readonly verbose: number;
  readonly mode: Mode; readonly baseline: number | null; readonly restoreBestWeights: boolean; readonly startFromEpoch: number;
  wait = 0; stoppedEpoch = 0; best = Infinity; bestEpoch = 0;
  private bestWeights: Tensor[] | null = null;
  private improved: (a: number, b: number) => boolean;
  constructor(args: EarlyStoppingArgs = {}) {
    super();
    const o = normalizeOptions(args as Record<string, unknown>, ['monitor', 'minDelta', 'patience', 'verbose', 'mode', 'baseline', 'restoreBestWeights', 'startFromEpoch'], 'EarlyStopping');
    this.monitor = (o.monitor as string) ?? 'val_loss';
    this.minDelta = Math.abs((o.minDelta as number) ?? 0); this.patience = (o.patience as number) ?? 0;
    this.verbose = (o.verbose as number) ?? 0; this.mode = (o.mode as Mode) ?? 'auto';
    this.baseline = (o.baseline as number | null) ?? null; this.restoreBestWeights = !!o.restoreBestWeights;
    this.startFromEpoch = (o.startFromEpoch as number) ?? 0;
    const max = isMax(this.mode, this.monitor);
    this.improved = max ? (a, b) => a - this.minDelta > b : (a, b) => a + this.minDelta < b;
  }
  async onTrainBegin(): Promise<void> {
    this.wait = 0; this.stoppedEpoch = 0; this.bestEpoch = 0;
    this.best = isMax(this.mode, this.monitor) ? -Infinity : Infinity;
    this.disposeBest();
  }
  async onEpochEnd(epoch: number, logs: Logs = {}): Promise<void> {
    const cur = logs[this.monitor];
    if (cur === undefined) { warnMissing('EarlyStopping', this.monitor, logs); return; }
    if (epoch < this.startFromEpoch) return;
    if (this.restoreBestWeights && this.bestWeights === null) this.saveBest();
    this.wait += 1;
    if (this.improved(cur, this.best)) {
      this.best = cur; this.bestEpoch = epoch;
      if (this.restoreBestWeights) this.saveBest();
      if (this.baseline === null || this.improved(cur, this.baseline)) this.wait = 0;
      return;
    }
    if (this.wait >= this.patience && epoch > 0) {
      this.stoppedEpoch = epoch;
      this.model!.stopTraining = true;
      if (this.restoreBestWeights && this.bestWeights) {
        if (this.verbose > 0) writeOut(`Restoring model weights from the end of the best epoch: ${this.bestEpoch + 1}.\n`);
        this.model!.setWeights(this.bestWeights);
      }
    }
  }
  async onTrainEnd(): Promise<void> {
    if (this.stoppedEpoch > 0 && this.verbose > 0) writeOut(`Epoch ${this.stoppedEpoch + 1}: early stopping\n`);
    this.disposeBest();
  }
  private saveBest(): void { this.disposeBest(); this.bestWeights = this.model!.getWeights().map((t) => t.keep()); }
  private disposeBest(): void { this.bestWeights?.forEach((t) => t.dispose()); this.bestWeights = null; }
}

/** Fills Keras-style placeholders: 'model-{epoch:02d}-{val_loss:.2f}.keras'. */
export function formatFilepath(pattern: string, epoch: number, logs: Logs): string {
  return pattern.replace(/\{(\w+)(?::([^}]*))?\}/g, (m, key: string, spec: string | undefined) => {
    const v = key === 'epoch' ? epoch : logs[key];
    if (v === undefined) return m;
    if (!spec) return String(v);
    const f = /^(0?)(\d*)(?:\.(\d+))?([dfe])$/.exec(spec);
    if (!f) return String(v);
    let s = f[4] === 'd' ? String(Math.trunc(v)) : f[4] === 'e' ? v.toExponential(Number(f[3] ?? 6)) : v.toFixed(Number(f[3] ?? 6));
    if (f[2]) s = s.padStart(Number(f[2]), f[1] === '0' ? '0' : ' ');
    return s;
  });
}

export interface ModelCheckpointArgs {
  filepath: string; monitor?: string; verbose?: number; saveBestOnly?: boolean; saveWeightsOnly?: boolean;
  mode?: Mode; saveFreq?: 'epoch'; initialValueThreshold?: number | null;
}

/**
 * Saves the model after each epoch (or only when `monitor` improves, with `saveBestOnly`),
 * through `model.save`. Each file is written to a temporary name beside it and renamed, so a
 * checkpoint is never half-written. On Ctrl-C, the model is saved if no checkpoint was written yet.
 */
export class ModelCheckpoint extends Callback {
  readonly filepath: string; readonly monitor: string; readonly verbose: number; readonly saveBestOnly: boolean;
  readonly saveWeightsOnly: boolean; readonly mode: Mode;
  best: number;
  /** Paths written so far. */
  readonly saved: string[] = [];
  private improved: (a: number, b: number) => boolean;
  private lastEpoch = -1;
  private lastLogs: Logs = {};
  constructor(filepath: string, args?: Omit<ModelCheckpointArgs, 'filepath'>);
  constructor(args: ModelCheckpointArgs);
  constructor(a: string | ModelCheckpointArgs, b: Omit<ModelCheckpointArgs, 'filepath'> = {}) {
    super();
    const raw = typeof a === 'string' ? { ...b, filepath: a } : a;
    const o = normalizeOptions(raw as unknown as Record<string, unknown>, ['filepath', 'monitor', 'verbose', 'saveBestOnly', 'saveWeightsOnly', 'mode', 'saveFreq', 'initialValueThreshold', 'options'], 'ModelCheckpoint');
    if (typeof o.filepath !== 'string' || !o.filepath) throw new TypeError('convnet: ModelCheckpoint: filepath is required (e.g. "best.keras")');
    if (o.saveFreq !== undefined && o.saveFreq !== 'epoch') throw new RangeError(`convnet: ModelCheckpoint: only saveFreq 'epoch' is supported`);
    this.filepath = o.filepath; this.monitor = (o.monitor as string) ?? 'val_loss'; this.verbose = (o.verbose as number) ?? 0;
    this.saveBestOnly = !!o.saveBestOnly; this.saveWeightsOnly = !!o.saveWeightsOnly; this.mode = (o.mode as Mode) ?? 'auto';
    const max = isMax(this.mode, this.monitor);
    this.improved = better(this.mode, this.monitor);
    this.best = (o.initialValueThreshold as number | undefined) ?? (max ? -Infinity : Infinity);
    const plain = this.filepath.replace(/\{[^}]*\}/g, '');
    if (this.saveWeightsOnly && !/\.weights\.h5$/i.test(plain)) {
      throw new RangeError(`convnet: ModelCheckpoint: with saveWeightsOnly the filepath must end in .weights.h5 (Keras 3's weights format), got ${JSON.stringify(this.filepath)}`);
    }
    if (!this.saveWeightsOnly && !/\.(keras|h5|hdf5|json)$/i.test(plain)) {
      throw new RangeError(`convnet: ModelCheckpoint: the filepath must end in .keras (or .h5), got ${JSON.stringify(this.filepath)}`);
    }
  }
  async onEpochEnd(epoch: number, logs: Logs = {}): Promise<void> {
    this.lastEpoch = epoch; this.lastLogs = logs;
    const path = formatFilepath(this.filepath, epoch + 1, logs);
    if (this.saveBestOnly) {
      const cur = logs[this.monitor];
      if (cur === undefined) { warnMissing('ModelCheckpoint', this.monitor, logs); return; }
      if (!this.improved(cur, this.best)) {
        if (this.verbose > 0) writeOut(`\nEpoch ${epoch + 1}: ${this.monitor} did not improve from ${this.best.toFixed(5)}\n`);
        return;
      }
      if (this.verbose > 0) writeOut(`\nEpoch ${epoch + 1}: ${this.monitor} improved from ${this.best.toFixed(5)} to ${cur.toFixed(5)}, saving model to ${path}\n`);
      this.best = cur;
    } else if (this.verbose > 0) writeOut(`\nEpoch ${epoch + 1}: saving model to ${path}\n`);
    await this.write(path);
  }
  async onTrainEnd(): Promise<void> {
    if (this.model?.interrupted && this.saved.length === 0) {
      const path = formatFilepath(this.filepath, Math.max(this.lastEpoch, 0) + 1, this.lastLogs);
      writeErr(`convnet: interrupted: saving the model to ${path}\n`);
      await this.write(path);
    }
  }
  private async write(path: string): Promise<void> {
    mkdirSync(dirname(path) || '.', { recursive: true });
    if (this.saveWeightsOnly) {
      // saveWeights writes under a temporary name and renames by itself.
      if (!this.model!.saveWeights) throw new Error('convnet: ModelCheckpoint: this model cannot save weights only');
      await this.model!.saveWeights(path);
      this.saved.push(path);
      return;
    }
    const ext = extname(path);
    const tmp = join(dirname(path), `.${basename(path, ext)}.tmp-${process.pid}${ext}`);
    try {
      await this.model!.save(tmp, { overwrite: true });
      renameSync(tmp, path);
    } finally {
      if (existsSync(tmp)) rmSync(tmp, { force: true });
    }
    this.saved.push(path);
  }
}

/** Appends each epoch's logs to a CSV file: "epoch,accuracy,loss,val_accuracy,val_loss". */
export class CSVLogger extends Callback {
  readonly filename: string; readonly separator: string; readonly append: boolean;
  private keys: string[] | null = null;
  constructor(filename: string, args: { separator?: string; append?: boolean } = {}) {
    super();
    this.filename = filename; this.separator = args.separator ?? ','; this.append = !!args.append;
  }
  async onTrainBegin(): Promise<void> {
    mkdirSync(dirname(this.filename) || '.', { recursive: true });
    this.keys = null;
    if (!this.append || !existsSync(this.filename)) writeFileSync(this.filename, '');
    else this.keys = [];
  }
  async onEpochEnd(epoch: number, logs: Logs = {}): Promise<void> {
    const keys = Object.keys(logs).sort();
    if (this.keys === null) {
      appendFileSync(this.filename, ['epoch', ...keys].join(this.separator) + '\n');
    }
    this.keys = keys;
    const cell = (v: number) => (Number.isNaN(v) ? 'nan' : String(v));
    appendFileSync(this.filename, [String(epoch), ...keys.map((k) => cell(logs[k]))].join(this.separator) + '\n');
  }
}

/** Stops training as soon as a batch's loss is NaN or infinite. */
export class TerminateOnNaN extends Callback {
  async onTrainBatchEnd(batch: number, logs: Logs = {}): Promise<void> {
    const l = logs.loss;
    if (l !== undefined && !Number.isFinite(l)) {
      writeOut(`Batch ${batch}: Invalid loss, terminating training\n`);
      this.model!.stopTraining = true;
    }
  }
}

export interface ReduceLROnPlateauArgs {
  monitor?: string; factor?: number; patience?: number; verbose?: number; mode?: Mode; minDelta?: number; cooldown?: number; minLr?: number;
}

/** Multiplies the learning rate by `factor` when `monitor` has stalled for `patience` epochs. */
export class ReduceLROnPlateau extends Callback {
  readonly monitor: string; readonly factor: number; readonly patience: number; readonly verbose: number;
  readonly mode: Mode; readonly minDelta: number; readonly cooldown: number; readonly minLr: number;
  private wait = 0; private cooldownCounter = 0; private best = Infinity;
  private improved: (a: number, b: number) => boolean;
  constructor(args: ReduceLROnPlateauArgs = {}) {
    super();
    const o = normalizeOptions(args as Record<string, unknown>, ['monitor', 'factor', 'patience', 'verbose', 'mode', 'minDelta', 'cooldown', 'minLr'], 'ReduceLROnPlateau');
    this.monitor = (o.monitor as string) ?? 'val_loss'; this.factor = (o.factor as number) ?? 0.1;
    if (this.factor >= 1) throw new RangeError('convnet: ReduceLROnPlateau: factor must be below 1');
    this.patience = (o.patience as number) ?? 10; this.verbose = (o.verbose as number) ?? 0; this.mode = (o.mode as Mode) ?? 'auto';
    this.minDelta = (o.minDelta as number) ?? 1e-4; this.cooldown = (o.cooldown as number) ?? 0; this.minLr = (o.minLr as number) ?? 0;
    const max = isMax(this.mode, this.monitor);
    this.improved = max ? (a, b) => a > b + this.minDelta : (a, b) => a < b - this.minDelta;
  }
  async onTrainBegin(): Promise<void> {
    this.wait = 0; this.cooldownCounter = 0; this.best = isMax(this.mode, this.monitor) ? -Infinity : Infinity;
  }
  async onEpochEnd(epoch: number, logs: Logs = {}): Promise<void> {
    const opt = this.model!.optimizer!;
    logs.learning_rate = opt.learningRate;
    const cur = logs[this.monitor];
    if (cur === undefined) { warnMissing('ReduceLROnPlateau', this.monitor, logs); return; }
    if (this.cooldownCounter > 0) { this.cooldownCounter--; this.wait = 0; }
    if (this.improved(cur, this.best)) { this.best = cur; this.wait = 0; return; }
    if (this.cooldownCounter > 0) return;
    this.wait++;
    if (this.wait >= this.patience) {
      const old = opt.learningRate;
      if (old > this.minLr) {
        const lr = Math.max(old * this.factor, this.minLr);
        opt.learningRate = lr;
        if (this.verbose > 0) writeOut(`\nEpoch ${epoch + 1}: ReduceLROnPlateau reducing learning rate to ${lr}.\n`);
        this.cooldownCounter = this.cooldown; this.wait = 0;
      }
    }
  }
}

/** Sets the learning rate at the start of each epoch from `schedule(epoch, lr)`. */
export class LearningRateScheduler extends Callback {
  constructor(readonly schedule: (epoch: number, lr: number) => number, readonly verbose = 0) { super(); }
  async onEpochBegin(epoch: number): Promise<void> {
    const opt = this.model!.optimizer!;
    const lr = this.schedule(epoch, opt.learningRate);
    if (typeof lr !== 'number' || !Number.isFinite(lr)) throw new TypeError(`convnet: LearningRateScheduler: the schedule must return a number, got ${lr}`);
    opt.learningRate = lr;
    if (this.verbose > 0) writeOut(`\nEpoch ${epoch + 1}: LearningRateScheduler setting learning rate to ${lr}.\n`);
  }
  async onEpochEnd(_epoch: number, logs: Logs = {}): Promise<void> { logs.learning_rate = this.model!.optimizer!.learningRate; }
}

export const callbacks = {
  Callback, History, EarlyStopping, ModelCheckpoint, CSVLogger, TerminateOnNaN, ReduceLROnPlateau, LearningRateScheduler,
  LambdaCallback, ProgbarLogger,
};
