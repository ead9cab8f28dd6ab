import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { imread, imsave, ImageReadError } from '../../src/io/index.js';
import { tensor } from '../../src/tensor/index.js';

const dir = fileURLToPath(new URL('../fixtures/images/', import.meta.url));
const expected = JSON.parse(readFileSync(join(dir, 'expected.json'), 'utf8'));
const house = fileURLToPath(new URL('../../../shared/data/house.jpg', import.meta.url));

function decode(b64: string, dtype: string): ArrayLike<number> {
  const b = Buffer.from(b64, 'base64');
  const ab = b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength);
  return dtype === 'uint8' ? new Uint8Array(ab) : new Float32Array(ab);
}

for (const [name, e] of Object.entries<any>(expected.files)) {
  test(`imread ${name} gives what scikit-image ${expected.skimage} gives, bit for bit`, async () => {
    const color = await imread(join(dir, name), { alpha: true });
    assert.deepEqual(color.shape, e.color.shape);
    assert.equal(color.dtype, e.color.dtype);
    assert.deepEqual(Array.from(color.view()), Array.from(decode(e.color.data, e.color.dtype)));

    const gray = await imread(join(dir, name), { asGray: true });
    assert.deepEqual(gray.shape, e.gray.shape);
    // scikit-image hands a grayscale file back as uint8; convnet scales it like img_as_float.
    assert.equal(gray.dtype, 'float32', 'asGray always gives float32 in [0, 1]');
    const raw = decode(e.gray.data, e.gray.dtype);
    const want = e.gray.dtype === 'uint8' ? Float32Array.from(raw, (v) => v * (1 / 255)) : raw;
    const got = gray.view();
    for (let i = 0; i < want.length; i++) {
      assert.equal(got[i], want[i], `${name} pixel ${i}: ${got[i]} vs skimage ${want[i]}`);
    }
  });
}

test('alpha is dropped unless asked for', async () => {
  const x = await imread(join(dir, 'rgba.png'));
  assert.deepEqual(x.shape, [9, 13, 3]);
});

test('house.jpg as_gray matches scikit-image bit for bit', async (t) => {
  if (!existsSync(house)) { t.skip('../shared/data/house.jpg is absent'); return; }
  const g = await imread(house, { asGray: true });
  assert.deepEqual(g.shape, expected.house.shape);
  const v = g.view() as Float32Array;
  const [H, W] = g.shape;
  const step = expected.house.step;
  const want = decode(expected.house.data, 'float32');
  let k = 0, worst = 0;
  for (let y = 0; y < H; y += step) for (let x = 0; x < W; x += step) worst = Math.max(worst, Math.abs(v[y * W + x] - want[k++]));
  assert.equal(k, want.length);
  assert.equal(worst, 0, `largest difference ${worst}`);
});

test('errors name the file and the reason', async () => {
  const tmp = mkdtempSync(join(tmpdir(), 'convnet-img-'));
  await assert.rejects(imread(join(tmp, 'nope.png')), (e: any) => e instanceof ImageReadError && /nope\.png/.test(e.message) && /no such file/.test(e.message));
  writeFileSync(join(tmp, 'empty.jpg'), '');
  await assert.rejects(imread(join(tmp, 'empty.jpg')), /empty\.jpg'.*empty \(0 bytes\)/);
  writeFileSync(join(tmp, 'text.png'), 'hello, I am not a picture at all');
  await assert.rejects(imread(join(tmp, 'text.png')), /text\.png'.*not an image/);
  const jpg = readFileSync(join(dir, 'rgb.jpg'));
  writeFileSync(join(tmp, 'cut.jpg'), jpg.subarray(0, Math.floor(jpg.length * 0.6)));
  await assert.rejects(imread(join(tmp, 'cut.jpg')), /cut\.jpg'.*truncated or corrupt/);
  const png = readFileSync(join(dir, 'rgb.png'));
  writeFileSync(join(tmp, 'cut.png'), png.subarray(0, Math.floor(png.length * 0.7)));
  await assert.rejects(imread(join(tmp, 'cut.png')), /cut\.png'.*truncated or corrupt/);
  const bmp = readFileSync(join(dir, 'rgb.bmp'));
  writeFileSync(join(tmp, 'cut.bmp'), bmp.subarray(0, 200));
  await assert.rejects(imread(join(tmp, 'cut.bmp')), /cut\.bmp'.*truncated or corrupt/);
  await assert.rejects(imread(join(dir, 'rgb.png'), { maxPixels: 100 }), /rgb\.png'.*13 x 9 = 117 pixels, over the limit of 100/);
  await assert.rejects(imread(tmp), /is a directory/);
});

test('a decompression bomb is refused from its header, before decoding', async () => {
  // A valid PNG header claiming 100000 x 100000 pixels.
  const sharp = (await import('sharp')).default;
  const small = await sharp({ create: { width: 1, height: 1, channels: 3, background: '#000' } }).png().toBuffer();
  const bomb = Buffer.from(small);
  bomb.writeUInt32BE(100000, 16); bomb.writeUInt32BE(100000, 20);
  const tmp = mkdtempSync(join(tmpdir(), 'convnet-img-'));
  writeFileSync(join(tmp, 'bomb.png'), bomb);
  await assert.rejects(imread(join(tmp, 'bomb.png')), /bomb\.png'.*100000 x 100000 = 10000000000 pixels, over the limit of 89478485/);
});

test('imsave writes PNG and JPEG that read back', async () => {
  const tmp = mkdtempSync(join(tmpdir(), 'convnet-img-'));
  const img = tensor(Array.from({ length: 4 * 5 * 3 }, (_, i) => (i * 17) % 256), [4, 5, 3], 'uint8');
  await imsave(join(tmp, 'a.png'), img);
  assert.deepEqual(Array.from((await imread(join(tmp, 'a.png'))).view()), Array.from(img.view()));
  const g = tensor([0, 0.5, 1, 1.5, -1, 0.25], [2, 3], 'float32');
  await imsave(join(tmp, 'g.png'), g);
  const back = await imread(join(tmp, 'g.png'));
  assert.deepEqual(back.shape, [2, 3]);
  assert.deepEqual(Array.from(back.view()), [0, 128, 255, 255, 0, 64]);
  await imsave(join(tmp, 'a.jpg'), img);
  assert.deepEqual((await imread(join(tmp, 'a.jpg'))).shape, [4, 5, 3]);
  await assert.rejects(imsave(join(tmp, 'a.xyz'), img), /unknown extension/);
});
