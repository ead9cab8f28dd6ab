/**
 * Vega-Lite specifications of the report's charts. The data travels inside each spec as a named
 * dataset, so the page can later swap it (`view.data(name, rows)`) when the served run moves on.
 */
import type { ParamValue, TrialRecord } from './types.js';

const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';

export type VegaLiteSpec = Record<string, unknown>;

/** One row per (epoch, metric, split): the long format a faceted line chart wants. */
export interface CurveRow { epoch: number; metric: string; split: string; value: number }

/**
 * Turns Keras's `history` dict (`loss`, `val_loss`, ...) into chart rows; validation keys are `val_*`.
 * `metricNames` renames metrics for the page's language (`loss` -> `pérdida`); others keep their key.
 */
export function historyRows(history: Record<string, number[]>, splitNames = { train: 'training', val: 'validation' }, metricNames: Record<string, string> = {}): CurveRow[] {
  const rows: CurveRow[] = [];
  for (const [key, values] of Object.entries(history)) {
    if (key === 'lr' || key === 'learning_rate') continue;
    const val = key.startsWith('val_');
    const raw = val ? key.slice(4) : key;
    const metric = metricNames[raw] ?? raw;
    values.forEach((value, i) => {
      if (Number.isFinite(value)) rows.push({ epoch: i + 1, metric, split: val ? splitNames.val : splitNames.train, value });
    });
  }
  return rows;
}

/**
 * Loss and accuracy per epoch, training and validation, side by side with their own y scales.
 * `labels` gives the x axis title and the names loss and accuracy carry in `rows` (the page's language).
 */
export function curvesSpec(rows: CurveRow[], dataset = 'history', labels = { epoch: 'epoch', loss: 'loss', accuracy: 'accuracy' }): VegaLiteSpec {
  const metrics = [...new Set(rows.map((r) => r.metric))];
  const first = [labels.loss, labels.accuracy];
  const order = [...first, ...metrics.filter((m) => !first.includes(m))];
  return {
    $schema: SCHEMA,
    datasets: { [dataset]: rows },
    data: { name: dataset },
    facet: { column: { field: 'metric', type: 'nominal', title: null, sort: order, header: { labelFontSize: 14 } } },
    spec: {
      width: 320,
      height: 220,
      mark: { type: 'line', point: true, tooltip: true },
      encoding: {
        x: { field: 'epoch', type: 'quantitative', title: labels.epoch, axis: { tickMinStep: 1 } },
        y: { field: 'value', type: 'quantitative', title: null, scale: { zero: false } },
        color: { field: 'split', type: 'nominal', title: null },
      },
    },
    resolve: { scale: { y: 'independent' } },
  };
}

/** A heat map of the confusion matrix with the counts written in each cell. */
export function confusionSpec(labels: string[], matrix: number[][], axes = { actual: 'actual', predicted: 'predicted' }): VegaLiteSpec {
  const values: { actual: string; predicted: string; count: number }[] = [];
  matrix.forEach((row, i) => row.forEach((count, j) => values.push({ actual: labels[i], predicted: labels[j], count })));
  const x = { field: 'predicted', type: 'nominal', sort: labels, title: axes.predicted };
  const y = { field: 'actual', type: 'nominal', sort: labels, title: axes.actual };
  return {
    $schema: SCHEMA,
    data: { values },
    width: 60 * labels.length + 60,
    height: 60 * labels.length + 60,
    layer: [
      { mark: 'rect', encoding: { x, y, color: { field: 'count', type: 'quantitative', scale: { scheme: 'blues' }, legend: null } } },
      {
        mark: { type: 'text', fontSize: 16 },
        encoding: {
          x, y, text: { field: 'count', type: 'quantitative' },
          color: { condition: { test: `datum.count > ${Math.max(...matrix.flat(), 1) / 2}`, value: 'white' }, value: 'black' },
        },
      },
    ],
  };
}

/** The parameters that vary between trials (the ones worth a chart), in the order the configs list them. */
export function varyingParams(records: TrialRecord[]): string[] {
  const keys: string[] = [];
  for (const r of records) for (const k of Object.keys(r.config)) if (!keys.includes(k)) keys.push(k);
  return keys.filter((k) => new Set(records.map((r) => JSON.stringify(r.config[k] ?? null))).size > 1);
}

/** Flat rows for the sweep chart: each trial's config plus its accuracies. */
export function sweepRows(records: TrialRecord[]): Record<string, ParamValue | null>[] {
  return records.map((r) => ({
    trial: r.index + 1,
    ...Object.fromEntries(Object.entries(r.config).map(([k, v]) => [k, typeof v === 'boolean' ? String(v) : v])),
    best_val_accuracy: r.bestValAccuracy,
    final_val_accuracy: r.finalValAccuracy,
    seconds: r.seconds,
  }));
}

/** Best validation accuracy against each parameter, one small chart per parameter. */
export function sweepSpec(records: TrialRecord[], title = 'best validation accuracy'): VegaLiteSpec {
  const params = varyingParams(records);
  const shown = params.length ? params : Object.keys(records[0]?.config ?? {}).slice(0, 1);
  return {
    $schema: SCHEMA,
    data: { values: sweepRows(records) },
    repeat: shown,
    columns: Math.min(4, Math.max(1, shown.length)),
    spec: {
      width: 180,
      height: 160,
      layer: [
        {
          mark: { type: 'point', filled: true, size: 70, opacity: 0.75, tooltip: { content: 'data' } },
          encoding: {
            x: { field: { repeat: 'repeat' }, type: 'ordinal' },
            y: { field: 'best_val_accuracy', type: 'quantitative', title, scale: { zero: false } },
          },
        },
        {
          mark: { type: 'tick', color: 'firebrick', thickness: 2 },
          encoding: {
            x: { field: { repeat: 'repeat' }, type: 'ordinal' },
            y: { aggregate: 'max', field: 'best_val_accuracy', type: 'quantitative' },
          },
        },
      ],
    },
  };
}
