/**
 * The optimizer base: learning rate (a number or a schedule), the step count, gradient clipping
 * (`clipnorm` per gradient, `globalClipnorm` over all, `clipvalue` elementwise), decoupled
 * weight decay, and the per-weight state ("slots") each optimizer declares. Updates run in place
 * on the kept weight tensors through the backend's fused update kernels.
 */
import { Tensor, scalar, zeros } from '../tensor/index.js';
import { noGrad } from '../autograd/index.js';
import { add, clip, div, maximum, mul, sqrt, sum, square } from '../ops/index.js';
import { Variable } from '../layers/layer.js';
import { normalizeOptions, type SerializedObject } from '../layers/config.js';
import { LearningRateSchedule, deserializeSchedule } from './schedules.js';

export interface OptimizerArgs {
  learningRate?: number | LearningRateSchedule;
  weightDecay?: number | null;
  clipnorm?: number | null;
  clipvalue?: number | null;
  globalClipnorm?: number | null;
  name?: string;
}
export const BASE_OPTIMIZER_KEYS = ['learningRate', 'weightDecay', 'clipnorm', 'clipvalue', 'globalClipnorm', 'name', 'useEma',
  'emaMomentum', 'emaOverwriteFrequency', 'lossScaleFactor', 'gradientAccumulationSteps'];

function optNum(v: unknown, what: string, where: string): number | null {
  if (v === undefined || v === null) return null;
  if (typeof v !== 'number' || !(v >= 0) || !Number.isFinite(v)) throw new RangeError(`convnet: ${where}: ${what} must be a non-negative number, got ${JSON.stringify(v)}`);
  return v;
}

export abstract class Optimizer {
  abstract readonly className: string;
  name: string;
  readonly weightDecay: number | null;
  readonly clipnorm: number | null;
  readonly clipvalue: number | null;
  readonly globalClipnorm: number | null;
  private lr: number | LearningRateSchedule;
  private readonly iterationVar: Variable;
  private lrVar: Variable | null = null;
  /** Slot tensors per weight path, in the order of `slotGroups()`. */
  private slots = new Map<Variable, Tensor[]>();
  private slotVariables: Variable[] = [];
  private builtFor: Variable[] = [];

  constructor(args: Record<string, unknown>, defaults: { learningRate: number; name: string }, ownKeys: readonly string[]) {
    const o = normalizeOptions(args, [...BASE_OPTIMIZER_KEYS, ...ownKeys], this.constructor.name);
    this.name = (o.name as string) ?? defaults.name;
    let lr = o.learningRate ?? defaults.learningRate;
    if (lr && typeof lr === 'object' && !(lr instanceof LearningRateSchedule)) lr = deserializeSchedule(lr as SerializedObject);
    if (!(lr instanceof LearningRateSchedule) && !(typeof lr === 'number' && lr >= 0 && Number.isFinite(lr))) {
      throw new RangeError(`convnet: ${this.constructor.name}: learningRate must be a non-negative number or a schedule, got ${JSON.stringify(lr)}`);
    }
    this.lr = lr as number | LearningRateSchedule;
    this.weightDecay = optNum(o.weightDecay, 'weightDecay', this.constructor.name);
    this.clipnorm = optNum(o.clipnorm, 'clipnorm', this.constructor.name);
    this.clipvalue = optNum(o.clipvalue, 'clipvalue', this.constructor.name);
    this.globalClipnorm = optNum(o.globalClipnorm, 'globalClipnorm', this.constructor.name);
    if ([this.clipnorm, this.clipvalue, this.globalClipnorm].filter((v) => v !== null).length > 1) {
      throw new RangeError(`convnet: ${this.constructor.name}: give only one of clipnorm, clipvalue and globalClipnorm`);
    }
    this.iterationVar = new Variable(zeros([], 'int32'), 'iteration', `${this.name}/iteration`, false);
    if (typeof this.lr === 'number') this.lrVar = new Variable(scalar(this.lr), 'learning_rate', `${this.name}/learning_rate`, false);
  }

  /** Number of updates applied so far. */
  get iterations(): number { return this.iterationVar.value.dataSync()[0]; }
  set iterations(n: number) { this.iterationVar.value.write([n]); }

  /** The learning rate the next update uses. */
  get learningRate(): number {
    if (this.lr instanceof LearningRateSchedule) return this.lr.call(this.iterations);
    // The float32 variable may have been restored from a file; otherwise keep the exact number given.
    const v = this.lrVar!.value.dataSync()[0];
    return v === Math.fround(this.lr) ? this.lr : v;
  }
  /** Sets a constant learning rate (ReduceLROnPlateau, LearningRateScheduler); replaces a schedule. */
  set learningRate(v: number) {
    if (!(typeof v === 'number' && v >= 0 && Number.isFinite(v))) throw new RangeError(`convnet: learningRate must be a non-negative number, got ${v}`);
    this.lr = v;
    if (!this.lrVar) this.lrVar = new Variable(scalar(v), 'learning_rate', `${this.name}/learning_rate`, false);
    this.lrVar.value.write([v]);
  }
  get schedule(): LearningRateSchedule | null { return this.lr instanceof LearningRateSchedule ? this.lr : null; }

  /** Groups of slot names; names in one group are created interleaved per weight (Keras's add_optimizer_variables). */
  protected abstract slotGroups(): string[][];
  /** Updates `param` in place from `grad` and its slots (in slotGroups order, flattened). */
  protected abstract updateStep(param: Tensor, grad: Tensor, slots: Tensor[], lr: number, step: number): void;
  /** Keras config entries of this optimizer beyond the base ones. */
  protected abstract ownConfig(): Record<string, unknown>;
  /** Whether the fused update applies the weight decay itself. */
  protected get fusedWeightDecay(): boolean { return false; }

  /** Creates the slots for `vars` (done on the first update). */
  build(vars: Variable[]): void {
    this.slots.clear();
    this.slotVariables = [];
    const per = new Map<Variable, Map<string, Tensor>>();
    for (const v of vars) per.set(v, new Map());
    for (const group of this.slotGroups()) {
      for (const v of vars) {
        for (const s of group) {
          const t = zeros(v.shape.slice());
          per.get(v)!.set(s, t);
          this.slotVariables.push(new Variable(t, s, `${this.name}/${v.path.replace(/\//g, '_')}_${s}`, false));
        }
      }
    }
    const order = this.slotGroups().flat();
    for (const v of vars) this.slots.set(v, order.map((s) => per.get(v)!.get(s)!));
    this.builtFor = vars.slice();
  }
  get built(): boolean { return this.builtFor.length > 0; }

  /** Keras 3 order: iteration, learning_rate (unless a schedule), then the slots. */
  variables(): Variable[] {
    return [this.iterationVar, ...(this.lrVar && !(this.lr instanceof LearningRateSchedule) ? [this.lrVar] : []), ...this.slotVariables];
  }

  /** Applies one update: `grads[i]` is the gradient of `vars[i]`. */
  applyGradients(grads: Tensor[], vars: Variable[]): void {
    if (grads.length !== vars.length) throw new RangeError(`convnet: applyGradients: ${grads.length} gradients for ${vars.length} weights`);
    if (!this.built || vars.length !== this.builtFor.length || vars.some((v, i) => v !== this.builtFor[i])) this.build(vars);
    noGrad(() => {
      const gs = this.clipGradients(grads);
      const lr = this.learningRate;
      const step = this.iterations + 1;
      for (let i = 0; i < vars.length; i++) {
        const p = vars[i].value;
        if (this.weightDecay && !this.fusedWeightDecay) {
          vars[i].assign(mul(p, 1 - this.weightDecay * lr));
        }
        this.updateStep(p, gs[i], this.slots.get(vars[i])!, lr, step);
      }
      this.iterations = step;
    });
  }

  private clipGradients(grads: Tensor[]): Tensor[] {
    if (this.clipvalue !== null) return grads.map((g) => clip(g, -this.clipvalue!, this.clipvalue!));
    // On the heap backends the norms are read on the host (exact c / n); elsewhere (webgpu) the
    // scale c / max(n, c) is computed on the device, with no read (1 exactly when n <= c).
    const onHost = grads.every((g) => g.store.storage === 'heap');
    if (this.clipnorm !== null) {
      const c = this.clipnorm;
      return grads.map((g) => {
        if (!onHost) return mul(g, div(c, maximum(sqrt(sum(square(g))), c)));
        const n = sqrt(sum(square(g))).dataSync()[0];
        return n > c ? mul(g, c / n) : g;
      });
    }
    if (this.globalClipnorm !== null && !onHost) {
      const c = this.globalClipnorm;
      const total = grads.reduce<Tensor | null>((a, g) => { const s = sum(square(g)); return a ? add(a, s) : s; }, null);
      if (!total) return grads;
      const scale = div(c, maximum(sqrt(total), c));
      return grads.map((g) => mul(g, scale));
    }
    if (this.globalClipnorm !== null) {
      let total = 0;
      for (const g of grads) total += sum(square(g)).dataSync()[0];
      const n = Math.sqrt(total);
      return n > this.globalClipnorm ? grads.map((g) => mul(g, this.globalClipnorm! / n)) : grads;
    }
    return grads;
  }

  /** Keras 3 config dict (learning rate as float32, as Keras writes it). */
  getConfig(): Record<string, unknown> {
    return {
      name: this.name,
      learning_rate: this.lr instanceof LearningRateSchedule ? this.lr.serialize() : Math.fround(this.lr),
      weight_decay: this.weightDecay, clipnorm: this.clipnorm, global_clipnorm: this.globalClipnorm, clipvalue: this.clipvalue,
      use_ema: false, ema_momentum: 0.99, ema_overwrite_frequency: null, loss_scale_factor: null, gradient_accumulation_steps: null,
      ...this.ownConfig(),
    };
  }
  serialize(): SerializedObject {
    return { module: 'keras.optimizers', class_name: this.className, config: this.getConfig(), registered_name: null };
  }

  /** Releases the slots' memory. */
  dispose(): void { for (const v of this.slotVariables) v.dispose(); this.slotVariables = []; this.slots.clear(); this.builtFor = []; }
}
