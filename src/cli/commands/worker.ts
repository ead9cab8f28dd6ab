/** `convnet worker`: trains the trials of queue-backed sweeps (`convnet sweep --queue`). */
import type { Command } from '../main.js';
import { parseArgs, UsageError } from '../args.js';

const HELP = `Usage: convnet worker [--queue redis://[:PASSWORD@]HOST:6379/0] [--data DIR] [--threads N]
                      [--artifacts DIR] [--cache DIR] [--name NAME] [--stalled-ms 30000]
                      [--checkpoint-s 30] [--idle-exit S] [--base MODEL]

Takes trials of 'convnet sweep --queue' sweeps from Redis, one at a time, and trains each with all of
this machine's threads. Start as many as you like, on any machines that reach the Redis server.

  --queue URL         the Redis server: redis://HOST:PORT/DB, rediss:// for TLS, 'env' for the URL in
                      $CONVNET_REDIS_URL (default when --queue is left out); the password comes from the URL
                      or $REDIS_PASSWORD
  --data DIR          this machine's copy of the sweep's data set (default: the path the sweep recorded);
                      its fingerprint (file list, sizes, a sample of the bytes) must match the sweep's,
                      or the worker refuses the trial, leaves it to the others and stops
  --base FILE         this machine's copy of a transfer-learning sweep's base model (default: the path the
                      sweep recorded); its sha256 must match the sweep's, or the worker refuses as for --data
  --threads N         threads of the kernels (default: every core)
  --artifacts DIR     a folder shared with the coordinator (the same as its --artifacts) for epoch
                      checkpoints and models; without it they go through Redis
  --cache DIR         decoded-image caches and subsets of this worker (default: $TMPDIR/convnet-worker-cache)
  --name NAME         the name shown in the live report (default: HOST-PID)
  --stalled-ms MS     how long the trial of a worker that died waits before another worker takes it up,
                      resuming from its last epoch checkpoint (default 30000; every worker should use the
                      same value, longer than one training batch takes)
  --checkpoint-s S    save an epoch checkpoint when S seconds of training have passed since the last one
                      (default 30; 0: after every epoch); short epochs are not slowed down by saving
  --idle-exit S       stop after S seconds without a trial (default: run until Ctrl-C)

A worker runs only convnet's own trials: a trial is plain JSON (a configuration of the sweep's model and
the sweep's settings), checked field by field; no code travels through the queue. Ctrl-C stops the trial
after the current batch and hands it back to the queue.
`;

export const command: Command = {
  name: 'worker',
  summary: 'train the trials of queue-backed sweeps (convnet sweep --queue)',
  help: HELP,
  async run(argv) {
    let o: Record<string, any>;
    let target;
    try {
      const p = parseArgs(argv, {
        queue: { type: 'string' }, data: { type: 'string' }, threads: { type: 'number' }, artifacts: { type: 'string' },
        cache: { type: 'string' }, name: { type: 'string' }, stalledMs: { type: 'number', default: 30000 }, idleExit: { type: 'number' }, checkpointS: { type: 'number', default: 30 },
        backend: { type: 'string' }, base: { type: 'string' },
      }, 'worker');
      o = p.options;
      if (p.positionals.length) throw new UsageError(`convnet worker: unexpected argument '${p.positionals[0]}'. Run 'convnet worker --help'.`);
      const { parseQueueUrl } = await import('../../queue/connection.js');
      if (!o.queue && !process.env.CONVNET_REDIS_URL) throw new UsageError('convnet worker: give --queue redis://HOST:6379/0 (or set CONVNET_REDIS_URL)');
      target = parseQueueUrl(o.queue ?? 'env');
      if (o.threads !== undefined && !(Number.isInteger(o.threads) && o.threads >= 1)) throw new UsageError(`convnet worker: --threads must be a positive integer, got ${o.threads}`);
      if (!(Number.isInteger(o.stalledMs) && o.stalledMs >= 500)) throw new UsageError(`convnet worker: --stalled-ms must be an integer >= 500, got ${o.stalledMs}`);
      if (!(o.checkpointS >= 0)) throw new UsageError(`convnet worker: --checkpoint-s must be a number of seconds >= 0, got ${o.checkpointS}`);
      if (o.idleExit !== undefined && !(o.idleExit > 0)) throw new UsageError(`convnet worker: --idle-exit must be a positive number of seconds, got ${o.idleExit}`);
    } catch (e) {
      const m = (e as Error).message;
      console.error(m.startsWith('convnet') ? m : `convnet worker: ${m}`);
      return 2;
    }
    if (o.backend) {
      const { setBackend } = await import('../../backend/index.js');
      try { setBackend(o.backend); } catch (e) { console.error(`convnet worker: --backend: ${(e as Error).message.replace(/^convnet: /, '')}`); return 2; }
    }
    if (o.threads) {
      const { setThreads } = await import('../../backend/index.js');
      setThreads(o.threads);
    }
    const { startWorker } = await import('../../queue/worker.js');
    const w = startWorker({
      queue: target, data: o.data, threads: o.threads, artifacts: o.artifacts, cacheDir: o.cache, name: o.name, stalledMs: o.stalledMs,
      idleExitMs: o.idleExit !== undefined ? o.idleExit * 1000 : undefined, backend: o.backend, checkpointSeconds: o.checkpointS, base: o.base,
    });
    let signals = 0;
    const onSignal = () => {
      if (++signals > 1) { console.error('\nconvnet worker: interrupted twice; exiting now (the trial is taken up by another worker)'); process.exit(130); }
      console.error('\nconvnet worker: stopping after the current batch; the trial goes back to the queue (press Ctrl-C again to quit at once)');
      void w.interrupt();
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    try {
      const r = await w.done;
      if (r.error) { console.error(r.error.startsWith('convnet') ? r.error : `convnet worker: ${r.error}`); return 1; }
      console.log(`convnet worker: stopped after ${r.trials} trial(s)`);
      return signals ? 130 : 0;
    } finally {
      process.removeListener('SIGINT', onSignal);
      process.removeListener('SIGTERM', onSignal);
    }
  },
};
