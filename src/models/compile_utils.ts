/**
 * What `compile()` receives and keeps, as Keras 3's `trainers/compile_utils.py`: one loss (or one
 * per output, a list or an object by output name), their weights in the total, and metrics (for
 * every output, per output, or by name), with the names they take in the logs
 * (`<output>_loss`, `<output>_<metric>` when there are several outputs).
 */
import { Loss, getLoss } from './losses.js';
import { Metric, getMetric } from './metrics.js';
import type { Optimizer } from '../optimizers/index.js';
import type { SerializedObject } from '../layers/config.js';

/** A loss: its name, an instance, or its Keras serialisation (`{ class_name, config }`, as files hold it). */
export type LossId = string | Loss | { class_name: string; config?: Record<string, unknown> };
export type MetricId = string | Metric;

export interface CompileArgs {
  optimizer?: string | Optimizer | SerializedObject;
  /** One loss, or one per output (a list in output order, or an object by output name). */
  loss: LossId | (LossId | null)[] | Record<string, LossId | null>;
  /** Weight of each output's loss in the total (a list, or an object by output name). */
  lossWeights?: number[] | Record<string, number> | null;
  /** Metrics: a list for every output, a list of lists (per output), or an object by output name. */
  metrics?: MetricId[] | MetricId[][] | Record<string, MetricId | MetricId[]> | null;
}

/** One output's loss, weight and metrics, with the names they take in the logs. */
export interface CompiledOutput {
  name: string;
  loss: Loss | null;
  lossId: LossId | null;
  weight: number;
  metrics: { metric: Metric; key: string }[];
  lossKey: string;
}

/** The arguments compile keeps, to write them back in `compile_config`. */
export interface CompileArgsKept { loss: CompileArgs['loss']; lossWeights: CompileArgs['lossWeights']; metrics: CompileArgs['metrics'] }

/** Each output's loss, weight and metrics from compile's (normalised) options, for outputs named `names`. */
export function compileOutputs(o: Record<string, unknown>, names: string[]): CompiledOutput[] {
  const n = names.length;
  const perOutput = <T>(v: unknown, what: string, fallback: T, isLeaf: (x: unknown) => boolean): T[] => {
    if (v === undefined || v === null) return names.map(() => fallback);
    if (isLeaf(v)) return names.map(() => v as T);
    if (Array.isArray(v)) {
      if (v.length !== n) throw new RangeError(`convnet: compile: ${what} has ${v.length} entries but the model has ${n} output${n === 1 ? '' : 's'} (${names.join(', ')})`);
      return v as T[];
    }
    if (typeof v === 'object') {
      const rec = v as Record<string, T>;
      for (const k of Object.keys(rec)) if (!names.includes(k)) throw new RangeError(`convnet: compile: ${what} names output "${k}", but the outputs are ${names.join(', ')}`);
      return names.map((nm) => (nm in rec ? rec[nm] : fallback));
    }
    throw new TypeError(`convnet: compile: ${what} must be one value, a list per output, or an object by output name`);
  };
  const isLoss = (x: unknown) => typeof x === 'string' || x instanceof Loss || (!!x && typeof x === 'object' && typeof (x as { class_name?: unknown }).class_name === 'string');
  const losses = perOutput<LossId | null>(o.loss, 'loss', null, isLoss);
  const weights = perOutput<number>(o.lossWeights, 'lossWeights', 1, (x) => typeof x === 'number');
  weights.forEach((w, i) => { if (typeof w !== 'number' || !Number.isFinite(w)) throw new RangeError(`convnet: compile: lossWeights for output ${names[i]} must be a number, got ${JSON.stringify(w)}`); });
  // Metrics: ['accuracy'] applies to every output; [['accuracy'], ['mae']] or { out: [...] } per output.
  const rawM = o.metrics ?? [];
  let metricLists: MetricId[][];
  if (Array.isArray(rawM)) {
    const nested = rawM.length > 0 && rawM.every((m) => Array.isArray(m) || m === null);
    if (nested) {
      if (rawM.length !== n) throw new RangeError(`convnet: compile: metrics has ${rawM.length} lists but the model has ${n} output${n === 1 ? '' : 's'}`);
      metricLists = (rawM as (MetricId[] | null)[]).map((m) => m ?? []);
    } else metricLists = names.map(() => rawM as MetricId[]);
  } else if (typeof rawM === 'object') {
    metricLists = perOutput<MetricId | MetricId[]>(rawM, 'metrics', [], () => false).map((m) => (Array.isArray(m) ? m : [m]));
  } else throw new TypeError(`convnet: compile: metrics must be a list, e.g. ['accuracy']`);
  if (losses.every((l) => l === null)) throw new TypeError('convnet: compile: every output has a null loss; give at least one');
  const multi = n > 1;
  return names.map((name, i) => ({
    name,
    lossId: losses[i],
    loss: losses[i] === null ? null : getLoss(losses[i] as LossId),
    weight: weights[i],
    lossKey: multi ? `${name}_loss` : 'loss',
    metrics: metricLists[i].map((id) => { const m = getMetric(id); return { metric: m, key: multi ? `${name}_${m.name}` : m.name }; }),
  }));
}

/** Keras's compile_config dict for an optimizer and the arguments compile kept. */
export function compileConfigJSON(optimizer: Optimizer, args: CompileArgsKept): Record<string, unknown> {
  const lossJSON = (l: unknown): unknown => (l === null || typeof l === 'string' ? l : l instanceof Loss
    ? { module: 'keras.losses', class_name: l.className, config: l.getConfig(), registered_name: null } : l);
  const metricJSON = (m: unknown): unknown => (m instanceof Metric ? m.name : Array.isArray(m) ? m.map(metricJSON) : m);
  const { loss, lossWeights, metrics } = args;
  const mapVals = (v: unknown, f: (x: unknown) => unknown): unknown => (Array.isArray(v) ? v.map(f)
    : v && typeof v === 'object' && !(v instanceof Loss) && !(v instanceof Metric) ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, f(x)])) : f(v));
  return {
    optimizer: optimizer.serialize(),
    loss: mapVals(loss, lossJSON),
    loss_weights: lossWeights ?? null,
    metrics: mapVals(metrics ?? [], metricJSON),
    weighted_metrics: null, run_eagerly: false, steps_per_execution: 1, jit_compile: false,
  };
}
