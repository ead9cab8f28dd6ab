/**
 * What a run leaves on disk, typed: the report is rebuilt from these files alone, so the notebook,
 * the sweep and `convnet report` agree on them here and nowhere else.
 *
 * A notebook run folder holds `run.json` (a `RunManifest`: every output in order), the figures it
 * names, and `history.json` (a `HistoryFile`, rewritten after every epoch). A sweep folder holds
 * `sweep.json` (a `SweepManifest`) and `results.jsonl` (one `TrialRecord` per finished trial).
 */

export type Lang = 'en' | 'es';

/** One output of a run, in the order the run produced it. Paths are relative to the run folder. */
export type Section =
  | { type: 'text'; title: string; text: string }
  | { type: 'figure'; title: string; src: string; caption?: string }
  | { type: 'table'; title: string; columns: string[]; rows: (string | number)[][] }
  | { type: 'curves'; title: string; src: string }
  | { type: 'confusion'; title: string; labels: string[]; matrix: number[][] }
  | { type: 'sweep'; title: string; src: string };

export interface RunManifest {
  kind: 'notebook' | 'sweep';
  title: string;
  lang: Lang;
  createdAt: string;
  /**
   * 'running' while the run goes on, then 'finished', 'failed', or 'interrupted' (Ctrl-C, or the
   * process ended while the manifest still said running: see `readManifest`).
   */
  status: 'running' | 'finished' | 'failed' | 'interrupted';
  error?: string;
  /** The process writing the run and its host: a 'running' run whose process is gone was interrupted. */
  pid?: number;
  host?: string;
  sections: Section[];
  /** When the manifest was last saved: a served page reloads when it changes (live tables). */
  updatedAt?: string;
}

/** Keras's `History.history` plus where the run stands. */
export interface HistoryFile {
  epochs: number;
  history: Record<string, number[]>;
}

export type ParamValue = number | string | boolean;

export interface SweepSettings {
  data: string;
  epochs: number;
  targetSize: number;
  subset: number;
  seed: number;
  /** Transfer learning: the pretrained base every trial puts its head on (src/sweep/base.ts); absent for convnet's own CNN. */
  base?: { path: string; cutAt?: string; sha256: string; pixels: '-1..1' | '0..1' | '0..255' };
}

export interface SweepManifest {
  kind: 'sweep';
  settings: SweepSettings;
  space: Record<string, ParamValue[]>;
  strategy: 'grid' | 'random' | 'halving' | 'hyperband';
  trials: number;
  createdAt: string;
}

/** One finished trial, as one line of `results.jsonl`. */
export interface TrialRecord {
  /** Stable id of (config, settings): the key that resuming matches on. */
  id: string;
  index: number;
  config: Record<string, ParamValue>;
  settings: SweepSettings;
  history: Record<string, number[]>;
  bestValAccuracy: number;
  finalValAccuracy: number;
  bestEpoch: number;
  seconds: number;
  params: number;
  finishedAt: string;
}
