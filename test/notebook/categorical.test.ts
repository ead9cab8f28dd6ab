import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { runNotebook } from '../../src/notebook/runner.js';
import { notebookSteps, decide, gridFor } from '../../src/notebook/steps.js';
import { readModelData } from '../../src/io/models/index.js';
import { Rng } from '../../src/tensor/random.js';
import type { RunManifest, Section } from '../../src/report/types.js';

/** Three classes a small CNN tells apart at once: a red, a green or a blue square on a noisy grey background. */
async function threeClassFolder(dir: string, perClass: number): Promise<void> {
  const colours: Record<string, [number, number, number]> = { blue: [30, 40, 220], green: [30, 200, 40], red: [220, 30, 30] };
  const r = new Rng(3);
  for (const [name, c] of Object.entries(colours)) {
    mkdirSync(join(dir, name), { recursive: true });
    for (let i = 0; i < perClass; i++) {
      const s = 32, px = new Uint8Array(s * s * 3);
      const x0 = r.int(16), y0 = r.int(16);
      for (let y = 0; y < s; y++) for (let x = 0; x < s; x++) {
        const inside = x >= x0 && x < x0 + 16 && y >= y0 && y < y0 + 16;
        for (let k = 0; k < 3; k++) px[(y * s + x) * 3 + k] = Math.max(0, Math.min(255, (inside ? c[k] : 128) + Math.round(10 * r.normal())));
      }
      writeFileSync(join(dir, name, `${name}.${i}.png`), await sharp(Buffer.from(px), { raw: { width: s, height: s, channels: 3 } }).png().toBuffer());
    }
  }
}

test('decide: binary thresholds at 0.5; categorical takes the argmax and its probability', () => {
  assert.deepEqual(decide([0.2, 0.9], 1, 2, 'binary'), { cls: 1, prob: 0.9, sure: 0.4 });
  assert.deepEqual(decide([0.2], 0, 2, 'binary'), { cls: 0, prob: 0.2, sure: Math.abs(0.2 - 0.5) });
  const d = decide([0.1, 0.2, 0.7, 0.5, 0.3, 0.2], 1, 3, 'categorical');
  assert.equal(d.cls, 0); assert.equal(d.prob, 0.5);
});

test('gridFor: the canvas fits the number of images (one image, one panel)', () => {
  assert.deepEqual(gridFor(1), { rows: 1, cols: 1, figsize: [3, 3.3] });
  assert.deepEqual(gridFor(3), { rows: 1, cols: 3, figsize: [9, 3.3] });
  assert.deepEqual(gridFor(8), { rows: 2, cols: 4, figsize: [12, 6.6] });
});

test('a data folder with 3 classes trains as categorical: softmax over 3, one-hot labels, class names everywhere', async () => {
  const root = mkdtempSync(join(tmpdir(), 'convnet-nb3-'));
  try {
    const data = join(root, 'colours');
    await threeClassFolder(data, 20);
    const out = join(root, 'out');
    const printed: string[] = [];
    const r = await runNotebook({ out, data, targetSize: 16, epochs: 6, batchSize: 8 }, notebookSteps(), (l) => printed.push(l));
    const text = printed.join('\n');
    assert.match(text, /Found 48 images belonging to 3 classes\.\nFound 12 images belonging to 3 classes\./);
    assert.match(text, /3 classes: one-hot labels \(class_mode='categorical'\), a Dense\(3, softmax\) output and categorical cross-entropy/);
    const model = r.state.model!;
    const last = model.layers[model.layers.length - 1].getConfig();
    assert.equal(last.units, 3);
    assert.equal(last.activation, 'softmax');
    assert.equal(model.compileConfig?.loss, 'categorical_crossentropy');
    // Each prediction line names the predicted and the true class.
    const lines = text.split('\n').filter((l) => l.includes('Prediction:'));
    assert.equal(lines.length, 8);
    for (const l of lines) assert.match(l, /Prediction: [01]\.\d\d -> (red|green|blue)  \(true: (red|green|blue)\)/);
    // Trained for real: far above chance (1/3) on the held-out images.
    assert.ok(r.state.valAccuracy! >= 0.75, `validation accuracy ${r.state.valAccuracy}`);
    const m = JSON.parse(readFileSync(join(out, 'run.json'), 'utf8')) as RunManifest;
    const conf = m.sections.find((s) => s.type === 'confusion') as Extract<Section, { type: 'confusion' }>;
    assert.deepEqual(conf.labels, ['blue', 'green', 'red']);
    assert.equal(conf.matrix.length, 3);
    assert.equal(conf.matrix.flat().reduce((a, b) => a + b, 0), 12);
    const table = m.sections.find((s) => s.type === 'table') as Extract<Section, { type: 'table' }> | undefined;
    if (table) for (const row of table.rows) { assert.match(String(row[1]), /^(red|green|blue)$/); assert.match(String(row[2]), /^(red|green|blue)$/); assert.notEqual(row[1], row[2]); }
    // The saved model keeps the class names for `convnet predict`.
    const saved = await readModelData(join(out, 'cnn-dogs-cats.keras'));
    assert.deepEqual(saved.classNames, ['blue', 'green', 'red']);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
