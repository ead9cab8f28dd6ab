/**
 * `convnet sweep`: the notebook's exercise as a search. Each finished trial is appended atomically
 * to `results.jsonl`, so rerunning the same command skips what finished and reruns only what was
 * interrupted. The best model so far is kept as `best-model.keras`.
 *
 * Trials run where an executor puts them: one after the other in this process (the default, with
 * a `TrialRunner`), or spread over worker machines through a Redis queue (src/queue). Strategies:
 * `grid`, `random`, and successive halving / Hyperband (src/sweep/halving.ts), whose lower rungs go
 * to `halving.jsonl` while the last rung, at the full budget, is what `results.jsonl` ranks.
 *
 * Training itself is injected (`runTrial`), so the orchestration, resuming and the report are tested
 * with a stand-in trainer; `defaultTrialRunner` (trial.ts) trains real models.
 */
import { existsSync, mkdirSync, readdirSync, renameSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { appendJsonLine, readJson, readJsonLines, writeFileAtomic } from '../report/files.js';
import { buildReport, RESULTS_FILE, SWEEP_FILE } from '../report/build.js';
import { rankingTable, rankTrials } from '../report/html.js';
import { RunLog } from '../report/run-log.js';
import type { Lang, SweepManifest, SweepSettings, TrialRecord } from '../report/types.js';
import { inspectDataDir, makeSubset, type DataDirInfo } from './dataset.js';
import { configDiff, gridSize, planTrials, trialId, type SearchSpace, type TrialConfig } from './space.js';
import { HEAD_KEYS, sweepBase } from '../sweep/base.js';
import { halvingRungs, hyperbandBrackets, minSideFor, promote, rungSettings, type BudgetKind } from '../sweep/halving.js';

export const BEST_MODEL_FILE = 'best-model.keras';
/** Results of the lower rungs of successive halving (the last rung's go to results.jsonl). */
export const HALVING_FILE = 'halving.jsonl';

/** Saves and restores a trial's state after each epoch (queue workers: a trial taken over resumes there). */
export interface TrialCheckpoint {
  /**
   * The last saved state, if any: epochs done, the history so far, the saved .keras file, and the
   * trainer's own state (JSON: the layers' random streams) that makes the resumed trial bit-exact.
   */
  load(): Promise<{ epoch: number; history: Record<string, number[]>; modelPath: string; state?: unknown } | undefined>;
  save(epoch: number, history: Record<string, number[]>, saveModel: (path: string) => Promise<void>, state?: unknown): Promise<void>;
}

export interface TrialContext {
  index: number;
  total: number;
  config: TrialConfig;
  settings: SweepSettings;
  data: DataDirInfo;
  log: (line: string) => void;
  /** Epoch checkpoints (workers of a queue-backed sweep); absent locally. */
  checkpoint?: TrialCheckpoint;
  /** Called after every epoch (1-based) with its logs: progress for the live report. */
  onEpochEnd?: (epoch: number, logs: Record<string, number>) => void | Promise<void>;
}

export interface TrialOutcome {
  /** Keras's `History.history`: needs `val_accuracy`. */
  history: Record<string, number[]>;
  params: number;
  /** Saves the trained model (called only when the trial is the best so far). */
  saveModel?: (path: string) => Promise<void>;
  /** Frees the model's memory once the sweep is done with it. */
  dispose?: () => void;
}

export type TrialRunner = (ctx: TrialContext) => Promise<TrialOutcome>;

/** Thrown by a trial runner when the user stops training (Ctrl-C): the sweep stops too, and a rerun resumes. */
export class TrialInterrupted extends Error {
  constructor() { super('interrupted'); this.name = 'TrialInterrupted'; }
}

/** One trial the sweep wants: a configuration under settings (a halving rung's budget is in them). */
export interface PlannedTrial {
  id: string;
  /** Position of the configuration in the plan (in rung 0 for successive halving). */
  index: number;
  config: TrialConfig;
  settings: SweepSettings;
  /** Whether the trial is at the full budget (ranked, and a candidate for best-model.keras). */
  final: boolean;
  rung?: number;
}

/** A record of results.jsonl, with what the queue and successive halving add. */
export type SweepRecord = TrialRecord & { rung?: number; worker?: string; queuedAt?: string; startedAt?: string; attempts?: number; resumedFrom?: number };

/** What an executor reports for each trial it finished. */
export interface FinishedTrial {
  record: SweepRecord;
  /** Writes the trained model to `path` (asked only for the best trial so far); false when it is not available. */
  saveModel?: (path: string) => Promise<boolean | void>;
  dispose?: () => void;
}

export interface ExecutorHooks {
  info: DataDirInfo;
  out: string;
  log: (line: string) => void;
  /** Data for a trial's settings (the subset folders of the local sweep). */
  dataFor(settings: SweepSettings): DataDirInfo;
  finished(f: FinishedTrial): Promise<void>;
  failed(t: PlannedTrial, error: string): void;
  /** A live table of the workers and trials in progress (queue-backed sweeps). */
  progress?(table: { columns: string[]; rows: (string | number)[][] }): void;
}

/** Where trials run: in this process, or on the workers of a queue. */
export interface SweepExecutor {
  /** Checks that can fail before anything is written (the queue: connection, password, name). */
  prepare?(manifest: SweepManifest & { halving?: unknown }, info: DataDirInfo): Promise<void>;
  /** Runs trials (none recorded yet), calling `finished` or `failed` for each; stops early when interrupted. */
  run(trials: PlannedTrial[], hooks: ExecutorHooks): Promise<{ interrupted: boolean }>;
  close?(): Promise<void>;
}

export type Strategy = 'grid' | 'random' | 'halving' | 'hyperband';

export interface SweepOptions {
  data: string;
  out: string;
  epochs: number;
  space: SearchSpace;
  strategy?: Strategy;
  trials?: number;
  subset?: number;
  targetSize?: number;
  seed?: number;
  force?: boolean;
  lang?: Lang;
  /** Successive halving: keep 1/eta per rung, the smallest budget, and what the budget cuts. */
  eta?: number;
  minBudget?: number;
  budget?: BudgetKind;
  /**
   * Transfer learning: a pretrained model file and the layer to cut it at. Every trial trains a new
   * head (global average pooling, dropout, a Dense classifier) on the frozen base, with the trial's
   * learning rate, batch size, dropout and optimizer. `pixels`: the range the base takes (default
   * '-1..1', MobileNetV2's; see src/sweep/base.ts).
   */
  base?: { path: string; cutAt?: string; pixels?: string };
}

export interface SweepResult {
  records: TrialRecord[];
  best: TrialRecord | undefined;
  reportPath: string;
  failed: { index: number; error: string }[];
  interrupted: boolean;
  /** Successive halving: the configuration indices trained on each rung. */
  rungs?: number[][];
}

const STRATEGIES: Strategy[] = ['grid', 'random', 'halving', 'hyperband'];

/** The largest number of 2x2 poolings an input of this size survives. */
function maxBlocks(targetSize: number): number { return Math.floor(Math.log2(targetSize)); }

/** Checks everything that can be checked before training starts. */
export function checkSweepOptions(o: SweepOptions): void {
  if (!Number.isInteger(o.epochs) || o.epochs < 1) throw new Error(`--epochs must be a positive integer, got ${o.epochs}`);
  if (o.trials !== undefined && (!Number.isInteger(o.trials) || o.trials < 1)) throw new Error(`--trials must be a positive integer, got ${o.trials}`);
  const subset = o.subset ?? 1;
  if (!(subset > 0 && subset <= 1)) throw new Error(`--subset must be a fraction in (0, 1], got ${subset}`);
  const size = o.targetSize ?? 150;
  if (!Number.isInteger(size) || size < 8) throw new Error(`--target-size must be an integer >= 8, got ${size}`);
  if (o.strategy && !STRATEGIES.includes(o.strategy)) throw new Error(`--strategy must be one of ${STRATEGIES.join(', ')}, got '${o.strategy}'`);
  const blocks = (o.space.convBlocks as number[] | undefined) ?? [4];
  const tooMany = blocks.filter((b) => b > maxBlocks(size));
  if (tooMany.length) throw new Error(`convBlocks ${tooMany.join(', ')} would pool a ${size}x${size} input below one pixel; use at most ${maxBlocks(size)} blocks or a larger --target-size`);
  if (o.budget !== undefined && o.budget !== 'subset' && o.budget !== 'size') throw new Error(`--budget must be 'subset' or 'size', got '${o.budget}'`);
  if (o.strategy === 'halving' || o.strategy === 'hyperband') halvingRungs(1, o);
  if (o.base) {
    const other = Object.keys(o.space).filter((k) => !(HEAD_KEYS as string[]).includes(k));
    if (other.length) throw new Error(`with --base, trials train a head on the base model: the space may vary ${HEAD_KEYS.join(', ')}, not ${other.join(', ')} (give --space or --preset transfer)`);
    if (o.budget === 'size') throw new Error(`--budget size does not apply with --base (the base model fixes the image size); use --budget subset`);
  }
}

/**
 * Checks a sweep's base before anything is written: it loads, has the cut layer, and takes images
 * of the sweep's size; then frees it.
 */
async function checkBase(base: NonNullable<SweepSettings['base']>, targetSize: number, numClasses: number): Promise<void> {
  const { transferModel } = await import('../models/transfer.js');
  const { model } = await transferModel({ base: base.path, cutAt: base.cutAt, numClasses });
  try {
    const [, h, w, c] = model.input.shape;
    if ((h !== null && h !== targetSize) || (w !== null && w !== targetSize)) {
      throw new Error(`the base model ${base.path} takes ${h}x${w} images; pass --target-size ${h === null ? w : h}`);
    }
    if (c !== 3) throw new Error(`the base model ${base.path} takes ${c} channels; the sweep feeds RGB images (3 channels)`);
  } finally {
    model.dispose();
  }
}

function sameJson(a: unknown, b: unknown): boolean { return JSON.stringify(a) === JSON.stringify(b); }

/** Summary numbers of one history. */
export function summarizeHistory(history: Record<string, number[]>): { best: number; final: number; bestEpoch: number } {
  const va = history.val_accuracy ?? [];
  if (!va.length) throw new Error('trial history has no val_accuracy (validation data missing?)');
  let bestEpoch = 0;
  va.forEach((v, i) => { if (v > va[bestEpoch]) bestEpoch = i; });
  return { best: va[bestEpoch], final: va[va.length - 1], bestEpoch: bestEpoch + 1 };
}

/** The record of a finished trial, the same whether it ran here or on a worker. */
export function trialRecord(t: PlannedTrial, outcome: { history: Record<string, number[]>; params: number }, seconds: number): SweepRecord {
  const s = summarizeHistory(outcome.history);
  return {
    id: t.id, index: t.index, config: t.config as unknown as TrialRecord['config'], settings: t.settings, history: outcome.history,
    bestValAccuracy: s.best, finalValAccuracy: s.final, bestEpoch: s.bestEpoch, seconds,
    params: outcome.params, finishedAt: new Date().toISOString(), ...(t.rung !== undefined && !t.final ? { rung: t.rung } : {}),
  };
}

/** Formats rows as an aligned text table. */
export function textTable(columns: string[], rows: (string | number)[][]): string {
  const cells = [columns, ...rows.map((r) => r.map((c) => String(c)))];
  const widths = columns.map((_, j) => Math.max(...cells.map((r) => String(r[j]).length)));
  const line = (r: (string | number)[]) => r.map((c, j) => String(c).padStart(widths[j])).join('  ');
  return [line(cells[0]), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.slice(1).map(line)].join('\n');
}

/** Trials one after the other in this process: the sweep as it always ran. */
export function localExecutor(runTrial: TrialRunner): SweepExecutor {
  return {
    async run(trials, h) {
      for (const t of trials) {
        h.log(`\nTrial ${t.index + 1}${t.rung !== undefined ? ` (rung ${t.rung + 1}, ${budgetLabel(t.settings)})` : `/${trials.length}`} ${JSON.stringify(configDiff(t.config))}`);
        const t0 = performance.now();
        let outcome: TrialOutcome;
        try {
          outcome = await runTrial({ index: t.index, total: trials.length, config: t.config, settings: t.settings, data: h.dataFor(t.settings), log: h.log });
        } catch (e) {
          if (e instanceof TrialInterrupted) {
            h.log(`Interrupted during trial ${t.index + 1}: it is not recorded. Rerun the same command to resume.`);
            return { interrupted: true };
          }
          h.failed(t, (e as Error).message ?? String(e));
          continue;
        }
        await h.finished({ record: trialRecord(t, outcome, (performance.now() - t0) / 1000), saveModel: outcome.saveModel, dispose: outcome.dispose });
      }
      return { interrupted: false };
    },
  };
}

function budgetLabel(s: SweepSettings): string { return `subset ${s.subset}, ${s.targetSize}x${s.targetSize}`; }

/** Runs (or resumes) a sweep, locally with a `TrialRunner` or on a queue with its executor. */
export async function runSweep(o: SweepOptions, runner: TrialRunner | SweepExecutor, log: (line: string) => void = console.log): Promise<SweepResult> {
  checkSweepOptions(o);
  const executor = typeof runner === 'function' ? localExecutor(runner) : runner;
  const strategy = o.strategy ?? 'random';
  const halving = strategy === 'halving' || strategy === 'hyperband';
  const seed = o.seed ?? 42;
  const info = inspectDataDir(o.data);
  const settings: SweepSettings = { data: resolve(o.data), epochs: o.epochs, targetSize: o.targetSize ?? 150, subset: o.subset ?? 1, seed };
  if (o.base) {
    settings.base = sweepBase(o.base.path, o.base.cutAt, o.base.pixels);
    await checkBase(settings.base, settings.targetSize, info.classes.length);
  }
  const halvingSettings = halving ? { eta: o.eta ?? 3, minBudget: o.minBudget ?? 1 / (o.eta ?? 3) ** 2, budget: o.budget ?? 'subset' } : undefined;
  const manifest = {
    kind: 'sweep', settings, space: o.space as SweepManifest['space'], strategy: strategy as SweepManifest['strategy'],
    trials: o.trials ?? gridSize(o.space), createdAt: new Date().toISOString(), ...(halvingSettings ? { halving: halvingSettings } : {}),
  } as SweepManifest & { halving?: typeof halvingSettings };

  // The output folder: resume a matching sweep, refuse anything else unless --force.
  const previous = existsSync(o.out) ? readJson<typeof manifest>(join(o.out, SWEEP_FILE)) : undefined;
  const matches = previous && sameJson(previous.settings, settings) && sameJson(previous.space, manifest.space) && previous.strategy === strategy
    && sameJson(previous.halving, manifest.halving);
  if (existsSync(o.out) && readdirSync(o.out).length > 0 && !matches && !o.force) {
    throw new Error(previous
      ? `output folder '${o.out}' holds a sweep with other settings, space or strategy; rerun with the same arguments to resume it, pass --force to add these trials beside it, or choose another --out`
      : `output folder '${o.out}' already exists and is not a sweep; pass --force to write into it (nothing is deleted) or choose another --out`);
  }
  await executor.prepare?.(manifest, info);
  mkdirSync(o.out, { recursive: true });
  writeFileAtomic(join(o.out, SWEEP_FILE), JSON.stringify(matches ? { ...manifest, createdAt: previous!.createdAt } : manifest, null, 1));

  const resultsPath = join(o.out, RESULTS_FILE);
  const halvingPath = join(o.out, HALVING_FILE);
  const warn = (w: string) => log(`warning: ${w}`);
  const done = new Map<string, SweepRecord>([...readJsonLines<SweepRecord>(halvingPath, warn), ...readJsonLines<SweepRecord>(resultsPath, warn)].map((r) => [r.id, r]));

  // Subset folders, one per fraction, made once and reused.
  const subsets = new Map<number, DataDirInfo>();
  const dataFor = (s: SweepSettings): DataDirInfo => {
    if (s.subset >= 1) return info;
    let d = subsets.get(s.subset);
    if (!d) {
      d = makeSubset(info, s.subset, join(o.out, s.subset === settings.subset ? 'subset-data' : `subset-data-${s.subset}`), seed);
      subsets.set(s.subset, d);
      log(`Subset ${s.subset}: ${d.classes.map((c) => `${d!.files[c].length} ${c}`).join(', ')} in ${d.dir}`);
    }
    return d;
  };

  const run = new RunLog(o.out, { kind: 'sweep', title: 'convnet sweep', lang: o.lang ?? 'en' });
  const spaceLines = Object.entries(o.space).map(([k, v]) => `  ${k}: ${JSON.stringify(v)}`);
  run.add({
    type: 'text', title: 'Settings',
    text: `${Object.entries({ ...settings, strategy, trials: manifest.trials, ...halvingSettings }).map(([k, v]) => `${k}: ${typeof v === 'object' ? JSON.stringify(v) : v}`).join('\n')}\nspace:\n${spaceLines.join('\n') || '  (the notebook\'s model only)'}`,
  });
  run.add({ type: 'sweep', title: 'Sweep', src: RESULTS_FILE });
  let progressSection = -1;
  const bestInfoPath = join(o.out, 'best.json');
  let bestScore = readJson<{ bestValAccuracy: number }>(bestInfoPath)?.bestValAccuracy ?? -Infinity;
  const failed: SweepResult['failed'] = [];

  const hooks: ExecutorHooks = {
    info, out: o.out, log, dataFor,
    async finished({ record, saveModel, dispose }) {
      if (done.has(record.id)) { dispose?.(); return; } // recorded once, whatever the executor reports
      const final = record.rung === undefined;
      appendJsonLine(final ? resultsPath : halvingPath, record);
      done.set(record.id, record);
      log(`Trial ${record.index + 1}${final ? '' : ` (rung ${record.rung! + 1})`}: best val_accuracy ${record.bestValAccuracy.toFixed(4)} (epoch ${record.bestEpoch}), final ${record.finalValAccuracy.toFixed(4)}, ${record.seconds.toFixed(1)} s, ${record.params.toLocaleString('en-US')} params${record.worker ? ` on ${record.worker}` : ''}`);
      if (final && record.bestValAccuracy > bestScore && saveModel) {
        // Save under a temporary name first: an interrupted save never replaces the previous best.
        const tmp = join(o.out, `.best-model.${process.pid}.keras`);
        if ((await saveModel(tmp)) !== false) {
          renameSync(tmp, join(o.out, BEST_MODEL_FILE));
          writeFileAtomic(bestInfoPath, JSON.stringify({ id: record.id, index: record.index, config: record.config, bestValAccuracy: record.bestValAccuracy, bestEpoch: record.bestEpoch }, null, 1));
          bestScore = record.bestValAccuracy;
          log(`New best: saved ${join(o.out, BEST_MODEL_FILE)}`);
        }
      }
      dispose?.();
      buildReport(o.out);
    },
    failed(t, error) {
      log(`Trial ${t.index + 1} failed: ${error} (not recorded; a rerun tries it again)`);
      failed.push({ index: t.index, error });
    },
    progress(table) {
      const section = { type: 'table' as const, title: 'Queue: workers and trials in progress', ...table };
      if (progressSection < 0) { run.add(section); progressSection = run.manifest.sections.length - 1; } else run.update(progressSection, section);
    },
  };

  /** Runs the trials of `list` not recorded yet; returns the records of all of them (failed ones left out). */
  const runBatch = async (list: PlannedTrial[]): Promise<{ records: SweepRecord[]; interrupted: boolean }> => {
    const todo = list.filter((t) => !done.has(t.id));
    const r = todo.length ? await executor.run(todo, hooks) : { interrupted: false };
    return { records: list.map((t) => done.get(t.id)).filter((x): x is SweepRecord => !!x), interrupted: r.interrupted };
  };

  let interrupted = false;
  let finalIds: string[] = [];
  const rungsTrained: number[][] = [];
  try {
    if (!halving) {
      const plan = planTrials(o.space, strategy as 'grid' | 'random', o.trials, seed);
      const list = plan.map((config, index) => ({ id: trialId(config, settings), index, config, settings, final: true }));
      finalIds = list.map((t) => t.id);
      const finished = list.filter((t) => done.has(t.id)).length;
      log(`Sweep of ${plan.length} trials (${strategy}, ${gridSize(o.space)} configurations in the space), ${o.epochs} epochs each, target size ${settings.targetSize}${settings.subset < 1 ? `, subset ${settings.subset}` : ''}.`);
      if (plan.length > 100) log(`Note: ${plan.length} trials of ${o.epochs} epochs each is a long sweep; --trials N runs the first N (grid) or N drawn at random.`);
      if (finished) log(`Resuming: ${finished} of ${plan.length} trials already finished in ${resultsPath}; running the other ${plan.length - finished}.`);
      if (settings.subset < 1) dataFor(settings);
      interrupted = (await runBatch(list)).interrupted;
    } else {
      const h = halvingSettings!;
      const brackets = strategy === 'hyperband' ? hyperbandBrackets(h) : [{ n: Math.min(o.trials ?? 27, gridSize(o.space)), minBudget: h.minBudget }];
      const minSide = minSideFor(Math.max(...((o.space.convBlocks as number[] | undefined) ?? [4])));
      if (h.budget === 'size' && settings.targetSize * h.minBudget < minSide) {
        log(`Note: the smallest budget would shrink images below ${minSide}x${minSide} (what ${Math.log2(minSide)} conv blocks need); those rungs use ${minSide}x${minSide}.`);
      }
      let offset = 0; // configurations are numbered across brackets
      for (const [b, bracket] of brackets.entries()) {
        const rungs = halvingRungs(bracket.n, { eta: h.eta, minBudget: bracket.minBudget });
        let configs = planTrials(o.space, 'random', bracket.n, seed + b).map((config, i) => ({ config, index: offset + i }));
        offset += configs.length;
        log(`${strategy === 'hyperband' ? `Bracket ${b + 1}/${brackets.length}: s` : 'S'}uccessive halving of ${configs.length} configurations over ${rungs.length} rungs (${rungs.map((r) => `${r.size} at ${+r.budget.toPrecision(3)}`).join(', ')}; budget: ${h.budget}), ${o.epochs} epochs each; the last rung is the full data at ${settings.targetSize}x${settings.targetSize}.`);
        for (const [r, rung] of rungs.entries()) {
          const last = r === rungs.length - 1;
          const s = rungSettings(settings, rung.budget, h.budget, minSide);
          const list: PlannedTrial[] = configs.map(({ config, index }) => ({ id: trialId(config, s), index, config, settings: s, final: last, rung: r }));
          rungsTrained.push(configs.map((c) => c.index));
          log(`\nRung ${r + 1}/${rungs.length}: ${list.length} configurations at ${budgetLabel(s)}`);
          const res = await runBatch(list);
          if (res.interrupted) { interrupted = true; break; }
          if (last) { finalIds.push(...list.map((t) => t.id)); break; }
          const keep = promote(res.records, rungs[r + 1].size);
          log(`Rung ${r + 1}: promoting ${keep.map((k) => k.index + 1).join(', ')}`);
          configs = keep.map((k) => ({ config: k.config as unknown as TrialConfig, index: k.index }));
        }
        if (interrupted) break;
      }
    }
  } finally {
    await executor.close?.();
  }

  const records = [...new Set(finalIds)].map((id) => done.get(id)).filter((r): r is SweepRecord => !!r);
  const ranked = rankTrials(records);
  const t = rankingTable(records, o.lang ?? 'en');
  log(`\n${textTable(t.columns, t.rows)}`);
  if (ranked[0]) log(`\nBest: trial ${ranked[0].index + 1} with val_accuracy ${ranked[0].bestValAccuracy.toFixed(4)}: ${JSON.stringify(ranked[0].config)}`);
  run.finish(interrupted ? 'interrupted' : failed.length ? 'failed' : 'finished',
    interrupted ? 'interrupted; rerun the same command to resume' : failed.length ? `${failed.length} trial(s) failed` : undefined);
  const reportPath = buildReport(o.out);
  log(`Report: ${reportPath}`);
  return { records, best: ranked[0], reportPath, failed, interrupted, ...(halving ? { rungs: rungsTrained } : {}) };
}
