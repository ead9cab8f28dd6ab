import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { runSweep, type SweepRecord } from '../../src/notebook/sweep.js';
import { validateSpace } from '../../src/notebook/space.js';
import { queueExecutor } from '../../src/queue/coordinator.js';
import { parseQueueUrl } from '../../src/queue/connection.js';
import { readJsonLines } from '../../src/report/files.js';
import { defaultTrialRunner } from '../../src/notebook/trial.js';
import { setThreads } from '../../src/backend/index.js';
import { SKIP, spawnCli, startRedis, tempDir, tinyData, waitFor, type Spawned } from './helpers.js';

// Workers wait long when idle (a trial put back by the stalled check must find one); the tests kill them at the end.
const worker = (url: string, name: string, root: string) => spawnCli(['worker', '--queue', url, '--threads', '1', '--name', name, '--stalled-ms', '1500', '--checkpoint-s', '0', '--idle-exit', '60', '--cache', join(root, name)]);

test('SIGKILL a worker mid-trial: another worker takes the trial up from its last epoch checkpoint, recorded once, with the numbers of an unbroken run', { skip: SKIP, timeout: 120000 }, async () => {
  const root = tempDir('kill');
  const redis = await startRedis();
  const c = await redis.client();
  const workers: Record<string, Spawned> = {};
  const stop = new AbortController();
  try {
    const data = await tinyData(root, 60, 32);
    workers.a = worker(redis.url, 'a', root);
    workers.b = worker(redis.url, 'b', root);
    const space = validateSpace({ filters: [8, 12], convBlocks: [2] });
    const settings = { data, epochs: 6, space, strategy: 'grid' as const, targetSize: 32 };
    const sweep = runSweep({ ...settings, out: join(root, 'out') },
      queueExecutor({ queue: parseQueueUrl(redis.url), name: 'kill', pollMs: 200, signal: AbortSignal.any([stop.signal, AbortSignal.timeout(100000)]) }), () => {});
    // The first trial past its first epoch (a checkpoint exists): kill its worker.
    const victim = await waitFor('a trial past epoch 1', async () => {
      const p = await c.redis.hgetall('convnet:sweep:kill:progress');
      return Object.entries(p).map(([id, v]) => ({ id, ...JSON.parse(v) as { worker: string; epoch: number } })).find((x) => x.epoch >= 1);
    }, 60000);
    workers[victim.worker].proc.kill('SIGKILL');
    const r = await sweep;
    const recs = readJsonLines<SweepRecord>(join(root, 'out', 'results.jsonl'));
    assert.equal(recs.length, 2);
    assert.equal(new Set(recs.map((x) => x.id)).size, 2);
    assert.equal(await c.redis.hlen('convnet:sweep:kill:results'), 2);
    const taken = recs.find((x) => x.id === victim.id)!;
    assert.notEqual(taken.worker, victim.worker, 'finished by the other worker');
    assert.ok((taken.resumedFrom ?? 0) >= 1, `resumed from the checkpoint (from epoch ${taken.resumedFrom})`);
    assert.equal(taken.history.val_accuracy.length, 6, 'the whole history, the part before the kill included');
    assert.equal(r.failed.length, 0);
    assert.deepEqual(await c.redis.keys('convnet:sweep:kill:checkpoint:*'), []);
    // Bit-exact: the resumed trial (weights, optimizer state, dropout's stream and the shuffle order
    // restored) has the history of the same trial trained unbroken here (same seed, one thread).
    setThreads(1);
    const local = await runSweep({ ...settings, out: join(root, 'local') }, defaultTrialRunner({ cacheDir: join(root, 'lc'), verbose: 0 }), () => {});
    const unbroken = local.records.find((x) => x.id === victim.id)!;
    assert.deepEqual(taken.history, unbroken.history, 'the resumed trial computes what an unbroken one does');
  } finally {
    stop.abort();
    for (const w of Object.values(workers)) w.proc.kill('SIGKILL');
    await c.close();
    await redis.stop();
    rmSync(root, { recursive: true, force: true });
  }
});

test('restart Redis (AOF on) mid-sweep: nothing finished is lost and the sweep completes', { skip: SKIP, timeout: 120000 }, async () => {
  const root = tempDir('restart');
  const redis = await startRedis();
  const workers: Spawned[] = [];
  const stop = new AbortController();
  try {
    const data = await tinyData(root);
    workers.push(worker(redis.url, 'a', root), worker(redis.url, 'b', root));
    const space = validateSpace({ filters: [4, 8], learningRate: [0.001, 0.003], convBlocks: [2] });
    const lines: string[] = [];
    const sweep = runSweep({ data, out: join(root, 'out'), epochs: 3, space, strategy: 'grid', targetSize: 16 },
      queueExecutor({ queue: parseQueueUrl(redis.url), name: 'restart', pollMs: 200, signal: AbortSignal.any([stop.signal, AbortSignal.timeout(100000)]) }), (l) => lines.push(l));
    const before = await waitFor('two recorded trials', async () => {
      const c = await redis.client();
      try { const ids = await c.redis.hkeys('convnet:sweep:restart:results'); return ids.length >= 2 && ids; } finally { await c.close(); }
    }, 60000);
    await redis.restart();
    const r = await sweep;
    const recs = readJsonLines<SweepRecord>(join(root, 'out', 'results.jsonl'));
    assert.equal(recs.length, 4, lines.join('\n'));
    assert.equal(new Set(recs.map((x) => x.id)).size, 4);
    for (const id of before) assert.ok(recs.some((x) => x.id === id));
    const c = await redis.client();
    try { for (const id of before) assert.ok(await c.redis.hexists('convnet:sweep:restart:results', id), 'kept through the restart'); } finally { await c.close(); }
    assert.equal(r.failed.length, 0);
  } finally {
    stop.abort();
    for (const w of workers) w.proc.kill('SIGKILL');
    await redis.stop();
    rmSync(root, { recursive: true, force: true });
  }
});
