/** The sweep's real trainer (src/notebook/trial.ts) on small generated folders. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { runSweep } from '../../src/notebook/sweep.js';
import { defaultTrialRunner } from '../../src/notebook/trial.js';
import { validateSpace } from '../../src/notebook/space.js';
import { loadModel } from '../../src/io/models/index.js';
import { Rng } from '../../src/tensor/random.js';

/** A coloured square on a noisy grey background, one class per colour. */
export async function colourFolder(dir: string, perClass: number, names = ['blue', 'green', 'red'], s = 16): Promise<void> {
  const colours: Record<string, [number, number, number]> = { blue: [30, 40, 220], green: [30, 200, 40], red: [220, 30, 30] };
  const r = new Rng(3);
  for (const name of names) {
    const c = colours[name];
    mkdirSync(join(dir, name), { recursive: true });
    for (let i = 0; i < perClass; i++) {
      const px = new Uint8Array(s * s * 3);
      const x0 = r.int(s / 2), y0 = r.int(s / 2);
      for (let y = 0; y < s; y++) for (let x = 0; x < s; x++) {
        const inside = x >= x0 && x < x0 + s / 2 && y >= y0 && y < y0 + s / 2;
        for (let k = 0; k < 3; k++) px[(y * s + x) * 3 + k] = Math.max(0, Math.min(255, (inside ? c[k] : 128) + Math.round(10 * r.normal())));
      }
      writeFileSync(join(dir, name, `${name}.${i}.png`), await sharp(Buffer.from(px), { raw: { width: s, height: s, channels: 3 } }).png().toBuffer());
    }
  }
}

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
