/**
 * The record a run keeps as it goes: each output is appended to `run.json` at once (written
 * atomically), so a report built or served in the middle of a run shows everything so far.
 */
import { mkdirSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { readJson, writeFileAtomic } from './files.js';
import { RUN_FILE } from './build.js';
import type { HistoryFile, Lang, RunManifest, Section } from './types.js';

export class RunLog {
  readonly manifest: RunManifest;

  constructor(readonly dir: string, init: { kind: RunManifest['kind']; title: string; lang: Lang }) {
    mkdirSync(dir, { recursive: true });
    this.manifest = { ...init, createdAt: new Date().toISOString(), status: 'running', sections: [], pid: process.pid, host: hostname() };
    this.flush();
  }

  /** Adds one output and saves the manifest. */
  add(section: Section): void {
    this.manifest.sections.push(section);
    this.flush();
  }

  /** Saves a history file (Keras's `history` dict) under `src`, relative to the run folder. */
  writeHistory(src: string, history: Record<string, number[]>): void {
    const epochs = Math.max(0, ...Object.values(history).map((v) => v.length));
    const file: HistoryFile = { epochs, history };
    writeFileAtomic(join(this.dir, src), JSON.stringify(file));
  }

  /** Replaces output `index` (a live table, e.g. a queue's workers and trials in progress) and saves the manifest. */
  update(index: number, section: Section): void {
    this.manifest.sections[index] = section;
    this.flush();
  }

  finish(status: 'finished' | 'failed' | 'interrupted', error?: string): void {
    this.manifest.status = status;
    if (error) this.manifest.error = error;
    this.flush();
  }

  /**
   * Marks the run in `dir` interrupted, synchronously (a second Ctrl-C calls it right before
   * exiting). Only a run still 'running' changes; returns whether it did.
   */
  static markInterrupted(dir: string, reason: string): boolean {
    const path = join(dir, RUN_FILE);
    let m: RunManifest | undefined;
    try { m = readJson<RunManifest>(path); } catch { return false; }
    if (!m || m.status !== 'running') return false;
    m.status = 'interrupted';
    m.error = reason;
    m.updatedAt = new Date().toISOString();
    writeFileAtomic(path, JSON.stringify(m, null, 1));
    return true;
  }

  private flush(): void {
    this.manifest.updatedAt = new Date().toISOString();
    writeFileAtomic(join(this.dir, RUN_FILE), JSON.stringify(this.manifest, null, 1));
  }
}
