/** `convnet sweep`: the notebook's exercise, searching for a better network with the epochs fixed. */
import { readFileSync, existsSync } from 'node:fs';
import type { Command } from '../main.js';
import { errorLine, parseArgs, UsageError } from '../args.js';

const HELP = `Usage: convnet sweep DIR [--epochs 10] [--space space.json | --preset exercise] [--trials N]
                     [--strategy grid|random] [--out DIR] [--subset FRACTION] [--target-size N]
                     [--seed N] [--force] [--lang en|es]

Trains one network per configuration on the images in DIR (one sub-folder per class; 20% of each class
is the validation set, as in the notebook) and ranks them by validation accuracy.

  --epochs N          epochs of every trial (default 10, as the exercise fixes them)
  --preset NAME       'exercise' (default): filters, kernel size 3 or 5, conv blocks, dense units, learning
                      rate, batch size, plus batch normalisation, dropout, augmentation and optimizer;
                      'notebook': only the notebook's own model
  --space FILE        a JSON object mapping parameters to lists of values, e.g.
                      {"filters": [16, 32], "kernelSize": [3, 5], "learningRate": [0.001, 0.0003]}
                      keys: filters, kernelSize, convBlocks, denseUnits, learningRate, batchSize,
                      batchNorm, dropout, augmentation, optimizer (others keep the notebook's value)
  --strategy S        'random' (default): --trials configurations drawn with the seed;
                      'grid': every configuration in order (the first --trials of them)
  --trials N          number of trials (default 10 for random, the whole grid for grid)
  --out DIR           output folder (default sweep-out); rerunning the same command resumes it
  --subset F          use a fraction F of each class (e.g. 0.25) for fast exploration
  --target-size N     images are resized to N x N (default 150)
  --force             write into an existing folder that is not this sweep (nothing is deleted)

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
      }, 'sweep');
      o = p.options;
      if (p.positionals.length !== 1) throw new UsageError(`convnet sweep: give one data folder (got ${p.positionals.length}). Run 'convnet sweep --help'.`);
      dir = p.positionals[0];
      if (o.space && o.preset) throw new UsageError('convnet sweep: give --space or --preset, not both');
      if (o.space) {
        if (!existsSync(o.space)) throw new UsageError(`convnet sweep: space file '${o.space}' does not exist`);
        let json: unknown;
        try { json = JSON.parse(readFileSync(o.space, 'utf8')); } catch (e) { throw new UsageError(`convnet sweep: ${o.space} is not valid JSON: ${(e as Error).message}`); }
        space = validateSpace(json, o.space);
      } else {
        const name = o.preset ?? 'exercise';
        if (!PRESETS[name]) throw new UsageError(`convnet sweep: unknown preset '${name}' (known: ${Object.keys(PRESETS).join(', ')})`);
        space = PRESETS[name];
      }
      if (o.lang !== 'en' && o.lang !== 'es') throw new UsageError(`convnet sweep: --lang must be 'en' or 'es'`);
    } catch (e) {
      console.error(errorLine('sweep', e));
      return 2;
    }
    const { runSweep } = await import('../../notebook/sweep.js');
    const { defaultTrialRunner } = await import('../../notebook/trial.js');
    const { join } = await import('node:path');
    // Ctrl-C stops training after the current batch; a second one ends the process.
    const stop = new AbortController();
    const onSigint = () => {
      if (stop.signal.aborted) { console.error('\nconvnet: interrupted twice; exiting now'); process.exit(130); }
      console.error('\nconvnet: Ctrl-C: stopping after the current batch (press Ctrl-C again to quit at once)');
      stop.abort();
    };
    process.on('SIGINT', onSigint);
    try {
      const r = await runSweep({
        data: dir, out: o.out, epochs: o.epochs, space, strategy: o.strategy, trials: o.trials ?? (o.strategy === 'random' ? 10 : undefined),
        subset: o.subset, targetSize: o.targetSize, seed: o.seed, force: o.force, lang: o.lang,
      }, defaultTrialRunner({ cacheDir: join(o.out, 'cache'), signal: stop.signal }));
      return r.interrupted ? 130 : r.failed.length ? 1 : 0;
    } catch (e) {
      console.error(errorLine('sweep', e));
      return 1;
    } finally {
      process.removeListener('SIGINT', onSigint);
    }
  },
};
