/**
 * RMSprop (Keras 3 defaults: learning rate 0.001, rho 0.9, momentum 0, epsilon 1e-7, centered false).
 *
 *     ms = ρ · ms + (1 − ρ) g²
 *     den = ms (− mg², mg = ρ · mg + (1 − ρ) g, when centered)
 *     inc = lr · g / sqrt(den + ε)
 *     w −= inc                        (momentum = 0)
 *     mom = momentum · mom + inc; w −= mom   (momentum > 0)
 */
import type { Tensor } from '../tensor/index.js';
import { backend } from '../backend/index.js';
import { Optimizer, type OptimizerArgs } from './optimizer.js';

export interface RMSpropArgs extends OptimizerArgs { rho?: number; momentum?: number; epsilon?: number; centered?: boolean }

export class RMSprop extends Optimizer {
  readonly className = 'RMSprop';
  readonly rho: number; readonly momentum: number; readonly epsilon: number; readonly centered: boolean;
  constructor(args: RMSpropArgs = {}) {
    super(args as Record<string, unknown>, { learningRate: 0.001, name: 'rmsprop' }, ['rho', 'momentum', 'epsilon', 'centered']);
    const a = args as Record<string, unknown>;
    this.rho = (a.rho as number) ?? 0.9; this.momentum = (a.momentum as number) ?? 0;
    this.epsilon = (a.epsilon as number) ?? 1e-7; this.centered = !!a.centered;
  }
  protected slotGroups(): string[][] {
    const g = [['velocity']];
    if (this.momentum > 0) g.push(['momentum']);
    if (this.centered) g.push(['average_gradient']);
    return g;
  }
  protected updateStep(p: Tensor, g: Tensor, s: Tensor[], lr: number): void {
    const mom = this.momentum > 0 ? s[1] : null;
    const mg = this.centered ? s[this.momentum > 0 ? 2 : 1] : null;
    backend().rmspropUpdate(p, g, s[0], mom, mg, { lr, rho: this.rho, momentum: this.momentum, epsilon: this.epsilon, centered: this.centered });
  }
  protected ownConfig(): Record<string, unknown> { return { rho: this.rho, momentum: this.momentum, epsilon: this.epsilon, centered: this.centered }; }
}
