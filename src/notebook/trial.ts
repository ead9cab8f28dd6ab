/** The sweep's real trainer: one configuration, trained with the data pipeline for the sweep's epochs. */
import { join } from 'node:path';
import { mkdirSync } from 'node:fs';
import { ImageDataGenerator } from '../data/index.js';
import { setSeed } from '../tensor/random.js';
import { classModeFor, compiledModelFromConfig, optimizerFromConfig } from './model.js';
import { cachedSha256, pixelScaling } from '../sweep/base.js';
import { restoreRngStates, saveRngStates, type RngStates } from '../sweep/rng-state.js';
import type { Model } from '../models/index.js';
import { TrialInterrupted, type TrialContext, type TrialRunner } from './sweep.js';

export interface TrialRunnerOptions {
  /** Folder for the decoded-image caches shared by all trials (the files are decoded once per target size). */
  cacheDir?: string;
  /** Keras's verbose for fit: 'auto' (bar on a terminal, a line per epoch otherwise), 0, 1 or 2. */
  verbose?: 0 | 1 | 2 | 'auto';
  /** Stops the trial's training after the current batch when it aborts (the CLI aborts it on Ctrl-C). */
  signal?: AbortSignal;
}

/** Trains each trial from the same seed, so a configuration's result does not depend on its place in the plan. */
export function defaultTrialRunner(opts: TrialRunnerOptions = {}): TrialRunner {
  return async (ctx) => {
    const { config, settings } = ctx;
    setSeed(settings.seed);
    const size = settings.targetSize;
    // Two classes train as binary (one sigmoid), three or more as categorical (softmax, one-hot labels), as the notebook does.
    const numClasses = ctx.data.classes.length;
    // A base model gets the pixel range it was trained on (MobileNetV2: -1..1); convnet's own CNN 0..1.
    const gen = new ImageDataGenerator({ ...(settings.base ? pixelScaling(settings.base.pixels) : { rescale: 1 / 255 }), validationSplit: 0.2 });
    if (opts.cacheDir) mkdirSync(opts.cacheDir, { recursive: true });
    const flow = (subset: 'training' | 'validation') => gen.flowFromDirectory(ctx.data.dir, {
      targetSize: [size, size], batchSize: config.batchSize, classMode: classModeFor(numClasses), seed: settings.seed, shuffle: true, subset,
      // One cache per (split, size, data fraction): successive halving's rungs each keep theirs.
      cache: opts.cacheDir ? join(opts.cacheDir, `${subset}-${size}${settings.subset < 1 ? `-f${settings.subset}` : ''}.cache`) : false, log: ctx.log, verbose: ctx.index === 0,
    });
    const train = await flow('training');
    const val = await flow('validation');
    try {
      // A trial taken over from a worker that died resumes from its last epoch checkpoint: the
      // weights and optimizer state of that epoch, the layers' random streams (dropout, augmentation)
      // where they were, the shuffle order moved on to the next epoch: the same numbers as an unbroken run.
      const resume = await ctx.checkpoint?.load();
      let model: Model;
      if (resume) {
        const { loadModel } = await import('../io/models/index.js');
        model = await loadModel(resume.modelPath, { warn: ctx.log });
        // The file holds the learning rate as float32; the trial's own number keeps the updates those of an unbroken run.
        if (model.optimizer) model.optimizer.learningRate = config.learningRate;
        const rngs = (resume.state as { rngs?: RngStates } | undefined)?.rngs;
        if (rngs) restoreRngStates(model, rngs);
        else ctx.log('The checkpoint holds no random streams: dropout and augmentation restart theirs');
        // The shuffle order of an epoch follows from the draws of the one before (Keras reseeds per
        // batch): hand out the finished epochs' batches again, untrained (decoded once, then cached).
        for (let e = 0; e < resume.epoch; e++) {
          for (let b = 0; b < train.length; b++) { const batch = await train.getBatch(b); batch.x.dispose(); batch.y?.dispose(); }
          train.onEpochEnd();
        }
        ctx.log(`Resuming from the checkpoint after epoch ${resume.epoch} of ${settings.epochs}`);
      } else if (settings.base) {
        model = await headOnBase(settings.base, config, numClasses);
      } else {
        model = compiledModelFromConfig(config, size, settings.seed, numClasses);
      }
      const history: Record<string, number[]> = resume ? structuredClone(resume.history) : {};
      const perEpoch = ctx.checkpoint || ctx.onEpochEnd ? [{
        onEpochEnd: async (epoch: number, logs: Record<string, number>) => {
          for (const [k, v] of Object.entries(logs)) (history[k] ??= []).push(v);
          await ctx.checkpoint?.save(epoch + 1, history, (path) => model.save(path), { rngs: saveRngStates(model) });
          await ctx.onEpochEnd?.(epoch + 1, logs);
        },
      }] : [];
      const start = resume?.epoch ?? 0;
      const h = start < settings.epochs
        ? await model.fit(train, { epochs: settings.epochs, initialEpoch: start, validationData: val, verbose: opts.verbose ?? 'auto', callbacks: perEpoch, signal: opts.signal })
        : undefined;
      if (model.interrupted) { model.dispose(); throw new TrialInterrupted(); }
      return {
        history: resume || !h ? history : h.history,
        params: model.countParams(),
        saveModel: (path) => model.save(path),
        dispose: () => model.dispose(),
      };
    } finally {
      await train.close();
      await val.close();
    }
  };
}

/**
 * Transfer learning: the base cut at its layer and frozen, a new head (global average pooling, the
 * trial's dropout, a Dense classifier), compiled with the trial's optimizer and learning rate. Only
 * the head trains: the exercise compares configurations at a fixed number of epochs, and fine-tuning
 * the base is a second step on the best model (README: transfer learning).
 */
async function headOnBase(base: NonNullable<TrialContext['settings']['base']>, config: TrialContext['config'], numClasses: number): Promise<Model> {
  const got = cachedSha256(base.path);
  if (got !== base.sha256) throw new Error(`the base model ${base.path} changed since the sweep was planned (sha256 ${got.slice(0, 12)}... instead of ${base.sha256.slice(0, 12)}...)`);
  const { transferModel } = await import('../models/transfer.js');
  const { model } = await transferModel({ base: base.path, cutAt: base.cutAt, numClasses, dropout: config.dropout });
  model.compile({ optimizer: optimizerFromConfig(config), loss: classModeFor(numClasses) === 'binary' ? 'binary_crossentropy' : 'categorical_crossentropy', metrics: ['accuracy'] });
  return model;
}
