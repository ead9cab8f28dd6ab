/** Over the real photos in ../shared/data/pets-dev (skipped, visibly, where that folder is absent). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { ImageDataGenerator, decodeImage } from '../../src/data/index.js';
import { FIXTURES, collector } from './helpers.js';

const PETS = new URL('../../../shared/data/pets-dev', import.meta.url).pathname;
const want = JSON.parse(readFileSync(join(FIXTURES, 'pets.json'), 'utf8'));

test("pets-dev: the notebook's call gives Keras's subsets, first batch and message", async (t) => {
  if (!existsSync(PETS)) { t.skip(`../shared/data/pets-dev is absent (${PETS})`); return; }
  const datagen = new ImageDataGenerator({ rescale: 1 / 255, validation_split: 0.2 });
  for (const subset of ['training', 'validation'] as const) {
    const out = collector();
    const it = await datagen.flowFromDirectory(PETS, { targetSize: [150, 150], batchSize: 128, classMode: 'binary', seed: 42, shuffle: true, subset, log: out.log });
    assert.equal(it.samples, want[subset].samples);
    assert.equal(out.lines.at(-1), `Found ${want[subset].samples} images belonging to 2 classes.`);
    assert.deepEqual(it.classIndices, { Cat: 0, Dog: 1 });
    const b = await it.getBatch(0);
    assert.deepEqual(Array.from(it.lastBatch!.indices, (j) => it.filenames[j]), want[subset].first_batch);
    assert.deepEqual(b.x.shape, [128, 150, 150, 3]);
    assert.deepEqual(Array.from(b.y!.f32()), want[subset].first_batch.map((f: string) => (f.startsWith('Dog/') ? 1 : 0)));
    const x = b.x.f32();
    assert.ok(x.every((v) => v >= 0 && v <= 1));
    b.x.dispose(); b.y?.dispose();
    await it.close();
  }
});

test("pets-dev: decoded pixels are Pillow's load_img(target_size=(150, 150)) bit for bit", async (t) => {
  if (!existsSync(PETS)) { t.skip(`../shared/data/pets-dev is absent (${PETS})`); return; }
  for (const [f, sha] of Object.entries(want.pil_nearest_150_sha256 as Record<string, string>)) {
    const d = await decodeImage(join(PETS, f), { targetSize: [150, 150], colorMode: 'rgb', interpolation: 'nearest', keepAspectRatio: false, maxPixels: 1e8 });
    assert.equal(createHash('sha256').update(d.data).digest('hex'), sha, f);
  }
});
