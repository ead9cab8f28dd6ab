/**
 * Successive halving (and Hyperband, its brackets), as KerasTuner runs them, with the exercise's
 * rule: epochs stay fixed, the budget is a fraction of the data (`subset`) or a smaller image
 * (`size`). Rung 0 trains `n` configurations at the smallest budget, each rung keeps the best
 * 1/eta of the one before at eta times the budget, and the last rung is always the full data at
 * the full size: only that rung is ranked.
 */
import type { SweepSettings } from '../report/types.js';

export type BudgetKind = 'subset' | 'size';

export interface HalvingOptions {
  /** Keep the best 1/eta of each rung (default 3). */
  eta?: number;
  /** The smallest budget, a fraction in (0, 1) (default 1/eta^2: three rungs). */
  minBudget?: number;
  /** What the budget cuts: the data (default) or the image side. */
  budget?: BudgetKind;
}

export interface Rung {
  /** Fraction of the full budget, 1 on the last rung. */
  budget: number;
  /** Configurations trained on this rung. */
  size: number;
}

/** The rungs for `n` configurations: budgets eta^-s ... eta^-1, 1 and the counts n, n/eta, ... (at least 1). */
export function halvingRungs(n: number, o: HalvingOptions = {}): Rung[] {
  const eta = o.eta ?? 3;
  if (!(Number.isInteger(eta) && eta >= 2)) throw new Error(`--eta must be an integer >= 2, got ${eta}`);
  const minBudget = o.minBudget ?? 1 / eta ** 2;
  if (!(minBudget > 0 && minBudget <= 1)) throw new Error(`--min-budget must be a fraction in (0, 1], got ${minBudget}`);
  const steps = Math.max(0, Math.floor(Math.log(1 / minBudget) / Math.log(eta) + 1e-9));
  return Array.from({ length: steps + 1 }, (_, r) => ({
    budget: r === steps ? 1 : eta ** (r - steps),
    size: Math.max(1, Math.floor(n / eta ** r)),
  }));
}

/** The brackets of Hyperband over budgets eta^-smax ... 1: bracket s starts ceil((smax+1)/(s+1) * eta^s) configurations at eta^-s. */
export function hyperbandBrackets(o: HalvingOptions = {}): { n: number; minBudget: number }[] {
  const eta = o.eta ?? 3;
  const minBudget = o.minBudget ?? 1 / eta ** 2;
  const smax = Math.max(0, Math.floor(Math.log(1 / minBudget) / Math.log(eta) + 1e-9));
  const out: { n: number; minBudget: number }[] = [];
  for (let s = smax; s >= 0; s--) out.push({ n: Math.ceil(((smax + 1) / (s + 1)) * eta ** s), minBudget: eta ** -s });
  return out;
}

/** The smallest image side a budget may use: every conv block halves it, and it must stay >= 1. */
export function minSideFor(convBlocks: number): number { return Math.max(8, 2 ** convBlocks); }

/** A trial's settings on a rung: the data cut to `budget` of the sweep's, or the side scaled by it. */
export function rungSettings(full: SweepSettings, budget: number, kind: BudgetKind, minSide = 8): SweepSettings {
  if (budget >= 1) return full;
  if (kind === 'subset') return { ...full, subset: Number((full.subset * budget).toPrecision(6)) };
  return { ...full, targetSize: Math.max(minSide, Math.round(full.targetSize * budget)) };
}

/** The `keep` best of a rung's results, best first (ties: the earlier configuration). */
export function promote<T extends { index: number; bestValAccuracy: number }>(results: T[], keep: number): T[] {
  return [...results].sort((a, b) => b.bestValAccuracy - a.bestValAccuracy || a.index - b.index).slice(0, keep);
}
