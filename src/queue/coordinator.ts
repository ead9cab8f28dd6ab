/**
 * The coordinator's side of a queue-backed sweep: `runSweep` plans the trials as always, and this
 * executor enqueues them (BullMQ jobs named `<sweep>.<trial id>`, so enqueuing twice is a no-op),
 * then collects what the workers record in Redis into the same results.jsonl, ranking and report
 * as a local sweep, fetching the best model's .keras from Redis or the shared `--artifacts` folder.
 */
import { copyFileSync, existsSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { ExecutorHooks, PlannedTrial, SweepExecutor, SweepRecord } from '../notebook/sweep.js';
import type { DataDirInfo } from '../notebook/dataset.js';
import { onInterrupt } from '../runtime.js';
import { bullConnection, checkConnection, connectionError, redisOf, type QueueTarget } from './connection.js';
import { fingerprintData, type DataFingerprint } from './fingerprint.js';
import { jobId, PREFIX, PROTOCOL_VERSION, QUEUE_NAME, SWEEP_NAME, sweepKeys, WORKERS_KEY, type TrialJob } from './protocol.js';

export interface QueueExecutorOptions {
  queue: QueueTarget;
  /** The sweep's name on the queue (letters, digits, - and _). */
  name: string;
  /** The coordinator's path of the folder shared with the workers (when they use --artifacts). */
  artifacts?: string;
  /** Tries of a trial that keeps failing before it is marked failed (default 3). */
  attempts?: number;
  /** How often Redis is read for results and progress, ms (default 1000). */
  pollMs?: number;
  /** Stops collecting (as Ctrl-C does): the sweep ends as interrupted, the workers go on. */
  signal?: AbortSignal;
}

/** How long a worker may stay silent before the live table leaves it out. */
const WORKER_SEEN_MS = 30000;

export function queueExecutor(o: QueueExecutorOptions): SweepExecutor {
  if (!SWEEP_NAME.test(o.name)) throw new Error(`--name '${o.name}' may hold only letters, digits, '-' and '_' (at most 64)`);
  const keys = sweepKeys(o.name);
  let queue: Queue | undefined;
  let redis: Redis;
  let fingerprint: DataFingerprint;

  const open = async () => {
    if (queue) return;
    queue = new Queue(QUEUE_NAME, { connection: bullConnection(o.queue), prefix: PREFIX });
    queue.on('error', () => {}); // reconnections are retried; a lasting outage shows in the poll loop
    redis = await redisOf(queue);
  };

  return {
    async prepare(manifest, info: DataDirInfo) {
      await checkConnection(o.queue);
      fingerprint = fingerprintData(info);
      await open();
      const want = JSON.stringify({ settings: manifest.settings, space: manifest.space, strategy: manifest.strategy, halving: manifest.halving ?? null });
      const had = await redis.hget(keys.meta, 'plan');
      if (had && had !== want) throw new Error(`the queue already holds a sweep named '${o.name}' with other settings; rerun with the same arguments to resume it, or choose another --name`);
      await redis.hset(keys.meta, { plan: want, fingerprint: JSON.stringify(fingerprint), version: String(PROTOCOL_VERSION), createdAt: new Date().toISOString() });
    },

    async run(trials: PlannedTrial[], h: ExecutorHooks) {
      await open();
      const waiting = new Map(trials.map((t) => [t.id, t]));
      let interrupted = false;
      const off = onInterrupt(() => {
        interrupted = true;
        h.log('\nCtrl-C: the coordinator stops collecting; the workers go on. Rerun the same command to collect the results.');
      });
      try {
        // Trials recorded while no coordinator was running are collected first; those that failed
        // before are tried again (as a local rerun does), the others are enqueued.
        await collect(waiting, h);
        const failedBefore = (await queue!.getFailed(0, -1)).filter((j) => j?.id && waiting.has(j.id.slice(o.name.length + 1)) && j.id.startsWith(`${o.name}.`));
        for (const j of failedBefore) await j.remove();
        const queuedAt = new Date().toISOString();
        const jobs = [...waiting.values()].map((t) => {
          const data: TrialJob = { v: PROTOCOL_VERSION, sweep: o.name, id: t.id, index: t.index, config: t.config, settings: t.settings, final: t.final, ...(t.rung !== undefined ? { rung: t.rung } : {}), fingerprint, queuedAt };
          return { name: 'trial', data, opts: { jobId: jobId(o.name, t.id), attempts: o.attempts ?? 3, removeOnComplete: true, removeOnFail: false } };
        });
        if (jobs.length) await queue!.addBulk(jobs);
        h.log(`Queued ${jobs.length} trials on ${o.queue.display} as sweep '${o.name}'; start workers with: convnet worker --queue ${o.queue.display}`);
        let lastTable = '';
        let lastError = '';
        while (waiting.size && !interrupted && !o.signal?.aborted) {
          await new Promise((r) => setTimeout(r, o.pollMs ?? 1000));
          try {
            await collect(waiting, h);
            await collectFailures(waiting, h);
            const table = await progressTable(waiting);
            const text = JSON.stringify(table);
            if (text !== lastTable && h.progress) { h.progress(table); lastTable = text; }
            if (lastError) { h.log('Redis is back.'); lastError = ''; }
          } catch (e) {
            const line = connectionError(o.queue, e).message;
            if (line !== lastError) h.log(`${line} (retrying)`);
            lastError = line;
          }
        }
        if (!interrupted && h.progress) h.progress(await progressTable(waiting));
      } finally {
        off();
      }
      return { interrupted: interrupted || !!o.signal?.aborted };
    },

    async close() {
      if (!queue) return;
      // Nothing of a finished sweep stays behind but its results (for a rerun) and its plan.
      try {
        const left = await redis.hlen(keys.progress);
        if (!left) {
          const models = await redis.keys(`${keys.meta}:model:*`);
          if (models.length) await redis.del(...models);
        }
      } catch { /* Redis gone: nothing to clean */ }
      await queue.close().catch(() => {});
      queue = undefined;
    },
  };

  /** Hands every newly recorded trial to the sweep (which writes it once). */
  async function collect(waiting: Map<string, PlannedTrial>, h: ExecutorHooks): Promise<void> {
    const ids = [...waiting.keys()];
    for (let i = 0; i < ids.length; i += 500) {
      const chunk = ids.slice(i, i + 500);
      const values = await redis.hmget(keys.results, ...chunk);
      for (const [k, v] of values.entries()) {
        if (!v) continue;
        const record = JSON.parse(v) as SweepRecord;
        waiting.delete(chunk[k]);
        await h.finished({ record, saveModel: (path) => fetchModel(record.id, path) });
      }
    }
  }

  async function collectFailures(waiting: Map<string, PlannedTrial>, h: ExecutorHooks): Promise<void> {
    const failed = await queue!.getFailed(0, -1);
    for (const j of failed) {
      const id = j?.id?.startsWith(`${o.name}.`) ? j.id.slice(o.name.length + 1) : undefined;
      const t = id ? waiting.get(id) : undefined;
      if (!t) continue;
      waiting.delete(t.id);
      h.failed(t, `${(j.failedReason ?? 'failed').split('\n')[0]} (after ${j.attemptsMade} tries)`);
    }
  }

  async function fetchModel(id: string, path: string): Promise<boolean> {
    const bytes = await redis.getBuffer(keys.model(id));
    if (bytes) {
      writeFileSync(path, bytes);
      await redis.del(keys.model(id));
      return true;
    }
    const shared = o.artifacts ? join(resolve(o.artifacts), o.name, id, 'model.keras') : undefined;
    if (shared && existsSync(shared)) { copyFileSync(shared, path); return true; }
    return false;
  }

  /** The live table: each trial in progress with its worker and epoch, and the idle workers. */
  async function progressTable(waiting: Map<string, PlannedTrial>) {
    const rows: (string | number)[][] = [];
    const progress = await redis.hgetall(keys.progress);
    const busy = new Set<string>();
    for (const [id, v] of Object.entries(progress)) {
      if (!waiting.has(id)) continue;
      const p = JSON.parse(v) as { worker: string; index: number; epoch: number; epochs: number; valAccuracy: number | null };
      busy.add(p.worker);
      rows.push([p.worker, p.index + 1, `${p.epoch}/${p.epochs}`, p.valAccuracy === null ? '' : p.valAccuracy.toFixed(4)]);
    }
    const workers = await redis.hgetall(WORKERS_KEY);
    for (const [name, v] of Object.entries(workers)) {
      const w = JSON.parse(v) as { seen: number };
      if (!busy.has(name) && Date.now() - w.seen < WORKER_SEEN_MS) rows.push([name, '', 'idle', '']);
    }
    rows.sort((a, b) => String(a[0]).localeCompare(String(b[0])));
    rows.push(['', '', `${waiting.size} trials not finished`, '']);
    return { columns: ['worker', 'trial', 'epoch', 'val acc'], rows };
  }
}
