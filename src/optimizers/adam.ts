/**
 * Adam (Keras 3 defaults: learning rate 0.001, beta1 0.9, beta2 0.999, epsilon 1e-7).
 * With t the 1-based step:
 *
 *     m = m + (g − m)(1 − β1)          v = v + (g² − v)(1 − β2)
 *     α = lr · sqrt(1 − β2^t) / (1 − β1^t)
 *     w −= α · m / (sqrt(v) + ε)       (v replaced by max(v̂, v) with amsgrad)
 */
import type { Tensor } from '../tensor/index.js';
import { backend } from '../backend/index.js';
import { Optimizer, type OptimizerArgs } from './optimizer.js';

export interface AdamArgs extends OptimizerArgs { beta1?: number; beta2?: number; epsilon?: number; amsgrad?: boolean }
export const ADAM_KEYS = ['beta1', 'beta2', 'epsilon', 'amsgrad'];

export class Adam extends Optimizer {
  readonly className: string = 'Adam';
  readonly beta1: number; readonly beta2: number; readonly epsilon: number; readonly amsgrad: boolean;
  constructor(args: AdamArgs = {}, defaults = { learningRate: 0.001, name: 'adam' }) {
    const a = { ...(args as Record<string, unknown>) };
    // Keras writes beta_1 / beta_2.
    for (const k of ['beta_1', 'beta_2']) if (k in a) { a[k.replace('_', '')] = a[k]; delete a[k]; }
    super(a, defaults, ADAM_KEYS);
    this.beta1 = (a.beta1 as number) ?? 0.9; this.beta2 = (a.beta2 as number) ?? 0.999;
    this.epsilon = (a.epsilon as number) ?? 1e-7; this.amsgrad = !!a.amsgrad;
    for (const [k, v] of [['beta1', this.beta1], ['beta2', this.beta2]] as const) {
      if (!(v >= 0 && v < 1)) throw new RangeError(`convnet: ${this.constructor.name}: ${k} must be in [0, 1), got ${v}`);
    }
  }
  protected slotGroups(): string[][] { return this.amsgrad ? [['momentum', 'velocity'], ['velocity_hat']] : [['momentum', 'velocity']]; }
  protected get fusedWeightDecay(): boolean { return true; }
  protected updateStep(p: Tensor, g: Tensor, s: Tensor[], lr: number, step: number): void {
    backend().adamUpdate(p, g, s[0], s[1], this.amsgrad ? s[2] : null, {
      lr, beta1: this.beta1, beta2: this.beta2, epsilon: this.epsilon, step, weightDecay: this.weightDecay ?? 0, amsgrad: this.amsgrad,
    });
  }
  protected ownConfig(): Record<string, unknown> { return { beta_1: this.beta1, beta_2: this.beta2, epsilon: this.epsilon, amsgrad: this.amsgrad }; }
}
