/**
 * `convnet worker`: takes trials from the queue one at a time and trains each with all of this
 * machine's threads. BullMQ holds a lock on the trial while it runs; when a worker dies, the lock
 * runs out, BullMQ's stalled-job check hands the trial to another worker, and that one resumes from
 * the last epoch checkpoint (in Redis, or in the shared `--artifacts` folder). The result is written
 * with HSETNX under the trial's id, so a trial finished twice is still recorded once.
 */
import { hostname, tmpdir } from 'node:os';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { UnrecoverableError, WaitingError, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { inspectDataDir, makeSubset, type DataDirInfo } from '../notebook/dataset.js';
import { trialRecord, TrialInterrupted, type TrialCheckpoint, type TrialRunner, type SweepRecord } from '../notebook/sweep.js';
import { bullConnection, checkConnection, redisOf, type QueueTarget } from './connection.js';
import { fingerprintData, fingerprintDifference, type DataFingerprint } from './fingerprint.js';
import { cachedSha256 } from '../sweep/base.js';
import { checkTrialJob, PREFIX, QUEUE_NAME, sweepKeys, WORKERS_KEY, type TrialJob } from './protocol.js';

export interface WorkerOptions {
  queue: QueueTarget;
  /** The data folder here (default: the path the sweep recorded). */
  data?: string;
  /** A folder shared with the coordinator for checkpoints and models (default: both go through Redis). */
  artifacts?: string;
  /** This machine's copy of a transfer-learning sweep's base model (default: the path the sweep recorded). */
  base?: string;
  /** Decoded-image caches and subsets of this worker. */
  cacheDir?: string;
  /** Shown in the live report (default host-pid). */
  name?: string;
  /** How long a dead worker's trial waits before another takes it up (BullMQ's lock and stalled check), ms. Default 30000. */
  stalledMs?: number;
  /**
   * Seconds of training between two epoch checkpoints (default 30): an epoch's checkpoint is skipped
   * when the last one is more recent, so short epochs are not slowed down by saving; 0 saves after every epoch.
   */
  checkpointSeconds?: number;
  /** Stop once the queue has stayed empty this long, ms (default: run until stopped). */
  idleExitMs?: number;
  /** Trains a trial: the real trainer by default; tests pass a stand-in. */
  runTrial?: TrialRunner;
  threads?: number;
  backend?: string;
  log?: (line: string) => void;
}

/** Why a worker stopped: 0 when asked to or idle, 1 with `error` when it refused to go on. */
export interface WorkerExit { code: number; error?: string; trials: number }

/** A refusal that stops this worker and leaves the trial for the others (the data differ here). */
class Refusal extends Error {}

const CHECKPOINT_TTL_S = 7 * 24 * 3600;

function redisCheckpoint(redis: Redis, key: string, dir: string): TrialCheckpoint {
  return {
    async load() {
      const h = await redis.hgetallBuffer(key);
      if (!h?.model || !h.epoch) return undefined;
      const modelPath = join(dir, `resume-${process.pid}.keras`);
      writeFileSync(modelPath, h.model);
      return { epoch: Number(h.epoch.toString()), history: JSON.parse(h.history.toString()), modelPath, ...(h.state ? { state: JSON.parse(h.state.toString()) } : {}) };
    },
    async save(epoch, history, saveModel, state) {
      const p = join(dir, `checkpoint-${process.pid}.keras`);
      await saveModel(p);
      await redis.multi().hset(key, { epoch: String(epoch), history: JSON.stringify(history), state: JSON.stringify(state ?? null), model: readFileSync(p) }).expire(key, CHECKPOINT_TTL_S).exec();
      rmSync(p, { force: true });
    },
  };
}

function folderCheckpoint(dir: string): TrialCheckpoint {
  const json = join(dir, 'checkpoint.json');
  return {
    async load() {
      if (!existsSync(json)) return undefined;
      const c = JSON.parse(readFileSync(json, 'utf8')) as { epoch: number; history: Record<string, number[]>; model: string; state?: unknown };
      const modelPath = join(dir, c.model);
      return existsSync(modelPath) ? { epoch: c.epoch, history: c.history, modelPath, ...(c.state ? { state: c.state } : {}) } : undefined;
    },
    async save(epoch, history, saveModel, state) {
      mkdirSync(dir, { recursive: true });
      const model = `checkpoint-${epoch}.keras`;
      await saveModel(join(dir, model));
      const tmp = `${json}.${process.pid}.tmp`;
      writeFileSync(tmp, JSON.stringify({ epoch, history, model, state: state ?? null }));
      renameSync(tmp, json);
      if (epoch > 1) rmSync(join(dir, `checkpoint-${epoch - 1}.keras`), { force: true });
    },
  };
}

/** Runs a worker until it is stopped (SIGINT/SIGTERM via `stop()`), idle long enough, or refuses. */
export function startWorker(o: WorkerOptions): { done: Promise<WorkerExit>; stop: () => Promise<void>; interrupt: () => Promise<void> } {
  const abort = new AbortController();
  const log = o.log ?? ((l: string) => console.log(l));
  const name = o.name ?? `${hostname()}-${process.pid}`;
  const cacheRoot = resolve(o.cacheDir ?? join(tmpdir(), 'convnet-worker-cache'));
  const stalledMs = o.stalledMs ?? 30000;
  let worker: Worker | undefined;
  let redis: Redis;
  let refusal: string | undefined;
  let trials = 0;
  let stopping = false;
  const checked = new Map<string, { info: DataDirInfo; fingerprint: DataFingerprint }>();
  let runTrial = o.runTrial;

  const heartbeat = (trial?: string) => redis.hset(WORKERS_KEY, name, JSON.stringify({
    host: hostname(), pid: process.pid, threads: o.threads ?? null, backend: o.backend ?? null, trial: trial ?? null, seen: Date.now(),
  })).catch(() => {});

  /** This machine's copy of the sweep's data, checked against the sweep's fingerprint. */
  function dataFor(t: TrialJob): DataDirInfo {
    const dir = resolve(o.data ?? t.settings.data);
    const key = `${dir}|${t.fingerprint.list}|${t.fingerprint.sample}`;
    let c = checked.get(key);
    if (!c) {
      let info: DataDirInfo;
      try { info = inspectDataDir(dir); } catch (e) { throw new Refusal(`convnet worker: cannot use the data of sweep '${t.sweep}': ${(e as Error).message}; give --data the folder of this data set on this machine`); }
      const fingerprint = fingerprintData(info);
      const why = fingerprintDifference(t.fingerprint, fingerprint);
      if (why) throw new Refusal(`convnet worker: the data in ${dir} differ from sweep '${t.sweep}': ${why}; give --data a copy of the sweep's data set`);
      c = { info, fingerprint };
      checked.set(key, c);
    }
    if (t.settings.subset >= 1) return c.info;
    return makeSubset(c.info, t.settings.subset, join(cacheRoot, `${c.fingerprint.list}-subset-${t.settings.subset}`), t.settings.seed);
  }

  /** The settings with this machine's path of the sweep's base model, checked against the sweep's sha256. */
  function settingsFor(t: TrialJob): TrialJob['settings'] {
    const b = t.settings.base;
    if (!b) return t.settings;
    const path = resolve(o.base ?? b.path);
    let got: string;
    try { got = cachedSha256(path); } catch (e) { throw new Refusal(`convnet worker: cannot read the base model of sweep '${t.sweep}' at ${path} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); give --base this machine's copy of it`); }
    if (got !== b.sha256) throw new Refusal(`convnet worker: the base model ${path} differs from sweep '${t.sweep}' (sha256 ${got.slice(0, 12)}... instead of ${b.sha256.slice(0, 12)}...); give --base a copy of the sweep's base model`);
    return { ...t.settings, base: { ...b, path } };
  }

  async function processTrial(job: Job, token?: string): Promise<string> {
    let t: TrialJob;
    try { t = checkTrialJob(job.data); } catch (e) { throw new UnrecoverableError((e as Error).message); }
    const keys = sweepKeys(t.sweep);
    if (await redis.hexists(keys.results, t.id)) return 'already recorded';
    let data: DataDirInfo;
    let settings: TrialJob['settings'];
    try {
      data = dataFor(t);
      settings = settingsFor(t);
    } catch (e) {
      if (!(e instanceof Refusal)) throw e;
      refusal = e.message;
      // Leave the trial untouched for the other workers (no attempt counted), and stop taking trials.
      await job.moveToWait(token);
      void worker!.close();
      throw new WaitingError();
    }
    if (!runTrial) {
      const { defaultTrialRunner } = await import('../notebook/trial.js');
      runTrial = defaultTrialRunner({ cacheDir: join(cacheRoot, t.fingerprint.list), verbose: 0, signal: abort.signal });
    }
    const workDir = join(cacheRoot, 'work');
    mkdirSync(workDir, { recursive: true });
    const artifactDir = o.artifacts ? join(resolve(o.artifacts), t.sweep, t.id) : undefined;
    const store = artifactDir ? folderCheckpoint(artifactDir) : redisCheckpoint(redis, keys.checkpoint(t.id), workDir);
    let resumedFrom: number | undefined;
    let lastSave = performance.now();
    const checkpoint: TrialCheckpoint = {
      load: async () => { const c = await store.load(); resumedFrom = c?.epoch; return c; },
      save: async (epoch, history, saveModel, state) => {
        // Not after the last epoch (the result follows at once), nor sooner than checkpointSeconds after the last one.
        if (epoch >= t.settings.epochs || performance.now() - lastSave < (o.checkpointSeconds ?? 30) * 1000) return;
        await store.save(epoch, history, saveModel, state);
        lastSave = performance.now();
      },
    };
    const startedAt = new Date().toISOString();
    const t0 = performance.now();
    await heartbeat(`${t.sweep}.${t.id}`);
    const progress = (epoch: number, logs: Record<string, number> = {}) => redis.hset(keys.progress, t.id, JSON.stringify({
      worker: name, index: t.index, rung: t.rung ?? null, epoch, epochs: t.settings.epochs, valAccuracy: logs.val_accuracy ?? null, startedAt, updatedAt: Date.now(),
    }));
    await progress(0);
    log(`${name}: trial ${t.index + 1} of sweep '${t.sweep}' (${t.id}${job.attemptsMade ? `, try ${job.attemptsMade + 1}` : ''})`);
    let outcome;
    try {
      outcome = await runTrial({
        index: t.index, total: 0, config: t.config, settings, data, log: (l) => log(`${name}: ${l}`), checkpoint,
        onEpochEnd: async (epoch, logs) => { await progress(epoch, logs); await job.updateProgress({ epoch, epochs: t.settings.epochs }); },
      });
    } catch (e) {
      if (e instanceof TrialInterrupted) {
        // Stopped here (Ctrl-C): the trial goes back to the queue and resumes from its checkpoint elsewhere.
        await job.moveToWait(token);
        void worker!.close();
        throw new WaitingError();
      }
      throw e;
    }
    try {
      const record: SweepRecord = {
        ...trialRecord({ id: t.id, index: t.index, config: t.config, settings: t.settings, final: t.final, rung: t.rung }, outcome, (performance.now() - t0) / 1000),
        worker: name, queuedAt: t.queuedAt, startedAt, attempts: job.attemptsMade + 1, ...(resumedFrom ? { resumedFrom } : {}),
      };
      // The model first (only a final trial better than any so far), then the result that points to it.
      if (t.final && outcome.saveModel) {
        const bestSeen = Number((await redis.hget(keys.meta, 'bestSeen')) ?? -Infinity);
        if (record.bestValAccuracy > bestSeen) {
          if (artifactDir) {
            mkdirSync(artifactDir, { recursive: true });
            await outcome.saveModel(join(artifactDir, 'model.keras'));
          } else {
            const p = join(workDir, `model-${process.pid}.keras`);
            await outcome.saveModel(p);
            await redis.set(keys.model(t.id), readFileSync(p), 'EX', CHECKPOINT_TTL_S);
            rmSync(p, { force: true });
          }
          await redis.hset(keys.meta, 'bestSeen', String(record.bestValAccuracy));
        }
      }
      const first = await redis.hsetnx(keys.results, t.id, JSON.stringify(record));
      await redis.multi().hdel(keys.progress, t.id).del(keys.checkpoint(t.id)).exec();
      if (artifactDir) for (const f of ['checkpoint.json', `checkpoint-${t.settings.epochs}.keras`]) rmSync(join(artifactDir, f), { force: true });
      trials++;
      log(`${name}: trial ${t.index + 1} of '${t.sweep}': val_accuracy ${record.bestValAccuracy.toFixed(4)}, ${record.seconds.toFixed(1)} s${first ? '' : ' (already recorded by another worker: kept the first)'}`);
      return first ? 'recorded' : 'duplicate';
    } finally {
      outcome.dispose?.();
      await heartbeat();
    }
  }

  let resolveDone!: (e: WorkerExit) => void;
  const done = new Promise<WorkerExit>((r) => { resolveDone = r; });
  let idleTimer: NodeJS.Timeout | undefined;
  let beat: NodeJS.Timeout | undefined;

  const stop = async () => {
    if (stopping) return;
    stopping = true;
    clearTimeout(idleTimer);
    clearInterval(beat);
    await worker?.close().catch(() => {});
    await redis?.hdel(WORKERS_KEY, name).catch(() => {});
    await redis?.quit().catch(() => {});
    resolveDone(refusal ? { code: 1, error: refusal, trials } : { code: 0, trials });
  };

  (async () => {
    await checkConnection(o.queue);
    worker = new Worker(QUEUE_NAME, (job, token) => processTrial(job, token), {
      connection: bullConnection(o.queue), prefix: PREFIX, concurrency: 1, name,
      lockDuration: stalledMs, stalledInterval: stalledMs, maxStalledCount: 2, autorun: false,
    });
    worker.on('error', (e) => log(`${name}: ${String(e.message ?? e).split('\n')[0]}`));
    worker.on('failed', (job, e) => { if (job && !(e instanceof WaitingError) && e.name !== 'WaitingError') log(`${name}: trial ${job.id} failed (try ${job.attemptsMade}): ${e.message.split('\n')[0]}`); });
    worker.on('closed', () => { void stop(); });
    // Our own connection for results, progress and checkpoints (the worker's closes with it).
    redis = (await redisOf(worker)).duplicate();
    await heartbeat();
    beat = setInterval(() => { void heartbeat(); }, 5000);
    beat.unref();
    if (o.idleExitMs !== undefined) {
      const arm = () => { clearTimeout(idleTimer); idleTimer = setTimeout(() => { void stop(); }, o.idleExitMs); };
      worker.on('active', () => clearTimeout(idleTimer));
      worker.on('drained', arm);
      arm();
    }
    log(`${name}: waiting for trials on ${o.queue.display}`);
    await worker.run();
  })().catch((e) => {
    refusal ??= String((e as Error).message ?? e);
    void stop();
  });
  /** Ctrl-C: the trial in progress stops after its current batch and goes back to the queue; then the worker stops. */
  const interrupt = async () => { abort.abort(); await stop(); };
  return { done, stop, interrupt };
}
