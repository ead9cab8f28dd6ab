import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { runSweep } from '../../src/notebook/sweep.js';
import { defaultTrialRunner } from '../../src/notebook/trial.js';
import { validateSpace } from '../../src/notebook/space.js';
import { queueExecutor } from '../../src/queue/coordinator.js';
import { parseQueueUrl } from '../../src/queue/connection.js';
import { readJsonLines } from '../../src/report/files.js';
import { setThreads } from '../../src/backend/index.js';
import type { SweepRecord } from '../../src/notebook/sweep.js';
import type { RunManifest } from '../../src/report/types.js';
import { SKIP, spawnCli, startRedis, tempDir, tinyData } from './helpers.js';

const space = validateSpace({ filters: [4, 8], learningRate: [0.001, 0.003, 0.01], convBlocks: [2] });

test('a sweep over the queue with 3 worker processes: every trial recorded once, the ranking of a local sweep', { skip: SKIP, timeout: 120000 }, async () => {
  const root = tempDir('sweep');
  const redis = await startRedis();
  let workers: ReturnType<typeof spawnCli>[] = [];
  const stop = new AbortController();
  try {
    const data = await tinyData(root);
    const base = { data, epochs: 2, space, strategy: 'grid' as const, targetSize: 16, seed: 7 };
    setThreads(1);
    await runSweep({ ...base, out: join(root, 'local') }, defaultTrialRunner({ cacheDir: join(root, 'lc'), verbose: 0 }), () => {});
    workers = [1, 2, 3].map((k) => spawnCli(['worker', '--queue', redis.url, '--threads', '1', '--name', `w${k}`, '--idle-exit', '4', '--cache', join(root, `cache${k}`)]));
    const lines: string[] = [];
    const r = await runSweep({ ...base, out: join(root, 'queued') }, queueExecutor({ queue: parseQueueUrl(redis.url), name: 'three', pollMs: 200, signal: AbortSignal.any([stop.signal, AbortSignal.timeout(100000)]) }), (l) => lines.push(l));
    const codes = await Promise.all(workers.map((w) => w.exited));
    assert.deepEqual(codes, [0, 0, 0], workers.map((w) => w.output()).join('\n'));
    const local = readJsonLines<SweepRecord>(join(root, 'local', 'results.jsonl'));
    const queued = readJsonLines<SweepRecord>(join(root, 'queued', 'results.jsonl'));
    assert.equal(queued.length, 6);
    assert.equal(new Set(queued.map((x) => x.id)).size, 6, 'each trial once');
    const rank = (recs: SweepRecord[]) => [...recs].sort((a, b) => b.bestValAccuracy - a.bestValAccuracy || a.index - b.index).map((x) => [x.index, x.bestValAccuracy]);
    assert.deepEqual(rank(queued), rank(local));
    const byIndex = (recs: SweepRecord[]) => [...recs].sort((a, b) => a.index - b.index).map((x) => x.history);
    assert.deepEqual(byIndex(queued), byIndex(local), 'the same numbers, epoch by epoch');
    for (const x of queued) assert.match(x.worker ?? '', /^w[123]$/);
    assert.equal(r.records.length, 6);
    assert.ok(readFileSync(join(root, 'queued', 'best-model.keras')).length > 1000);
    const manifest = JSON.parse(readFileSync(join(root, 'queued', 'run.json'), 'utf8')) as RunManifest;
    const live = manifest.sections.find((s) => s.type === 'table' && /workers/.test(s.title));
    assert.ok(live, 'the live table of workers and trials');
    assert.ok(manifest.updatedAt, 'a served page reloads when the table changes');
    const page = readFileSync(join(root, 'queued', 'index.html'), 'utf8');
    assert.match(page, /Queue: workers and trials in progress/);
    assert.match(page, /0 trials not finished/);
    assert.match(lines.join('\n'), /Queued 6 trials/);
    // Only the results and the plan stay behind in Redis.
    const c = await redis.client();
    try {
      assert.equal(await c.redis.hlen('convnet:sweep:three:results'), 6);
      assert.deepEqual(await c.redis.keys('convnet:sweep:three:model:*'), []);
      assert.deepEqual(await c.redis.keys('convnet:sweep:three:checkpoint:*'), []);
      assert.equal(await c.redis.hlen('convnet:workers'), 0);
    } finally { await c.close(); }
  } finally {
    stop.abort();
    for (const w of workers) w.proc.kill('SIGKILL');
    await redis.stop();
    rmSync(root, { recursive: true, force: true });
  }
});
