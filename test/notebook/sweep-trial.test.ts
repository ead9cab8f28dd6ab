/** The sweep's real trainer (src/notebook/trial.ts) on small generated folders. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runSweep } from '../../src/notebook/sweep.js';
import { defaultTrialRunner } from '../../src/notebook/trial.js';
import { NOTEBOOK_CONFIG, validateSpace } from '../../src/notebook/space.js';
import { inspectDataDir } from '../../src/notebook/dataset.js';
import type { TrialCheckpoint, TrialContext } from '../../src/notebook/sweep.js';
import { loadModel } from '../../src/io/models/index.js';
import { colourFolder, saveTinyMobileNet } from './sweep-helpers.js';
import { sha256File } from '../../src/sweep/base.js';

test('a sweep trial on a 3-class folder trains as categorical: softmax over 3, one-hot labels, accuracy well above chance', async () => {
  const root = mkdtempSync(join(tmpdir(), 'convnet-sweep3-'));
  try {
    const data = join(root, 'colours');
    await colourFolder(data, 15);
    const out = join(root, 'out');
    const space = validateSpace({ filters: [8], convBlocks: [2], denseUnits: [16], batchSize: [8], dropout: [0], learningRate: [0.01] });
    const r = await runSweep({ data, out, epochs: 4, space, strategy: 'grid', targetSize: 16 }, defaultTrialRunner({ cacheDir: join(root, 'cache'), verbose: 0 }), () => {});
    assert.deepEqual(r.failed, []);
    assert.equal(r.records.length, 1);
    const h = r.records[0].history;
    assert.equal(h.val_accuracy.length, 4);
    for (const v of h.loss) assert.ok(Number.isFinite(v));
    // 9 validation images; chance is 1/3.
    assert.ok(r.best!.bestValAccuracy >= 0.66, `best val_accuracy ${r.best!.bestValAccuracy}`);
    const model = await loadModel(join(out, 'best-model.keras'));
    const last = model.layers[model.layers.length - 1].getConfig();
    assert.equal(last.units, 3);
    assert.equal(last.activation, 'softmax');
    assert.equal(model.compileConfig?.loss, 'categorical_crossentropy');
    model.dispose();
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('a sweep with a base model: each trial trains a new head on the frozen base cut at a layer; bad bases are refused before anything is written', async () => {
  const root = mkdtempSync(join(tmpdir(), 'convnet-sweepbase-'));
  try {
    const data = join(root, 'colours');
    await colourFolder(data, 10, ['blue', 'red']);
    const file = join(root, 'mobilenet.keras');
    await saveTinyMobileNet(file);
    const out = join(root, 'out');
    const space = validateSpace({ learningRate: [0.05, 0.01], batchSize: [4] });
    const base = { path: file, cutAt: 'out_relu' };
    const r = await runSweep({ data, out, epochs: 2, space, strategy: 'grid', targetSize: 16, base }, defaultTrialRunner({ cacheDir: join(root, 'cache'), verbose: 0 }), () => {});
    assert.deepEqual(r.failed, []);
    assert.equal(r.records.length, 2);
    assert.deepEqual(r.records[0].settings.base, { path: file, cutAt: 'out_relu', sha256: sha256File(file), pixels: '-1..1' });
    for (const rec of r.records) assert.ok(rec.history.loss.every(Number.isFinite));
    // The best model: the base (its weights as in the file: frozen, BatchNorm statistics kept), then the head.
    const best = await loadModel(join(out, 'best-model.keras'));
    const last = best.layers[best.layers.length - 1].getConfig();
    assert.equal(last.units, 1);
    assert.equal(last.activation, 'sigmoid');
    assert.equal(best.trainableWeights.length, 2, 'only the head trains');
    const original = await loadModel(file);
    const nested = best.layers.find((l) => l.name === 'mobilenetv2_tiny_base') as unknown as { layers: { name: string; getWeights(): { dataSync(): Float32Array }[] }[] };
    assert.ok(nested, `a nested base in ${best.layers.map((l) => l.name)}`);
    let compared = 0;
    for (const l of nested.layers) {
      const w = l.getWeights();
      if (!w.length) continue;
      assert.deepEqual(w.map((t) => Array.from(t.dataSync())), original.getLayer(l.name).getWeights().map((t) => Array.from(t.dataSync())), l.name);
      compared++;
    }
    assert.ok(compared >= 10);
    best.dispose(); original.dispose();
    // Refused before anything is written: a missing layer, keys that build convnet's own CNN, another image size, a missing file.
    const refused = async (o: Partial<Parameters<typeof runSweep>[0]>, re: RegExp) => {
      const dest = join(root, `bad-${Math.random().toString(36).slice(2)}`);
      await assert.rejects(runSweep({ data, out: dest, epochs: 1, space, strategy: 'grid', targetSize: 16, base, ...o }, defaultTrialRunner({ verbose: 0 }), () => {}), re);
      assert.ok(!existsSync(dest));
    };
    await refused({ base: { path: file, cutAt: 'block_9_add' } }, /cannot cut .*mobilenet\.keras at layer "block_9_add"/);
    await refused({ space: validateSpace({ filters: [8, 16] }) }, /with --base, trials train a head on the base model: the space may vary learningRate, batchSize, dropout, optimizer, not filters/);
    await refused({ targetSize: 32 }, /the base model .* takes 16x16 images; pass --target-size 16/);
    await refused({ base: { path: join(root, 'nope.keras') } }, /--base '.*nope\.keras' does not exist/);
    await refused({ base: { path: file, pixels: '0..2' } }, /--base-pixels must be one of -1\.\.1, 0\.\.1, 0\.\.255, got '0\.\.2'/);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('a trial resumed from an epoch checkpoint computes the same numbers as an unbroken one (dropout and augmentation streams restored)', async () => {
  const root = mkdtempSync(join(tmpdir(), 'convnet-resume-'));
  try {
    const data = join(root, 'colours');
    await colourFolder(data, 12, ['blue', 'red']);
    const config = { ...NOTEBOOK_CONFIG, filters: 4, convBlocks: 2, denseUnits: 8, batchSize: 8, dropout: 0.5, augmentation: true };
    const ctx = (checkpoint: TrialCheckpoint): TrialContext => ({
      index: 0, total: 1, config, settings: { data, epochs: 4, targetSize: 16, subset: 1, seed: 7 }, data: inspectDataDir(data), log: () => {}, checkpoint,
    });
    // The unbroken run, saving a checkpoint after every epoch (kept after epoch 2).
    let saved: { epoch: number; history: Record<string, number[]>; modelPath: string; state?: unknown } | undefined;
    const recording: TrialCheckpoint = {
      load: async () => undefined,
      save: async (epoch, history, saveModel, state) => {
        if (epoch !== 2) return;
        const modelPath = join(root, 'epoch2.keras');
        await saveModel(modelPath);
        saved = { epoch, history: structuredClone(history), modelPath, state: JSON.parse(JSON.stringify(state)) };
      },
    };
    const run = defaultTrialRunner({ cacheDir: join(root, 'cache'), verbose: 0 });
    const whole = await run(ctx(recording));
    whole.dispose?.();
    assert.equal(saved?.epoch, 2);
    assert.ok((saved!.state as { rngs: unknown[] }).rngs.length >= 3, 'dropout, flip and zoom streams saved');
    // Another "worker" takes it up at epoch 2.
    const copy = join(root, 'resume.keras');
    copyFileSync(saved!.modelPath, copy);
    const resumed = await run(ctx({ load: async () => ({ ...saved!, modelPath: copy }), save: async () => {} }));
    resumed.dispose?.();
    assert.deepEqual(resumed.history, whole.history, 'bit-exact');
    // Without the streams (an older checkpoint), dropout and augmentation restart: other numbers.
    const restarted = await run(ctx({ load: async () => ({ ...saved!, modelPath: copy, state: undefined }), save: async () => {} }));
    restarted.dispose?.();
    assert.notDeepEqual(restarted.history.loss, whole.history.loss);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
