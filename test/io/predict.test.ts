// loadImg / imgToArray (Keras's load_img / img_to_array) and `convnet predict`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { loadImg, imgToArray } from '../../src/io/load_img.js';
import { ImageReadError } from '../../src/io/image.js';
import { ImageDataGenerator } from '../../src/data/index.js';
import { Sequential } from '../../src/models/index.js';
import { layers } from '../../src/layers/index.js';
import { tensor } from '../../src/tensor/index.js';
import { command as predict, parseTargetSize, parseRescale, interpret } from '../../src/cli/commands/predict.js';
import { captured } from '../cli/capture.js';

async function png(path: string, w: number, h: number, f: (x: number, y: number) => [number, number, number]): Promise<void> {
  const px = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) px.set(f(x, y), (y * w + x) * 3);
  writeFileSync(path, await sharp(Buffer.from(px), { raw: { width: w, height: h, channels: 3 } }).png().toBuffer());
}

/** Runs the command, capturing what it prints. */
const run = (argv: string[]) => captured(() => predict.run(argv));

/** A model that reads colour: the mean of each channel, then a softmax that picks the strongest. */
function colourModel(): Sequential {
  const m = new Sequential();
  m.add(new layers.GlobalAveragePooling2D({ inputShape: [8, 8, 3] }));
  m.add(new layers.Dense(3, { activation: 'softmax' }));
  m.build([null, 8, 8, 3]);
  m.layers[1].setWeights([tensor(new Float32Array([4, 0, 0, 0, 4, 0, 0, 0, 4]), [3, 3]), tensor(new Float32Array(3), [3])]);
  return m;
}

test('loadImg + imgToArray give the pixels flowFromDirectory gives (same decoder, 0..255 float32)', async () => {
  const root = mkdtempSync(join(tmpdir(), 'convnet-loadimg-'));
  try {
    mkdirSync(join(root, 'a')); mkdirSync(join(root, 'b'));
    await png(join(root, 'a', 'x.png'), 37, 23, (x, y) => [x * 6, y * 11, (x * y) % 256]);
    await png(join(root, 'b', 'y.png'), 5, 5, () => [1, 2, 3]);
    const img = await loadImg(join(root, 'a', 'x.png'), { targetSize: [10, 14] });
    assert.deepEqual([img.height, img.width, img.channels, img.colorMode], [10, 14, 3, 'rgb']);
    const x = imgToArray(img);
    assert.deepEqual(x.shape, [10, 14, 3]);
    const it = await new ImageDataGenerator().flowFromDirectory(root, { targetSize: [10, 14], batchSize: 2, shuffle: false, verbose: false });
    const batch = await it.getBatch(0);
    assert.deepEqual(Array.from(x.dataSync()), Array.from(batch.x.sliceBatch(0, 1).dataSync()));
    await it.close();
    // Its own size without targetSize; grayscale gives one channel; a single number is a square.
    assert.deepEqual([(await loadImg(join(root, 'a', 'x.png'))).height, (await loadImg(join(root, 'a', 'x.png'))).width], [23, 37]);
    assert.deepEqual(imgToArray(await loadImg(join(root, 'a', 'x.png'), { colorMode: 'grayscale', targetSize: 8 })).shape, [8, 8, 1]);
    assert.deepEqual(imgToArray(await loadImg(join(root, 'a', 'x.png'), { targetSize: [6, 6], interpolation: 'bilinear' })).shape, [6, 6, 3]);
    // Bad input: errors name the file or the option.
    await assert.rejects(loadImg(join(root, 'nothere.jpg')), (e: Error) => e instanceof ImageReadError && /nothere\.jpg': no such file/.test(e.message));
    writeFileSync(join(root, 'notes.jpg'), 'not an image');
    await assert.rejects(loadImg(join(root, 'notes.jpg')), /cannot read image '.*notes\.jpg': not an image file/);
    await assert.rejects(loadImg(root), /cannot read image '.*': it is a directory/);
    await assert.rejects(loadImg(join(root, 'a', 'x.png'), { targetSize: [0, 3] }), /targetSize must be/);
    await assert.rejects(loadImg(join(root, 'a', 'x.png'), { target_size: 3 } as never), /unknown option 'target_size'/);
    await assert.rejects(loadImg(join(root, 'a', 'x.png'), { interpolation: 'cubic' as never }), /unknown interpolation 'cubic'/);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('predict helpers: --target-size forms, --rescale fractions, reading sigmoid and softmax outputs', () => {
  assert.deepEqual(parseTargetSize('150'), [150, 150]);
  assert.deepEqual(parseTargetSize('150x120'), [150, 120]);
  assert.deepEqual(parseTargetSize('150,120'), [150, 120]);
  assert.throws(() => parseTargetSize('150x'), /--target-size takes a size such as 150, 150x150/);
  assert.equal(parseRescale('1/255'), 1 / 255);
  assert.equal(parseRescale('1'), 1);
  assert.throws(() => parseRescale('abc'), /--rescale takes/);
  assert.deepEqual(interpret([0.8]), { index: 1, probability: 0.8 });
  assert.deepEqual(interpret([0.25]), { index: 0, probability: 0.75 });
  assert.deepEqual(interpret([0.1, 0.7, 0.2]), { index: 1, probability: 0.7 });
});

test('convnet predict: each file with its class name (from the model file, --classes or --data), --json, bad files named', async () => {
  const root = mkdtempSync(join(tmpdir(), 'convnet-predict-'));
  try {
    const model = colourModel();
    const path = join(root, 'colours.keras');
    await model.save(path, { classNames: ['red', 'green', 'blue'] });
    await png(join(root, 'r.png'), 20, 16, () => [230, 20, 10]);
    await png(join(root, 'g.png'), 8, 8, () => [10, 200, 30]);
    await png(join(root, 'b.png'), 30, 30, (x) => [0, x, 250]);

    let r = await run([path, join(root, 'r.png'), join(root, 'g.png'), join(root, 'b.png')]);
    assert.equal(r.code, 0, r.err);
    const lines = r.out.split('\n');
    assert.match(lines[0], /r\.png +red \(0\.\d{4}\)$/);
    assert.match(lines[1], /g\.png +green \(/);
    assert.match(lines[2], /b\.png +blue \(/);

    // The same numbers as loadImg + imgToArray / 255 + model.predict.
    r = await run([path, join(root, 'b.png'), '--json']);
    assert.equal(r.code, 0, r.err);
    const [j] = JSON.parse(r.out);
    const x = imgToArray(await loadImg(join(root, 'b.png'), { targetSize: [8, 8] }));
    const want = Array.from((await model.predict(tensor(Float32Array.from(x.dataSync(), (v) => v / 255), [1, 8, 8, 3]), { verbose: 0 })).dataSync());
    assert.equal(j.class, 'blue'); assert.equal(j.index, 2);
    j.output.forEach((v: number, i: number) => assert.ok(Math.abs(v - want[i]) < 1e-6));
    assert.ok(Math.abs(j.probability - want[2]) < 1e-6);

    // --classes wins over the file; a wrong count is a usage error naming both counts.
    r = await run([path, join(root, 'g.png'), '--classes', 'R,G,B']);
    assert.match(r.out, /g\.png +G \(/);
    r = await run([path, join(root, 'g.png'), '--classes', 'cat,dog']);
    assert.equal(r.code, 2);
    assert.match(r.err, /--classes gives 2 class names \(cat, dog\), the model has 3 classes/);
    // --data: the sorted sub-folders, as flowFromDirectory sorts them.
    for (const c of ['b_blue', 'a_red', 'c_green']) mkdirSync(join(root, 'data', c), { recursive: true });
    for (const c of ['b_blue', 'a_red', 'c_green']) await png(join(root, 'data', c, '1.png'), 4, 4, () => [0, 0, 0]);
    r = await run([path, join(root, 'r.png'), '--data', join(root, 'data')]);
    assert.match(r.out, /r\.png +a_red \(/);

    // A bad file is named, the others are still predicted, and the exit code says something failed.
    writeFileSync(join(root, 'broken.jpg'), 'no');
    r = await run([path, join(root, 'broken.jpg'), join(root, 'r.png'), join(root, 'gone.png')]);
    assert.equal(r.code, 1);
    assert.match(r.err, /cannot read image '.*broken\.jpg': not an image file/);
    assert.match(r.err, /cannot read image '.*gone\.png': no such file/);
    assert.match(r.out, /r\.png +red/);
    // Usage errors exit 2.
    assert.equal((await run([path])).code, 2);
    assert.equal((await run([path, join(root, 'r.png'), '--target-size', 'big'])).code, 2);

    // Without stored names, the classes print as their index.
    const bare = join(root, 'bare.keras');
    await model.save(bare);
    r = await run([bare, join(root, 'r.png')]);
    assert.match(r.out, /r\.png +0 \(/);
    model.dispose();
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('convnet predict on a binary (sigmoid) model: above 0.5 is class 1', async () => {
  const root = mkdtempSync(join(tmpdir(), 'convnet-predict-'));
  try {
    const m = new Sequential();
    m.add(new layers.GlobalAveragePooling2D({ inputShape: [4, 4, 3] }));
    m.add(new layers.Dense(1, { activation: 'sigmoid' }));
    m.build([null, 4, 4, 3]);
    // Bright images are 'day', dark ones 'night'.
    m.layers[1].setWeights([tensor(new Float32Array([4, 4, 4]), [3, 1]), tensor(new Float32Array([-6]), [1])]);
    const path = join(root, 'daynight.keras');
    await m.save(path, { classNames: ['night', 'day'] });
    await png(join(root, 'bright.png'), 9, 9, () => [250, 250, 240]);
    await png(join(root, 'dark.png'), 9, 9, () => [5, 10, 20]);
    const r = await run([path, join(root, 'bright.png'), join(root, 'dark.png'), '--json']);
    assert.equal(r.code, 0, r.err);
    const [a, b] = JSON.parse(r.out);
    assert.equal(a.class, 'day'); assert.ok(a.probability > 0.5 && a.output.length === 1);
    assert.equal(b.class, 'night'); assert.ok(Math.abs(b.probability - (1 - b.output[0])) < 1e-7);
    m.dispose();
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
