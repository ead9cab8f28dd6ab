import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync, mkdirSync, symlinkSync, readFileSync, chmodSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import { ImageDataGenerator, checkDirectory } from '../../src/data/index.js';
import { tempDir, cleanup, writeImage, collector } from './helpers.js';

/** A PNG whose header claims w x h pixels (the data is tiny): a decompression bomb's shape. */
function pngClaiming(w: number, h: number): Buffer {
  const crcTable = Array.from({ length: 256 }, (_, n) => { let c = n; for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1; return c >>> 0; });
  const crc = (b: Buffer) => { let c = 0xffffffff; for (const x of b) c = crcTable[(c ^ x) & 0xff] ^ (c >>> 8); return (c ^ 0xffffffff) >>> 0; };
  const chunk = (type: string, data: Buffer) => {
    const td = Buffer.concat([Buffer.from(type), data]);
    const out = Buffer.alloc(8 + data.length + 4);
    out.writeUInt32BE(data.length, 0); td.copy(out, 4); out.writeUInt32BE(crc(td), 8 + data.length);
    return out;
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0); ihdr.writeUInt32BE(h, 4); ihdr[8] = 8; ihdr[9] = 2;
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(Buffer.alloc(16))), chunk('IEND', Buffer.alloc(0))]);
}

let root = '';
const good: string[] = [];
before(async () => {
  root = tempDir();
  for (let i = 0; i < 6; i++) { await writeImage(join(root, 'a', `good${i}.jpg`), 20, 24, i); good.push(`a/good${i}.jpg`); }
  for (let i = 0; i < 4; i++) { await writeImage(join(root, 'b', `good${i}.png`), 20, 24, 10 + i); good.push(`b/good${i}.png`); }
  writeFileSync(join(root, 'a', 'empty.jpg'), '');
  const jpg = readFileSync(join(root, 'a', 'good0.jpg'));
  writeFileSync(join(root, 'a', 'truncated.jpg'), jpg.subarray(0, Math.floor(jpg.length / 2)));
  writeFileSync(join(root, 'a', 'text.jpg'), 'Hello, this is not a JPEG at all.\n');
  writeFileSync(join(root, 'a', 'bomb.png'), pngClaiming(60000, 60000));
  writeFileSync(join(root, 'a', '._good1.jpg'), Buffer.from([0, 5, 22, 7, 0, 2, 0, 0, 77, 97, 99, 32]));
  writeFileSync(join(root, 'a', 'Thumbs.db'), Buffer.alloc(100, 1));
  writeFileSync(join(root, 'a', '.DS_Store'), Buffer.alloc(100, 2));
  symlinkSync(join(root, 'nowhere.jpg'), join(root, 'a', 'dangling.jpg'));
  execFileSync('mkfifo', [join(root, 'a', 'fifo.jpg')]);
  // A PNG whose header is fine and whose pixel data is damaged: only decoding finds out.
  const png = readFileSync(join(root, 'b', 'good0.png'));
  const damaged = Buffer.from(png);
  const idat = damaged.indexOf('IDAT');
  for (let i = idat + 6; i < idat + 30 && i < damaged.length - 12; i++) damaged[i] ^= 0x5a;
  writeFileSync(join(root, 'b', 'damaged.png'), damaged);
  mkdirSync(join(root, 'c_empty'));
  mkdirSync(join(root, '.ipynb_checkpoints'));
  symlinkSync(join(root, 'b'), join(root, 'b', 'loop'));
});
after(() => cleanup(root));

test('the scan leaves out what cannot be an image, says why, and counts the usable ones', async () => {
  const out = collector();
  const it = await new ImageDataGenerator({ rescale: 1 / 255 }).flowFromDirectory(root, { targetSize: [10, 12], batchSize: 4, classMode: 'sparse', seed: 1, log: out.log });
  const reasons = Object.fromEntries(it.skipped.map((s) => [s.path.slice(root.length + 1), s.reason]));
  assert.match(reasons['a/empty.jpg'], /empty file/);
  assert.match(reasons['a/truncated.jpg'], /truncated JPEG/);
  assert.match(reasons['a/text.jpg'], /not an image \(text\)/);
  assert.match(reasons['a/bomb.png'], /too many pixels \(60000 x 60000/);
  assert.match(reasons['a/._good1.jpg'], /hidden file, not an image/);
  assert.match(reasons['a/dangling.jpg'], /broken symbolic link/);
  assert.match(reasons['a/fifo.jpg'], /not a regular file/);
  assert.equal(it.skipped.length, 7);
  assert.deepEqual(it.filenames, [...good.slice(0, 6), 'b/damaged.png', ...good.slice(6)]);
  assert.equal(it.samples, 11);
  assert.deepEqual(Object.keys(it.classIndices), ['a', 'b', 'c_empty']);
  const text = out.lines.join('\n');
  assert.match(text, /Ignoring hidden folder '\.ipynb_checkpoints'/);
  assert.match(text, /Class folder 'c_empty' has no images\./);
  assert.match(text, /link to a folder, not followed/);
  assert.match(text, /Skipped 7 files that cannot be read as images \(.*\); see iterator\.skipped or run `convnet check/);
  assert.equal(out.lines.at(-1), 'Found 11 images belonging to 3 classes.');

  // The damaged PNG fails while decoding: reported once, left out of its batch, the epochs go on.
  const before = out.lines.length;
  let seen = 0;
  for (let e = 0; e < 2; e++) {
    for (let i = 0; i < it.length; i++) {
      const b = await it.getBatch(i);
      seen += b.x.shape[0];
      assert.equal(b.y!.shape[0], b.x.shape[0]);
    }
    it.onEpochEnd();
  }
  assert.equal(seen, 2 * 10);
  const reports = out.lines.slice(before);
  assert.equal(reports.length, 1, reports.join('\n'));
  assert.match(reports[0], /skipping .*damaged\.png: cannot decode .*reported once/);
  assert.equal(it.failed.size, 1);
  await it.close();
});

test('followLinks enters linked folders once and stops at link loops', async () => {
  const out = collector();
  const it = await new ImageDataGenerator().flowFromDirectory(root, { targetSize: [10, 12], followLinks: true, workers: 0, log: out.log, classes: ['b'] });
  assert.equal(it.samples, 5);
  assert.match(out.lines.join('\n'), /symbolic link loop/);
  await it.close();
});

test('a folder without class sub-folders, and an empty folder, give a clear message and an empty iterator', async () => {
  const flat = tempDir();
  await writeImage(join(flat, 'x.jpg'), 8, 8, 1);
  const out = collector();
  const it = await new ImageDataGenerator().flowFromDirectory(flat, { targetSize: [8, 8], log: out.log });
  assert.equal(it.samples, 0);
  assert.equal(it.length, 0);
  assert.match(out.lines.join('\n'), /No class sub-folders .* one sub-folder of images per class/);
  assert.equal(out.lines.at(-1), 'Found 0 images belonging to 0 classes.');
  await it.close();
  cleanup(flat);
});

test('unreadable files are reported, not fatal', async (t) => {
  if (process.getuid?.() === 0) { t.skip('running as root: permission bits do not stop reads here'); return; }
  const d = tempDir();
  await writeImage(join(d, 'k', 'ok.jpg'), 8, 8, 1);
  await writeImage(join(d, 'k', 'locked.jpg'), 8, 8, 2);
  chmodSync(join(d, 'k', 'locked.jpg'), 0);
  const it = await new ImageDataGenerator().flowFromDirectory(d, { targetSize: [8, 8], verbose: false });
  assert.equal(it.samples, 1);
  assert.match(it.skipped[0].reason, /permission denied/);
  await it.close();
  cleanup(d);
});

test('checkDirectory lists every problem file with its reason, and decode failures with decode: true', async () => {
  const r = await checkDirectory(root);
  const byName = Object.fromEntries(r.problems.map((p) => [p.path.slice(root.length + 1), p.reason]));
  assert.deepEqual(Object.keys(byName).sort(), ['a/._good1.jpg', 'a/bomb.png', 'a/dangling.jpg', 'a/empty.jpg', 'a/fifo.jpg', 'a/text.jpg', 'a/truncated.jpg']);
  assert.deepEqual(r.ignored.map((p) => p.path.slice(root.length + 1)).sort(), ['a/.DS_Store', 'a/Thumbs.db']);
  assert.match(r.ignored.find((p) => p.path.endsWith('Thumbs.db'))!.reason, /Windows thumbnail cache/);
  assert.deepEqual(r.counts, { a: 6, b: 5, c_empty: 0 });
  const deep = await checkDirectory(root, { decode: true });
  assert.match(deep.problems.find((p) => p.path.endsWith('damaged.png'))!.reason, /cannot decode/);
  assert.deepEqual(deep.counts, { a: 6, b: 4, c_empty: 0 });
});

test('convnet check prints each problem file with its reason and exits 1', async () => {
  const { command } = await import('../../src/cli/commands/check.js');
  const lines: string[] = [];
  const log = console.log;
  console.log = (...a: unknown[]) => lines.push(a.join(' '));
  let code: number;
  try { code = await command.run([root]); } finally { console.log = log; }
  assert.equal(code, 1);
  const text = lines.join('\n');
  assert.match(text, /empty\.jpg: empty file \(0 bytes\)/);
  assert.match(text, /truncated\.jpg: truncated JPEG/);
  assert.match(text, /ignored: .*Thumbs\.db: Windows thumbnail cache/);
  assert.match(text, /11 usable images in 3 classes \(a: 6, b: 5, c_empty: 0\); 7 problem files, 2 ignored\./);
});
