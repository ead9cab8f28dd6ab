import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { ImageDataGenerator, NumpyRandomState } from '../../src/data/index.js';
import { extensionOf, compareCodePoints, splitRange } from '../../src/data/listing.js';
import { buildTree, cleanup, collector, readExpected } from './helpers.js';

const expected = readExpected();
let root = '';
before(async () => { root = await buildTree(); });
after(() => cleanup(root));

test('NumpyRandomState.permutation matches np.random.seed(s); np.random.permutation(n)', () => {
  for (const [key, perm] of Object.entries(expected.permutations as Record<string, number[]>)) {
    const [seed, n] = key.split('/').map(Number);
    assert.deepEqual(Array.from(new NumpyRandomState(seed).permutation(n)), perm, key);
  }
  // The value quoted in the issue.
  assert.deepEqual(Array.from(new NumpyRandomState(42).permutation(10)), [8, 1, 5, 0, 7, 2, 9, 4, 3, 6]);
});

test('extensions and ordering follow os.path.splitext and Python string order', () => {
  assert.equal(extensionOf('a.JPG'), 'jpg');
  assert.equal(extensionOf('.jpg'), '');
  assert.equal(extensionOf('..jpg'), '');
  assert.equal(extensionOf('._x.jpg'), 'jpg');
  assert.equal(extensionOf('x.jpg.bak'), 'bak');
  assert.equal(extensionOf('a.jpg.'), '');
  const names = ['cat.2.jpg', 'cat.10.jpg', 'Cat.3.jpg', 'été.jpg', '_x.jpg', 'z.jpg', '\u{1F600}.jpg', '\uFFFD.jpg'];
  assert.deepEqual(names.slice().sort(compareCodePoints), ['Cat.3.jpg', '_x.jpg', 'cat.10.jpg', 'cat.2.jpg', 'z.jpg', 'été.jpg', '\uFFFD.jpg', '\u{1F600}.jpg']);
  assert.deepEqual(splitRange(10, 0.3, 'validation'), [0, 3]);
  assert.deepEqual(splitRange(10, 0.3, 'training'), [3, 10]);
  // int(0.2 * 6001) in Python is 1200.
  assert.deepEqual(splitRange(6001, 0.2, 'training'), [1200, 6001]);
});

for (const key of Object.keys(expected.listing)) {
  test(`files, labels and classes for validation split / subset ${key} are Keras's`, async () => {
    const [vs, subset] = key.split('/');
    const want = expected.listing[key];
    const out = collector();
    const it = await new ImageDataGenerator({ validation_split: Number(vs) || undefined }).flowFromDirectory(root, {
      targetSize: [8, 8], subset: subset === 'None' ? null : subset, shuffle: false, workers: 0, log: out.log,
    });
    assert.deepEqual(it.filenames, want.filenames);
    assert.deepEqual(Array.from(it.classes), want.labels);
    assert.deepEqual(Object.keys(it.classIndices), want.classes);
    assert.deepEqual(Object.values(it.classIndices), want.classes.map((_: string, i: number) => i));
    assert.equal(it.samples, want.filenames.length);
    assert.equal(out.lines.at(-1), `Found ${want.filenames.length} images belonging to ${want.classes.length} classes.`);
    assert.ok(out.lines.includes("Class folder 'empty' has no images."), out.lines.join('\n'));
    await it.close();
  });
}

test('a classes list picks and orders the classes; snake_case options are accepted', async () => {
  const out = collector();
  const it = await new ImageDataGenerator().flowFromDirectory(root, { classes: ['dogs', 'Birds'], target_size: [8, 8], class_mode: 'sparse', workers: 0, log: out.log });
  assert.deepEqual(it.classIndices, { dogs: 0, Birds: 1 });
  assert.equal(it.filenames[0], 'dogs/Dog.3.jpg');
  assert.equal(out.lines.at(-1), 'Found 12 images belonging to 2 classes.');
  await it.close();
  await assert.rejects(new ImageDataGenerator().flowFromDirectory(root, { targetSize: [8, 8], target_size: [8, 8] } as any), /given twice/);
  await assert.rejects(new ImageDataGenerator().flowFromDirectory(root, { tagetSize: [8, 8] } as any), /unknown option 'tagetSize'/);
  await assert.rejects(new ImageDataGenerator().flowFromDirectory(root, { classMode: 'multi' } as any), /classMode must be one of/);
  await assert.rejects(new ImageDataGenerator().flowFromDirectory(root + '/nope'), /no such folder/);
  assert.throws(() => new ImageDataGenerator({ validationSplit: 1.5 }), /strictly between 0 and 1/);
  assert.throws(() => new ImageDataGenerator({ zca_whitening: true }), /not supported/);
});
