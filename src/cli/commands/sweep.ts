/** `convnet sweep`: the notebook's exercise, searching for a better network with the epochs fixed. */
import { readFileSync, existsSync } from 'node:fs';
import type { Command } from '../main.js';
import { errorLine, parseArgs, UsageError } from '../args.js';

const HELP = `Usage: convnet sweep DIR [--epochs 10] [--space space.json | --preset exercise] [--trials N]
                     [--strategy grid|random|halving|hyperband] [--out DIR] [--subset FRACTION]
                     [--target-size S] [--seed N] [--force] [--lang en|es] [--base MODEL --cut-at LAYER [--base-pixels -1..1]]
                     [--queue redis://HOST:6379/0 [--name NAME] [--artifacts DIR] [--attempts 3]]

Trains one network per configuration on the images in DIR (one sub-folder per class; 20% of each class
is the validation set, as in the notebook) and ranks them by validation accuracy.

  --epochs N          epochs of every trial (default 10, as the exercise fixes them)
  --preset NAME       'exercise' (default): filters, kernel size 3 or 5, conv blocks, dense units, learning
                      rate, batch size, plus batch normalisation, dropout, augmentation and optimizer;
                      'notebook': only the notebook's own model; 'transfer' (default with --base):
                      learning rate, batch size and dropout of a head on the base
  --space FILE        a JSON object mapping parameters to lists of values, e.g.
                      {"filters": [16, 32], "kernelSize": [3, 5], "learningRate": [0.001, 0.0003]}
                      keys: filters, kernelSize, convBlocks, denseUnits, learningRate, batchSize,
                      batchNorm, dropout, augmentation, optimizer (others keep the notebook's value)
  --strategy S        'random' (default): --trials configurations drawn with the seed;
                      'grid': every configuration in order (the first --trials of them);
                      'halving': successive halving: --trials configurations (default 27) on a small
                      budget, the best 1/eta of each rung promoted to eta times the budget, the last
                      rung on the full data at the full size (the only one ranked in results.jsonl;
                      the lower rungs go to halving.jsonl); 'hyperband': several such brackets
  --eta N             halving: keep the best 1/N of each rung (default 3)
  --min-budget F      halving: the first rung's budget, a fraction (default 1/eta^2)
  --budget B          halving: what the budget cuts: 'subset' (a fraction of the images, default) or
                      'size' (smaller images); epochs stay fixed
  --trials N          number of trials (default 10 for random, the whole grid for grid)
  --out DIR           output folder (default sweep-out); rerunning the same command resumes it
  --subset F          use a fraction F of each class (e.g. 0.25) for fast exploration
  --target-size S     images are resized to S x S: 150, 150x150 or 150,150 (square; default 150)
  --force             write into an existing folder that is not this sweep (nothing is deleted)
  --base FILE         transfer learning: a pretrained model (.keras or .h5, e.g. MobileNetV2 saved by Keras);
                      each trial freezes it, cut at --cut-at, and trains a new head (global average pooling,
                      dropout, a Dense classifier) with the trial's learningRate, batchSize, dropout and
                      optimizer (the only keys the space may vary); --target-size must be the base's input size.
                      Over a queue the workers load their own copy (their --base) and check its sha256
  --cut-at LAYER      the layer whose output are the features (MobileNetV2: out_relu; default: its output)
  --base-pixels R     the pixel range the base was trained on: -1..1 (default: MobileNet(V2), Xception,
                      InceptionV3), 0..1 (the notebook's), 0..255 (bases with their own Rescaling layer)
  --queue URL         run the trials on 'convnet worker' processes through Redis (redis://HOST:PORT/DB,
                      rediss:// for TLS, 'env' for the URL in $CONVNET_REDIS_URL; the password comes from
                      the URL or $REDIS_PASSWORD); this command plans, enqueues and collects the results
  --name NAME         the sweep's name on the queue (default: the --out folder's name)
  --artifacts DIR     a folder shared with the workers (their --artifacts) for checkpoints and models;
                      without it they go through Redis
  --backend NAME      compute backend: native, wasm or reference (default: native when built, else wasm)
  --attempts N        tries of a trial that keeps failing before it is marked failed (default 3)

Writes results.jsonl (one line per finished trial, appended atomically), best-model.keras, best.json
and index.html (ranking and a chart of validation accuracy against each parameter).
`;

export const command: Command = {
  name: 'sweep',
  summary: 'search network configurations (the notebook\'s exercise) and rank them',
  help: HELP,
  async run(argv) {
    const { validateSpace, PRESETS } = await import('../../notebook/space.js');
    let o: Record<string, any>, dir: string, space;
    try {
      const p = parseArgs(argv, {
        epochs: { type: 'number', default: 10 }, space: { type: 'string' }, preset: { type: 'string' }, trials: { type: 'number' },
        strategy: { type: 'string', default: 'random' }, out: { type: 'string', default: 'sweep-out' }, subset: { type: 'number', default: 1 },
        targetSize: { type: 'number', default: 150 }, seed: { type: 'number', default: 42 }, force: { type: 'boolean' }, lang: { type: 'string', default: 'en' },
        queue: { type: 'string' }, name: { type: 'string' }, artifacts: { type: 'string' }, attempts: { type: 'number', default: 3 },
        eta: { type: 'number' }, minBudget: { type: 'number' }, budget: { type: 'string' }, backend: { type: 'string' },
        base: { type: 'string' }, cutAt: { type: 'string' }, basePixels: { type: 'string' },
      }, 'sweep');
      o = p.options;
      if (p.positionals.length !== 1) throw new UsageError(`convnet sweep: give one data folder (got ${p.positionals.length}). Run 'convnet sweep --help'.`);
      dir = p.positionals[0];
      if ((o.cutAt !== undefined || o.basePixels !== undefined) && !o.base) throw new UsageError(`convnet sweep: ${o.cutAt !== undefined ? '--cut-at' : '--base-pixels'} needs --base (the model file)`);
      if (o.space && o.preset) throw new UsageError('convnet sweep: give --space or --preset, not both');
      if (o.space) {
        if (!existsSync(o.space)) throw new UsageError(`convnet sweep: space file '${o.space}' does not exist`);
        let json: unknown;
        try { json = JSON.parse(readFileSync(o.space, 'utf8')); } catch (e) { throw new UsageError(`convnet sweep: ${o.space} is not valid JSON: ${(e as Error).message}`); }
        space = validateSpace(json, o.space);
      } else {
        const name = o.preset ?? (o.base ? 'transfer' : 'exercise');
        if (!PRESETS[name]) throw new UsageError(`convnet sweep: unknown preset '${name}' (known: ${Object.keys(PRESETS).join(', ')})`);
        space = PRESETS[name];
      }
      if (o.lang !== 'en' && o.lang !== 'es') throw new UsageError(`convnet sweep: --lang must be 'en' or 'es'`);
      const { useBackendOption } = await import('../../backend/index.js');
      useBackendOption(o.backend, 'sweep');
    } catch (e) {
      console.error(errorLine('sweep', e));
      return 2;
    }
    let executor;
    if (o.queue) {
      try {
        const { parseQueueUrl } = await import('../../queue/connection.js');
        const { queueExecutor } = await import('../../queue/coordinator.js');
        const { basename, resolve } = await import('node:path');
        if (!(Number.isInteger(o.attempts) && o.attempts >= 1)) throw new Error(`--attempts must be a positive integer, got ${o.attempts}`);
        executor = queueExecutor({ queue: parseQueueUrl(o.queue), name: o.name ?? basename(resolve(o.out)).replace(/[^A-Za-z0-9_-]/g, '_'), artifacts: o.artifacts, attempts: o.attempts });
      } catch (e) {
        console.error(errorLine('sweep', e));
        return 2;
      }
    }
    const { runSweep } = await import('../../notebook/sweep.js');
    const { defaultTrialRunner } = await import('../../notebook/trial.js');
    const { join } = await import('node:path');
    // Ctrl-C stops training after the current batch; a second one ends the process.
    const stop = new AbortController();
    const { RunLog } = await import('../../report/run-log.js');
    const onSigint = () => {
      if (stop.signal.aborted) {
        // run.json must not stay 'running' (issue 11 §3); results.jsonl keeps the finished trials for a resume.
        try { RunLog.markInterrupted(o.out, 'stopped by a second Ctrl-C; rerun the same command to resume'); } catch { /* exit anyway */ }
        console.error('\nconvnet: interrupted twice; exiting now');
        process.exit(130);
      }
      console.error('\nconvnet: Ctrl-C: stopping after the current batch (press Ctrl-C again to quit at once)');
      stop.abort();
    };
    process.on('SIGINT', onSigint);
    try {
      const r = await runSweep({
        data: dir, out: o.out, epochs: o.epochs, space, strategy: o.strategy, trials: o.trials ?? (o.strategy === 'random' ? 10 : undefined),
        subset: o.subset, targetSize: o.targetSize, seed: o.seed, force: o.force, lang: o.lang, eta: o.eta, minBudget: o.minBudget, budget: o.budget,
        base: o.base ? { path: o.base, cutAt: o.cutAt, pixels: o.basePixels } : undefined,
      }, executor ?? defaultTrialRunner({ cacheDir: join(o.out, 'cache'), signal: stop.signal }));
      return r.interrupted ? 130 : r.failed.length ? 1 : 0;
    } catch (e) {
      console.error(errorLine('sweep', e));
      return 1;
    } finally {
      process.removeListener('SIGINT', onSigint);
    }
  },
};
