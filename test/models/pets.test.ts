/**
 * Real photos: the notebook's model (at 64x64) trained 3 epochs on ../shared/data/pets-dev
 * (1,000 cats, 1,000 dogs; 20% kept for validation) through the data pipeline's flowFromDirectory.
 * Skips visibly when the folder is absent.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { setSeed } from '../../src/tensor/index.js';
import { ImageDataGenerator } from '../../src/data/index.js';
import { notebookModel } from './helpers.js';

const DIR = fileURLToPath(new URL('../../../shared/data/pets-dev', import.meta.url));

test('pets-dev at 64x64: 3 epochs of the notebook model reach > 60% validation accuracy', { timeout: 15 * 60_000 }, async (t) => {
  if (!existsSync(DIR)) { t.skip(`${DIR} is absent`); return; }
  setSeed(1);
  const gen = new ImageDataGenerator({ rescale: 1 / 255, validationSplit: 0.2 });
  const common = { targetSize: [64, 64] as [number, number], classMode: 'binary' as const, batchSize: 16, cache: true, verbose: false, seed: 1 };
  const train = await gen.flowFromDirectory(DIR, { ...common, subset: 'training' });
  const val = await gen.flowFromDirectory(DIR, { ...common, subset: 'validation', shuffle: false });
  try {
    const model = notebookModel(0.5, 64);
    model.compile({ optimizer: 'adam', loss: 'binary_crossentropy', metrics: ['accuracy'] });
    const t0 = performance.now();
    const h = await model.fit(train, { epochs: 3, validationData: val, verbose: 2 });
    const secs = (performance.now() - t0) / 1000;
    const acc = h.history.val_accuracy[2];
    t.diagnostic(`val_accuracy ${h.history.val_accuracy.map((a) => a.toFixed(4)).join(', ')}; ${secs.toFixed(1)} s for 3 epochs`);
    assert.ok(acc > 0.6, `val_accuracy ${acc}`);
    const p = await model.predict(val, { verbose: 0 });
    assert.deepEqual(p.shape, [val.samples, 1]);
  } finally {
    await train.close(); await val.close();
  }
});
