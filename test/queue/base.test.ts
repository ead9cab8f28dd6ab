/** A transfer-learning sweep over the queue: the job names the base by path + sha256; each worker loads its own copy and checks it. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { runSweep } from '../../src/notebook/sweep.js';
import { validateSpace } from '../../src/notebook/space.js';
import { queueExecutor } from '../../src/queue/coordinator.js';
import { parseQueueUrl } from '../../src/queue/connection.js';
import { startWorker } from '../../src/queue/worker.js';
import { checkTrialJob, PREFIX, QUEUE_NAME } from '../../src/queue/protocol.js';
import { colourFolder, saveTinyMobileNet } from '../notebook/sweep-helpers.js';
import { SKIP, startRedis, tempDir, waitFor } from './helpers.js';

test('a sweep with --base over the queue: a worker whose base differs refuses in one line; one with its own copy trains the heads', { skip: SKIP, timeout: 90000 }, async () => {
  const root = tempDir('base');
  const redis = await startRedis();
  const queue = parseQueueUrl(redis.url);
  const bullq = new Queue(QUEUE_NAME, { connection: { host: '127.0.0.1', port: redis.port }, prefix: PREFIX });
  let good: ReturnType<typeof startWorker> | undefined;
  const stop = new AbortController();
  try {
    const data = join(root, 'colours');
    await colourFolder(data, 8, ['blue', 'red']);
    const file = join(root, 'coordinator', 'mobilenet.keras');
    await saveTinyMobileNet(file);
    const other = join(root, 'other.keras');
    await saveTinyMobileNet(other, 16, 6);
    const mine = join(root, 'worker-copy.keras');
    copyFileSync(file, mine);
    const space = validateSpace({ learningRate: [0.05, 0.01], batchSize: [4] });
    const sweep = runSweep({ data, out: join(root, 'out'), epochs: 1, space, strategy: 'grid', targetSize: 16, base: { path: file, cutAt: 'out_relu' } },
      queueExecutor({ queue, name: 'tl', pollMs: 100, signal: AbortSignal.any([stop.signal, AbortSignal.timeout(80000)]) }), () => {});
    await waitFor('the trials queued', async () => (await bullq.getJobCounts('waiting')).waiting === 2);
    const job = (await bullq.getWaiting())[0];
    assert.equal(checkTrialJob(job.data).settings.base!.cutAt, 'out_relu');
    assert.throws(() => checkTrialJob({ ...job.data, settings: { ...job.data.settings, base: { ...job.data.settings.base, code: 'x' } } }), /refused a malformed trial: settings.base fields/);

    const bad = startWorker({ queue, base: other, name: 'bad', log: () => {}, cacheDir: join(root, 'wc-bad') });
    const exit = await bad.done;
    assert.equal(exit.code, 1);
    assert.ok(!exit.error!.includes('\n'));
    assert.match(exit.error!, /^convnet worker: the base model .*other\.keras differs from sweep 'tl' \(sha256 [0-9a-f]{12}\.\.\. instead of [0-9a-f]{12}\.\.\.\); give --base a copy of the sweep's base model$/);
    const counts = await bullq.getJobCounts('waiting', 'active', 'failed');
    assert.deepEqual({ ...counts, paused: 0 }, { waiting: 2, active: 0, failed: 0, paused: 0 }, 'the trials wait, untouched');

    // The coordinator's file is gone from this "machine": the worker uses its own copy.
    rmSync(file);
    good = startWorker({ queue, base: mine, name: 'good', log: () => {}, cacheDir: join(root, 'wc-good') });
    const r = await sweep;
    assert.deepEqual(r.failed, []);
    assert.equal(r.records.length, 2);
    for (const rec of r.records) assert.equal(rec.worker, 'good');
  } finally {
    stop.abort();
    await good?.stop();
    await bullq.close();
    await redis.stop();
    rmSync(root, { recursive: true, force: true });
  }
});
