/**
 * Figures for BENCHMARKS.md (not a test): throughput of a 16-trial tiny sweep with 1, 2 and 3 worker
 * processes on this machine, and the queue's own cost per trial (zero-work trials).
 *   node --import tsx test/queue/bench.ts
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { runSweep, type SweepRecord, type TrialRunner } from '../../src/notebook/sweep.js';
import { defaultTrialRunner } from '../../src/notebook/trial.js';
import { validateSpace } from '../../src/notebook/space.js';
import { queueExecutor } from '../../src/queue/coordinator.js';
import { parseQueueUrl } from '../../src/queue/connection.js';
import { startWorker } from '../../src/queue/worker.js';
import { readJsonLines } from '../../src/report/files.js';
import { setThreads } from '../../src/backend/index.js';
import { cpus, loadavg } from 'node:os';
import { spawnCli, startRedis, tempDir, tinyData, waitFor } from './helpers.js';

const space = validateSpace({ filters: [4, 8, 12, 16], learningRate: [0.001, 0.003], dropout: [0, 0.5], convBlocks: [2] }); // 16 configurations
const root = tempDir('bench');
const data = await tinyData(root, 100, 32);
const base = { data, epochs: 3, space, strategy: 'grid' as const, targetSize: 32, seed: 1 };
const out: Record<string, number | string> = { cores: cpus().length, load_before: loadavg()[0].toFixed(2) };

setThreads(1);
let t0 = performance.now();
await runSweep({ ...base, out: join(root, 'local') }, defaultTrialRunner({ cacheDir: join(root, 'lc'), verbose: 0 }), () => {});
out.local_1thread_s = +((performance.now() - t0) / 1000).toFixed(1);
out.local_trials_per_hour = Math.round(16 / out.local_1thread_s * 3600);

for (const [n, threads] of [[1, 1], [2, 1], [3, 1], [1, 2]]) {
  const redis = await startRedis();
  const ws = Array.from({ length: n }, (_, k) => spawnCli(['worker', '--queue', redis.url, '--threads', String(threads), '--name', `w${k}`, '--idle-exit', '3', '--cache', join(root, `c${n}-${threads}-${k}`)]));
  await waitFor('workers ready', async () => ws.every((w) => /waiting for trials/.test(w.output())), 60000);
  t0 = performance.now();
  const tag = `${n}w${threads > 1 ? `_${threads}t` : ''}`;
  await runSweep({ ...base, out: join(root, `q${tag}`) }, queueExecutor({ queue: parseQueueUrl(redis.url), name: `b${tag}`, pollMs: 200 }), () => {});
  const s = (performance.now() - t0) / 1000;
  out[`queue_${tag}_s`] = +s.toFixed(1);
  out[`queue_${tag}_trials_per_hour`] = Math.round(16 / s * 3600);
  const recs = readJsonLines<SweepRecord>(join(root, `q${tag}`, 'results.jsonl'));
  out[`queue_${tag}_mean_trial_s`] = +(recs.reduce((a, r) => a + r.seconds, 0) / recs.length).toFixed(2);
  await Promise.all(ws.map((w) => w.exited));
  await redis.stop();
}

// The queue's own cost: trials that do no work, one in-process worker, the coordinator polling every 50 ms.
{
  const redis = await startRedis();
  const instant: TrialRunner = async () => ({ history: { val_accuracy: [0.5] }, params: 1 });
  const big = validateSpace({ filters: Array.from({ length: 100 }, (_, i) => i + 1), convBlocks: [2] });
  const w = startWorker({ queue: parseQueueUrl(redis.url), runTrial: instant, name: 'w', log: () => {}, cacheDir: join(root, 'wc') });
  await new Promise((r) => setTimeout(r, 500));
  t0 = performance.now();
  await runSweep({ ...base, space: big, out: join(root, 'zero'), trials: 100 }, queueExecutor({ queue: parseQueueUrl(redis.url), name: 'zero', pollMs: 50 }), () => {});
  const s = (performance.now() - t0) / 1000;
  const recs = readJsonLines<SweepRecord>(join(root, 'zero', 'results.jsonl'));
  const lat = recs.map((r) => Date.parse(r.startedAt!) - Date.parse(r.queuedAt!)).sort((a, b) => a - b);
  out.zero_work_trials = recs.length;
  out.queue_overhead_ms_per_trial = +((s * 1000) / recs.length).toFixed(1);
  out.first_enqueue_to_start_ms = lat[0];
  // Time between a worker finishing training and the next trial starting: result write, progress cleanup, next fetch.
  const starts = recs.map((r) => Date.parse(r.startedAt!)).sort((a, b) => a - b);
  const gaps = starts.slice(1).map((t, i) => t - starts[i]).sort((a, b) => a - b);
  out.worker_trial_to_trial_ms_median = gaps[gaps.length >> 1];
  // The result write alone: HSETNX of a record of this size.
  const c = await redis.client();
  const rec = JSON.stringify(recs[0]);
  const n = 500;
  t0 = performance.now();
  for (let i = 0; i < n; i++) await c.redis.hsetnx('bench:results', String(i), rec);
  out.result_write_ms = +((performance.now() - t0) / n).toFixed(3);
  out.result_record_bytes = rec.length;
  await c.close();
  await w.stop();
  await redis.stop();
}
out.load_after = loadavg()[0].toFixed(2);
console.log(JSON.stringify(out, null, 1));
rmSync(root, { recursive: true, force: true });
process.exit(0);
