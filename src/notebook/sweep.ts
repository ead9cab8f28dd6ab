/**
 * `convnet sweep`: the notebook's exercise as a search. Trials run one after the other; each finished
 * trial is appended atomically to `results.jsonl`, so rerunning the same command skips what finished
 * and reruns only what was interrupted. The best model so far is kept as `best-model.keras`.
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

export const BEST_MODEL_FILE = 'best-model.keras';

export interface TrialContext {
  index: number;
  total: number;
  config: TrialConfig;
  settings: SweepSettings;
  data: DataDirInfo;
  log: (line: string) => void;
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

export interface SweepOptions {
  data: string;
  out: string;
  epochs: number;
  space: SearchSpace;
  strategy?: 'grid' | 'random';
  trials?: number;
  subset?: number;
  targetSize?: number;
  seed?: number;
  force?: boolean;
  lang?: Lang;
}

export interface SweepResult {
  records: TrialRecord[];
  best: TrialRecord | undefined;
  reportPath: string;
  failed: { index: number; error: string }[];
  interrupted: boolean;
}

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
  if (o.strategy && o.strategy !== 'grid' && o.strategy !== 'random') throw new Error(`--strategy must be 'grid' or 'random', got '${o.strategy}'`);
  const blocks = (o.space.convBlocks as number[] | undefined) ?? [4];
  const tooMany = blocks.filter((b) => b > maxBlocks(size));
  if (tooMany.length) throw new Error(`convBlocks ${tooMany.join(', ')} would pool a ${size}x${size} input below one pixel; use at most ${maxBlocks(size)} blocks or a larger --target-size`);
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

/** Formats rows as an aligned text table. */
export function textTable(columns: string[], rows: (string | number)[][]): string {
  const cells = [columns, ...rows.map((r) => r.map((c) => String(c)))];
  const widths = columns.map((_, j) => Math.max(...cells.map((r) => String(r[j]).length)));
  const line = (r: (string | number)[]) => r.map((c, j) => String(c).padStart(widths[j])).join('  ');
  return [line(cells[0]), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.slice(1).map(line)].join('\n');
}

/** Runs (or resumes) a sweep. */
export async function runSweep(o: SweepOptions, runTrial: TrialRunner, log: (line: string) => void = console.log): Promise<SweepResult> {
  checkSweepOptions(o);
  const strategy = o.strategy ?? 'random';
  const seed = o.seed ?? 42;
  const info = inspectDataDir(o.data);
  const settings: SweepSettings = { data: resolve(o.data), epochs: o.epochs, targetSize: o.targetSize ?? 150, subset: o.subset ?? 1, seed };
  const manifest: SweepManifest = { kind: 'sweep', settings, space: o.space as SweepManifest['space'], strategy, trials: o.trials ?? gridSize(o.space), createdAt: new Date().toISOString() };

  // The output folder: resume a matching sweep, refuse anything else unless --force.
  const previous = existsSync(o.out) ? readJson<SweepManifest>(join(o.out, SWEEP_FILE)) : undefined;
  const matches = previous && sameJson(previous.settings, settings) && sameJson(previous.space, manifest.space) && previous.strategy === strategy;
  if (existsSync(o.out) && readdirSync(o.out).length > 0 && !matches && !o.force) {
    throw new Error(previous
      ? `output folder '${o.out}' holds a sweep with other settings, space or strategy; rerun with the same arguments to resume it, pass --force to add these trials beside it, or choose another --out`
      : `output folder '${o.out}' already exists and is not a sweep; pass --force to write into it (nothing is deleted) or choose another --out`);
  }
  mkdirSync(o.out, { recursive: true });
  writeFileAtomic(join(o.out, SWEEP_FILE), JSON.stringify(matches ? { ...manifest, createdAt: previous!.createdAt } : manifest, null, 1));

  const plan = planTrials(o.space, strategy, o.trials, seed);
  const ids = plan.map((c) => trialId(c, settings));
  const resultsPath = join(o.out, RESULTS_FILE);
  const existing = readJsonLines<TrialRecord>(resultsPath, (w) => log(`warning: ${w}`));
  const done = new Map(existing.map((r) => [r.id, r]));
  const finished = ids.filter((id) => done.has(id)).length;
  log(`Sweep of ${plan.length} trials (${strategy}, ${gridSize(o.space)} configurations in the space), ${o.epochs} epochs each, target size ${settings.targetSize}${settings.subset < 1 ? `, subset ${settings.subset}` : ''}.`);
  if (plan.length > 100) log(`Note: ${plan.length} trials of ${o.epochs} epochs each is a long sweep; --trials N runs the first N (grid) or N drawn at random.`);
  if (finished) log(`Resuming: ${finished} of ${plan.length} trials already finished in ${resultsPath}; running the other ${plan.length - finished}.`);

  const data = settings.subset < 1 ? makeSubset(info, settings.subset, join(o.out, 'subset-data'), seed) : info;
  if (settings.subset < 1) log(`Subset: ${data.classes.map((c) => `${data.files[c].length} ${c}`).join(', ')} in ${data.dir}`);

  const run = new RunLog(o.out, { kind: 'sweep', title: 'convnet sweep', lang: o.lang ?? 'en' });
  const spaceLines = Object.entries(o.space).map(([k, v]) => `  ${k}: ${JSON.stringify(v)}`);
  run.add({
    type: 'text', title: 'Settings',
    text: `${Object.entries({ ...settings, strategy, trials: plan.length }).map(([k, v]) => `${k}: ${v}`).join('\n')}\nspace:\n${spaceLines.join('\n') || '  (the notebook\'s model only)'}`,
  });
  run.add({ type: 'sweep', title: 'Sweep', src: RESULTS_FILE });
  const bestInfoPath = join(o.out, 'best.json');
  let bestScore = readJson<{ bestValAccuracy: number }>(bestInfoPath)?.bestValAccuracy ?? -Infinity;
  const failed: SweepResult['failed'] = [];
  let interrupted = false;

  for (let i = 0; i < plan.length; i++) {
    if (done.has(ids[i])) continue;
    const config = plan[i];
    log(`\nTrial ${i + 1}/${plan.length} ${JSON.stringify(configDiff(config))}`);
    const t0 = performance.now();
    let outcome: TrialOutcome;
    try {
      outcome = await runTrial({ index: i, total: plan.length, config, settings, data, log });
    } catch (e) {
      if (e instanceof TrialInterrupted) {
        log(`Interrupted during trial ${i + 1}: it is not recorded. Rerun the same command to resume.`);
        interrupted = true;
        break;
      }
      const msg = (e as Error).message ?? String(e);
      log(`Trial ${i + 1} failed: ${msg} (not recorded; a rerun tries it again)`);
      failed.push({ index: i, error: msg });
      continue;
    }
    const s = summarizeHistory(outcome.history);
    const record: TrialRecord = {
      id: ids[i], index: i, config: config as unknown as TrialRecord['config'], settings, history: outcome.history,
      bestValAccuracy: s.best, finalValAccuracy: s.final, bestEpoch: s.bestEpoch, seconds: (performance.now() - t0) / 1000,
      params: outcome.params, finishedAt: new Date().toISOString(),
    };
    appendJsonLine(resultsPath, record);
    done.set(record.id, record);
    log(`Trial ${i + 1}: best val_accuracy ${s.best.toFixed(4)} (epoch ${s.bestEpoch}), final ${s.final.toFixed(4)}, ${record.seconds.toFixed(1)} s, ${record.params.toLocaleString('en-US')} params`);
    if (s.best > bestScore && outcome.saveModel) {
      // Save under a temporary name first: an interrupted save never replaces the previous best.
      const tmp = join(o.out, `.best-model.${process.pid}.keras`);
      await outcome.saveModel(tmp);
      renameSync(tmp, join(o.out, BEST_MODEL_FILE));
      writeFileAtomic(bestInfoPath, JSON.stringify({ id: record.id, index: i, config, bestValAccuracy: s.best, bestEpoch: s.bestEpoch }, null, 1));
      bestScore = s.best;
      log(`New best: saved ${join(o.out, BEST_MODEL_FILE)}`);
    }
    outcome.dispose?.();
    buildReport(o.out);
  }

  const records = ids.map((id) => done.get(id)).filter((r): r is TrialRecord => !!r);
  const ranked = rankTrials(records);
  const t = rankingTable(records, o.lang ?? 'en');
  log(`\n${textTable(t.columns, t.rows)}`);
  if (ranked[0]) log(`\nBest: trial ${ranked[0].index + 1} with val_accuracy ${ranked[0].bestValAccuracy.toFixed(4)}: ${JSON.stringify(ranked[0].config)}`);
  run.finish(failed.length || interrupted ? 'failed' : 'finished',
    interrupted ? 'interrupted; rerun the same command to resume' : failed.length ? `${failed.length} trial(s) failed` : undefined);
  const reportPath = buildReport(o.out);
  log(`Report: ${reportPath}`);
  return { records, best: ranked[0], reportPath, failed, interrupted };
}
