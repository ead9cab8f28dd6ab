import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { main } from '../../src/cli/main.js';
import { runSweep, type TrialRunner } from '../../src/notebook/sweep.js';
import { validateSpace } from '../../src/notebook/space.js';
import { queueExecutor } from '../../src/queue/coordinator.js';
import { checkConnection, parseQueueUrl } from '../../src/queue/connection.js';
import { startWorker } from '../../src/queue/worker.js';
import { PREFIX, QUEUE_NAME } from '../../src/queue/protocol.js';
import { readJsonLines } from '../../src/report/files.js';
import { SKIP, spawnCli, startRedis, tempDir, tinyData, waitFor } from './helpers.js';

const space = validateSpace({ filters: [4, 8], convBlocks: [2] });

/** Runs the CLI in-process, capturing what it prints. */
async function cli(...argv: string[]): Promise<{ code: number; err: string }> {
  const err: string[] = [];
  const log = console.log, error = console.error, warn = console.warn;
  console.log = () => {};
  console.error = console.warn = (...a: unknown[]) => { err.push(a.join(' ')); };
  try { return { code: await main(argv), err: err.join('\n') }; } finally { console.log = log; console.error = error; console.warn = warn; }
}

const oneLine = (s: string) => assert.ok(s.length > 0 && !s.includes('\n'), `one line: ${JSON.stringify(s)}`);

test('a wrong or missing password and an unreachable host: one clear line, nothing written', { skip: SKIP, timeout: 60000 }, async () => {
  const root = tempDir('errors');
  const redis = await startRedis(['--requirepass', 's3cret'], 's3cret');
  try {
    const data = await tinyData(root, 10, 16);
    const url = (auth: string) => `redis://${auth}127.0.0.1:${redis.port}/0`;
    const sweep = (u: string, out: string) => runSweep({ data, out: join(root, out), epochs: 1, space, targetSize: 16 }, queueExecutor({ queue: parseQueueUrl(u, {}), name: 'err' }), () => {});
    await assert.rejects(sweep(url(':wrong@'), 'o1'), (e: Error) => { oneLine(e.message); assert.match(e.message, /^Redis at redis:\/\/127\.0\.0\.1:\d+\/0 refused the password \(WRONGPASS\); check the password/); return true; });
    await assert.rejects(sweep(url(''), 'o2'), /needs a password \(NOAUTH\); put it in the URL .* or in REDIS_PASSWORD/);
    assert.ok(!existsSync(join(root, 'o1')) && !existsSync(join(root, 'o2')), 'no output folder');
    assert.doesNotMatch(parseQueueUrl(url(':wrong@')).display, /wrong/, 'the password is never shown');
    // The password from the environment.
    await checkConnection(parseQueueUrl(url(''), { REDIS_PASSWORD: 's3cret' }));
    const w = await cli('worker', '--queue', url(':wrong@'));
    assert.equal(w.code, 1);
    oneLine(w.err);
    assert.match(w.err, /^convnet worker: Redis at .* refused the password/);
    // Unreachable: a port nobody listens on.
    const down = `redis://127.0.0.1:${redis.port === 1 ? 2 : 1}/0`;
    const s = await cli('sweep', data, '--epochs', '1', '--target-size', '16', '--preset', 'notebook', '--out', join(root, 'o3'), '--queue', down);
    assert.equal(s.code, 1);
    oneLine(s.err);
    assert.match(s.err, /^convnet sweep: cannot reach Redis at redis:\/\/127\.0\.0\.1:1\/0: connection refused; start it/);
    const bad = await cli('sweep', data, '--queue', 'http://x');
    assert.match(bad.err, /scheme must be redis:\/\/ or rediss:\/\//);
    // Nothing was written to the server.
    const c = await redis.client();
    try { assert.equal(await c.redis.dbsize(), 0); } finally { await c.close(); }
  } finally {
    await redis.stop();
    rmSync(root, { recursive: true, force: true });
  }
});

test('a worker whose data differ refuses in one line and leaves the trials to the others; malformed trials are refused', { skip: SKIP, timeout: 60000 }, async () => {
  const root = tempDir('fingerprint');
  const redis = await startRedis();
  const queue = parseQueueUrl(redis.url);
  const bullq = new Queue(QUEUE_NAME, { connection: { host: '127.0.0.1', port: redis.port }, prefix: PREFIX });
  let good: ReturnType<typeof startWorker> | undefined;
  const stop = new AbortController();
  try {
    const data = await tinyData(join(root, 'a'), 10, 16);
    const other = await tinyData(join(root, 'b'), 10, 16);
    writeFileSync(join(other, 'vertical', 'extra.png'), 'not the same data');
    const calls: string[] = [];
    const fake: TrialRunner = async (ctx) => { calls.push(ctx.data.dir); return { history: { val_accuracy: [0.5] }, params: 1 }; };
    const sweep = runSweep({ data, out: join(root, 'out'), epochs: 1, space, strategy: 'grid', targetSize: 16 }, queueExecutor({ queue, name: 'fp', pollMs: 100, signal: AbortSignal.any([stop.signal, AbortSignal.timeout(50000)]) }), () => {});
    await waitFor('the trials queued', async () => (await bullq.getJobCounts('waiting')).waiting === 2);
    const bad = startWorker({ queue, data: other, runTrial: fake, name: 'bad', log: () => {}, cacheDir: join(root, 'wc') });
    const exit = await bad.done;
    assert.equal(exit.code, 1);
    oneLine(exit.error!);
    assert.match(exit.error!, /^convnet worker: the data in .* differ from sweep 'fp': 21 files instead of 20; give --data a copy of the sweep's data set$/);
    assert.deepEqual(calls, []);
    const counts = await bullq.getJobCounts('waiting', 'active', 'failed', 'completed', 'delayed');
    assert.deepEqual({ ...counts, paused: 0 }, { waiting: 2, active: 0, failed: 0, completed: 0, delayed: 0, paused: 0 }, 'the trials wait, untouched');
    for (const j of await bullq.getWaiting()) assert.equal(j.attemptsMade, 0);
    // A worker with the right data takes them.
    good = startWorker({ queue, runTrial: fake, name: 'good', log: () => {}, cacheDir: join(root, 'wc') });
    const r = await sweep;
    assert.equal(r.records.length, 2);
    assert.equal(readJsonLines(join(root, 'out', 'results.jsonl')).length, 2);
    // A job that is not a convnet trial (an unknown field in the configuration) fails at once, untried.
    const forged = await bullq.add('trial', { ...(r.records[0] as object), v: 1 }, { jobId: 'forged', attempts: 3 });
    const failed = await waitFor('the forged job failed', async () => (await bullq.getFailed()).find((j) => j.id === forged.id));
    assert.match(failed.failedReason, /^refused a malformed trial: unknown field/);
    assert.equal(calls.length, 2);
  } finally {
    stop.abort();
    await good?.stop();
    await bullq.close();
    await redis.stop();
    rmSync(root, { recursive: true, force: true });
  }
});

test('a trial that fails the same way on every try is marked failed with its error; the sweep goes on', { skip: SKIP, timeout: 60000 }, async () => {
  const root = tempDir('failing');
  const redis = await startRedis();
  const queue = parseQueueUrl(redis.url);
  const tries: number[] = [];
  let trained = 0;
  const fake: TrialRunner = async (ctx) => {
    if (ctx.config.filters === 8) { tries.push(1); throw new Error('out of memory in conv2d (simulated)'); }
    trained++;
    return { history: { val_accuracy: [0.6] }, params: 1 };
  };
  const w = startWorker({ queue, runTrial: fake, name: 'w', log: () => {}, cacheDir: join(root, 'wc') });
  try {
    const data = await tinyData(root, 10, 16);
    const lines: string[] = [];
    const r = await runSweep({ data, out: join(root, 'out'), epochs: 1, space, strategy: 'grid', targetSize: 16 }, queueExecutor({ queue, name: 'failing', pollMs: 100, attempts: 2, signal: AbortSignal.timeout(50000) }), (l) => lines.push(l));
    assert.equal(tries.length, 2, 'tried --attempts times');
    assert.equal(r.failed.length, 1);
    assert.match(r.failed[0].error, /^out of memory in conv2d \(simulated\) \(after 2 tries\)$/);
    assert.match(lines.join('\n'), /Trial 2 failed: out of memory in conv2d/);
    assert.deepEqual(r.records.map((x) => x.config.filters), [4]);
    // Rerunning the coordinator (even into a new folder) collects what Redis holds and tries the failed trial again.
    const good = () => tries.length;
    const rerun = await runSweep({ data, out: join(root, 'out2'), epochs: 1, space, strategy: 'grid', targetSize: 16 }, queueExecutor({ queue, name: 'failing', pollMs: 100, attempts: 2, signal: AbortSignal.timeout(50000) }), () => {});
    assert.equal(good(), 4, 'the failed trial was tried again, twice');
    assert.deepEqual(rerun.records.map((x) => x.config.filters), [4], 'the finished trial came from Redis');
    assert.equal(rerun.records[0].id, r.records[0].id);
    assert.equal(rerun.failed.length, 1);
    assert.equal(trained, 1, 'the finished trial was not trained again');
  } finally {
    await w.stop();
    await redis.stop();
    rmSync(root, { recursive: true, force: true });
  }
});

test('rediss:// connects with TLS; an untrusted certificate or a TLS port spoken to in plain text: one line', { skip: SKIP, timeout: 60000 }, async (t) => {
  const root = tempDir('tls');
  const cert = join(root, 'tls.crt'), key = join(root, 'tls.key');
  const made = spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
  if (made.status !== 0) { t.skip('openssl is not available to make a test certificate'); rmSync(root, { recursive: true, force: true }); return; }
  let redis: Awaited<ReturnType<typeof startRedis>> | undefined;
  try {
    redis = await startRedis([], undefined, { cert, key });
    redis.url = `rediss://127.0.0.1:${redis.port}/0`;
    await assert.rejects(checkConnection(parseQueueUrl(redis.url)), (e: Error) => { oneLine(e.message); assert.match(e.message, /certificate is not trusted .*NODE_EXTRA_CA_CERTS/); return true; });
    await assert.rejects(checkConnection(parseQueueUrl(`redis://127.0.0.1:${redis.port}/0`)), /closed the connection; if that port speaks TLS, use rediss:\/\//);
    // A worker that trusts the CA connects over TLS, waits, and stops when idle.
    const w = spawnCli(['worker', '--queue', redis.url, '--idle-exit', '0.5', '--cache', join(root, 'c')], { NODE_EXTRA_CA_CERTS: cert });
    assert.equal(await w.exited, 0, w.output());
    assert.match(w.output(), /waiting for trials on rediss:\/\/127\.0\.0\.1:\d+\/0/);
  } finally {
    await redis?.stop();
    rmSync(root, { recursive: true, force: true });
  }
});
