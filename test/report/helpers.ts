/** Shared helpers of the report tests: a fake run folder and a headless Chromium. */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { RunLog } from '../../src/report/run-log.js';
import { appendJsonLine } from '../../src/report/files.js';
import type { TrialRecord } from '../../src/report/types.js';

export const CHROMIUM = '/usr/bin/chromium';
export const ARTIFACTS = new URL('../../test-artifacts/', import.meta.url).pathname;

export async function launchChromium(): Promise<import('playwright-core').Browser | undefined> {
  if (!existsSync(CHROMIUM)) return undefined;
  const { chromium } = await import('playwright-core');
  return chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
}

export function history(epochs: number): Record<string, number[]> {
  const h: Record<string, number[]> = { loss: [], accuracy: [], val_loss: [], val_accuracy: [] };
  for (let e = 0; e < epochs; e++) {
    h.loss.push(0.7 / (e + 1)); h.accuracy.push(0.5 + 0.045 * e);
    h.val_loss.push(0.75 / (e + 1) + 0.02); h.val_accuracy.push(0.5 + 0.04 * e);
  }
  return h;
}

export function trial(index: number, config: Record<string, number | string | boolean>, best: number): TrialRecord {
  return {
    id: `t${index}`, index, config, settings: { data: 'd', epochs: 3, targetSize: 32, subset: 1, seed: 42 },
    history: history(3), bestValAccuracy: best, finalValAccuracy: best - 0.01, bestEpoch: 3, seconds: 1.5 + index,
    params: 1000 + index, finishedAt: new Date(0).toISOString(),
  };
}

/** A notebook-like run folder with every kind of section. */
export async function fakeRun(dir: string, opts: { epochs?: number; status?: 'running' | 'finished' } = {}): Promise<RunLog> {
  mkdirSync(join(dir, 'figures'), { recursive: true });
  const png = await sharp({ create: { width: 120, height: 60, channels: 3, background: { r: 200, g: 30, b: 30 } } }).png().toBuffer();
  writeFileSync(join(dir, 'figures', 'grid.png'), png);
  const log = new RunLog(dir, { kind: 'notebook', title: 'Test run <b>', lang: 'en' });
  log.add({ type: 'text', title: 'Correlate', text: '[[-4, 4, 0]]\n<script>alert(1)</script>' });
  log.add({ type: 'figure', title: 'Predictions', src: 'figures/grid.png' });
  log.add({ type: 'table', title: 'Classes', columns: ['class', 'index'], rows: [['Cat', 0], ['Dog', 1]] });
  log.writeHistory('history.json', history(opts.epochs ?? 4));
  log.add({ type: 'curves', title: 'Training curves', src: 'history.json' });
  log.add({ type: 'confusion', title: 'Confusion matrix', labels: ['Cat', 'Dog'], matrix: [[40, 10], [5, 45]] });
  appendJsonLine(join(dir, 'results.jsonl'), trial(0, { filters: 16, kernelSize: 3, learningRate: 0.001 }, 0.8));
  appendJsonLine(join(dir, 'results.jsonl'), trial(1, { filters: 32, kernelSize: 5, learningRate: 0.001 }, 0.85));
  appendJsonLine(join(dir, 'results.jsonl'), trial(2, { filters: 32, kernelSize: 3, learningRate: 0.0003 }, 0.9));
  log.add({ type: 'sweep', title: 'Sweep', src: 'results.jsonl' });
  if (opts.status !== 'running') log.finish('finished');
  return log;
}
