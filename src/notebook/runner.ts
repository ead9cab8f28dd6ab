/**
 * `convnet notebook`: the notebook from its first cell to its last. The runner checks every input,
 * prepares the output folder (and the built-in data when no `--data` is given), then runs the steps
 * in order; each step prints to the terminal and records its outputs in `run.json`, from which the
 * report is built. Steps are plain objects, so tests run the orchestration with stand-ins.
 */
import { existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import sharp from 'sharp';
import { buildReport } from '../report/build.js';
import { RunLog } from '../report/run-log.js';
import type { Lang } from '../report/types.js';
import { setSeed } from '../tensor/random.js';
import { generateBuiltinData, encodeJpeg, renderHouse, type BuiltinDataOptions } from './builtin-data.js';
import { inspectDataDir, type DataDirInfo } from './dataset.js';
import { strings, type NotebookStrings } from './i18n.js';
import { prepareOutDir } from './outdir.js';
import type { NotebookState } from './state.js';

export interface NotebookOptions {
  /** Folder with one sub-folder of images per class; the built-in set when absent. */
  data?: string;
  /** The photo for the filter demos; the built-in house when absent. */
  image?: string;
  out?: string;
  epochs?: number;
  batchSize?: number;
  targetSize?: number;
  lang?: Lang;
  force?: boolean;
  seed?: number;
  /** Size of the built-in set (tests make it small). */
  builtin?: BuiltinDataOptions;
  /** Stops training after the current batch when it aborts (the CLI aborts it on Ctrl-C). */
  signal?: AbortSignal;
}

/**
 * The built-in run: 2 x 1000 images of 64x64 read at 32x32, 6 epochs of batch 32 with the
 * notebook's architecture. About a minute in all on 2 busy cores; above 0.98 validation accuracy.
 */
export const BUILTIN_DEFAULTS = { perClass: 1000, size: 64, targetSize: 32, epochs: 6, batchSize: 32 } as const;
/** The notebook's own settings. */
export const NOTEBOOK_DEFAULTS = { targetSize: 150, epochs: 10, batchSize: 128 } as const;
export const DEFAULT_OUT = 'notebook-out';

export interface ResolvedOptions {
  dataDir: string;
  imagePath: string;
  out: string;
  epochs: number;
  batchSize: number;
  targetSize: number;
  lang: Lang;
  seed: number;
  builtin: boolean;
  data: DataDirInfo;
  signal?: AbortSignal;
}

export interface NotebookContext {
  readonly o: ResolvedOptions;
  readonly t: NotebookStrings;
  readonly run: RunLog;
  readonly state: NotebookState;
  /** Prints a line and keeps it in the current step's transcript. */
  log(line: string): void;
  /** Lines logged since the current step began. */
  transcript(): string;
  /** Where to write a figure: the absolute path and the path relative to the run folder. */
  figure(name: string): { path: string; src: string };
}

export interface NotebookStep {
  name: string;
  run(ctx: NotebookContext): Promise<void>;
}

function positiveInt(v: number, flag: string, min = 1): number {
  if (!Number.isInteger(v) || v < min) throw new Error(`${flag} must be an integer >= ${min}, got ${v}`);
  return v;
}

/** Checks the options and the inputs, and prepares the output folder; nothing long happens before this succeeds. */
export async function prepareNotebook(opts: NotebookOptions, log: (l: string) => void = console.log): Promise<ResolvedOptions> {
  const lang = opts.lang ?? 'en';
  if (lang !== 'en' && lang !== 'es') throw new Error(`--lang must be 'en' or 'es', got '${lang}'`);
  const builtin = !opts.data;
  const d = builtin ? BUILTIN_DEFAULTS : NOTEBOOK_DEFAULTS;
  const epochs = positiveInt(opts.epochs ?? d.epochs, '--epochs');
  const batchSize = positiveInt(opts.batchSize ?? d.batchSize, '--batch-size');
  const targetSize = positiveInt(opts.targetSize ?? d.targetSize, '--target-size', 16);
  const out = opts.out ?? DEFAULT_OUT;
  let data = opts.data ? inspectDataDir(opts.data) : undefined;
  if (opts.image) {
    if (!existsSync(opts.image)) throw new Error(`image '${opts.image}' does not exist; give --image a photo (JPEG, PNG, ...) or leave it out for the built-in house`);
    if (!statSync(opts.image).isFile()) throw new Error(`--image '${opts.image}' is not a file`);
    try {
      const m = await sharp(opts.image).metadata();
      if (!m.width || !m.height) throw new Error('no image size');
    } catch (e) {
      throw new Error(`cannot read image '${opts.image}': ${(e as Error).message}`);
    }
  }
  prepareOutDir(out, !!opts.force);

  let imagePath = opts.image ?? '';
  if (builtin) {
    const t0 = performance.now();
    const made = await generateBuiltinData(join(out, 'data'), { ...BUILTIN_DEFAULTS, ...opts.builtin, seed: opts.builtin?.seed ?? opts.seed ?? 42 });
    data = inspectDataDir(made.dataDir);
    imagePath ||= made.imagePath;
    log(`${strings(lang).builtin(made.perClass * made.classes.length, made.dataDir)} (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
  } else if (!imagePath) {
    imagePath = join(out, 'data', 'house.jpg');
    mkdirSync(join(out, 'data'), { recursive: true });
    writeFileSync(imagePath, await encodeJpeg(renderHouse(), 92));
  }
  return { dataDir: data!.dir, imagePath, out, epochs, batchSize, targetSize, lang, seed: opts.seed ?? 42, builtin, data: data!, signal: opts.signal };
}

export interface NotebookResult { out: string; reportPath: string; state: NotebookState; seconds: number; interrupted: boolean }

/** Runs the notebook: checks, then every step in order, then the report. */
export async function runNotebook(opts: NotebookOptions, steps: NotebookStep[], print: (l: string) => void = console.log): Promise<NotebookResult> {
  const t0 = performance.now();
  const o = await prepareNotebook(opts, print);
  setSeed(o.seed);
  const t = strings(o.lang);
  const run = new RunLog(o.out, { kind: 'notebook', title: t.title, lang: o.lang });
  let lines: string[] = [];
  const ctx: NotebookContext = {
    o, t, run, state: {},
    log: (l) => { lines.push(l); print(l); },
    transcript: () => lines.join('\n'),
    figure: (name) => {
      mkdirSync(join(o.out, 'figures'), { recursive: true });
      const path = join(o.out, 'figures', name);
      return { path, src: relative(o.out, path).split('\\').join('/') };
    },
  };
  try {
    for (const step of steps) {
      lines = [];
      await step.run(ctx);
    }
    // Ctrl-C (the signal) stops training after the current batch; the later steps run on the model
    // so far, and the run is recorded as interrupted, not finished (issue 11 §3).
    if (o.signal?.aborted) run.finish('interrupted', ctx.state.interruptedNote ?? 'stopped by Ctrl-C');
    else run.finish('finished');
  } catch (e) {
    run.finish(o.signal?.aborted ? 'interrupted' : 'failed', (e as Error).message ?? String(e));
    buildReport(o.out);
    throw e;
  }
  const reportPath = buildReport(o.out);
  const seconds = (performance.now() - t0) / 1000;
  print(`\n${t.report}: ${reportPath} (${seconds.toFixed(1)} s)`);
  return { out: o.out, reportPath, state: ctx.state, seconds, interrupted: !!o.signal?.aborted };
}
