/**
 * Issue 11 §2: the decoded-image file cache (used by `sweep`) returned the old pixels after an image's
 * content changed under the same name, with the same settings. Records now carry their file's size
 * and modification time, so a stale record is never read: the image is decoded again.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { utimesSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ImageDataGenerator } from '../../src/data/index.js';
import { cleanup, tempDir, writeImage } from '../data/helpers.js';

async function pixels(root: string, cache: string | false): Promise<{ x: number[]; count: number }> {
  const it = await new ImageDataGenerator().flowFromDirectory(root, { targetSize: [8, 8], batchSize: 4, shuffle: false, classMode: 'sparse', cache, verbose: false, workers: 0 });
  const count = it.cacheInfo.count;
  const b = await it.getBatch(0);
  const x = Array.from(b.x.f32());
  b.x.dispose(); b.y?.dispose();
  it.onEpochEnd();
  await it.close();
  return { x, count };
}

test('file cache: an image replaced under the same name (same settings) gives its new pixels, not the cached ones', async () => {
  const root = tempDir();
  const dir = tempDir();
  const file = join(dir, 'images.cache');
  try {
    for (let i = 0; i < 3; i++) await writeImage(join(root, 'a', `${i}.png`), 8, 8, i + 1);
    const first = await pixels(root, file);
    assert.equal(first.count, 0);
    assert.equal((await pixels(root, file)).count, 3, 'the second run reads the cache');

    // Same name, other content; the modification time moves on as it would on any edit.
    const target = join(root, 'a', '1.png');
    const before = statSync(target).mtimeMs;
    await writeImage(target, 8, 8, 40);
    utimesSync(target, new Date(before + 5000), new Date(before + 5000));

    const cold = await pixels(root, false);
    const again = await pixels(root, file);
    assert.equal(again.count, 2, 'only the changed image is left out of the cache');
    assert.deepEqual(again.x, cold.x, 'the cached run gives the new pixels');
    assert.notDeepEqual(again.x, first.x, 'the image did change');
    // And the re-decoded record is what the next run reads.
    const third = await pixels(root, file);
    assert.equal(third.count, 3);
    assert.deepEqual(third.x, cold.x);

  } finally {
    cleanup(root);
    cleanup(dir);
  }
});
