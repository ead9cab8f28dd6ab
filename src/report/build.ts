/** Reads a run folder and writes its `index.html` (plus the charting scripts beside it). */
import { existsSync } from 'node:fs';
import { hostname } from 'node:os';
import { processAlive } from '../io/files.js';
import { isAbsolute, join, normalize } from 'node:path';
import { copyVendorScripts } from './assets.js';
import { readJson, readJsonLines, writeFileAtomic } from './files.js';
import { curveRowsFor, renderReport, type ReportInput } from './html.js';
import type { HistoryFile, RunManifest, SweepManifest, TrialRecord } from './types.js';

export const RUN_FILE = 'run.json';
export const SWEEP_FILE = 'sweep.json';
export const RESULTS_FILE = 'results.jsonl';
export const REPORT_FILE = 'index.html';

/** A path from a manifest, kept inside the run folder. */
function inside(dir: string, src: string): string | undefined {
  const n = normalize(src);
  if (isAbsolute(n) || n.startsWith('..')) return undefined;
  return join(dir, n);
}

/** The manifest of a run folder: `run.json`, or one made up for a sweep folder that only has its results. */
export function readManifest(dir: string): RunManifest {
  if (!existsSync(dir)) throw new Error(`report: folder '${dir}' does not exist`);
  const run = readJson<RunManifest>(join(dir, RUN_FILE));
  if (run) {
    if (!Array.isArray(run.sections)) throw new Error(`report: ${join(dir, RUN_FILE)} has no 'sections' list`);
    // A run that says 'running' but whose process is gone (kill -9, a crash) is not live: say so.
    if (run.status === 'running' && typeof run.pid === 'number' && run.host === hostname() && !processAlive(run.pid)) {
      return { ...run, status: 'interrupted', error: run.error ?? `the process (pid ${run.pid}) ended before the run finished` };
    }
    return run;
  }
  const sweep = readJson<SweepManifest>(join(dir, SWEEP_FILE));
  if (sweep || existsSync(join(dir, RESULTS_FILE))) {
    return {
      kind: 'sweep', title: 'convnet sweep', lang: 'en', createdAt: sweep?.createdAt ?? '', status: 'finished',
      sections: [{ type: 'sweep', title: 'Sweep', src: RESULTS_FILE }],
    };
  }
  throw new Error(`report: '${dir}' holds no run (no ${RUN_FILE}, ${SWEEP_FILE} or ${RESULTS_FILE}); point it at the --out folder of 'convnet notebook' or 'convnet sweep'`);
}

/** Everything the page needs, read from the folder. */
export function loadRun(dir: string, warn: (m: string) => void = () => {}): ReportInput {
  const manifest = readManifest(dir);
  const histories: ReportInput['histories'] = {};
  const trials: ReportInput['trials'] = {};
  const existing = new Set<string>();
  for (const sec of manifest.sections) {
    if (sec.type === 'figure') {
      const p = inside(dir, sec.src);
      if (p && existsSync(p)) existing.add(sec.src);
    } else if (sec.type === 'curves') {
      const p = inside(dir, sec.src);
      histories[sec.src] = p ? readJson<HistoryFile>(p) : undefined;
    } else if (sec.type === 'sweep') {
      const p = inside(dir, sec.src);
      trials[sec.src] = p ? readJsonLines<TrialRecord>(p, warn) : [];
    }
  }
  return { manifest, histories, trials, existing };
}

/** Writes `<dir>/index.html` and `<dir>/report-assets/`; returns the page's path. */
export function buildReport(dir: string, warn: (m: string) => void = () => {}): string {
  const input = loadRun(dir, warn);
  copyVendorScripts(dir);
  const out = join(dir, REPORT_FILE);
  writeFileAtomic(out, renderReport(input));
  return out;
}

/** What a served page polls: enough to redraw the curves and to notice new sections. */
export function liveState(dir: string): { sectionCount: number; status: string; updatedAt?: string; curves: Record<string, unknown[]> } {
  const input = loadRun(dir);
  const curves: Record<string, unknown[]> = {};
  for (const [src, h] of Object.entries(input.histories)) curves[src] = curveRowsFor(h, input.manifest.lang);
  return { sectionCount: input.manifest.sections.length, status: input.manifest.status, updatedAt: input.manifest.updatedAt, curves };
}
