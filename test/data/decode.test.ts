import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { decodeImage, readHeader, type DecodeOptions } from '../../src/data/index.js';
import { nearestIndices, keepAspectBox, rgbToL } from '../../src/data/resize.js';
import { FIXTURES, tempDir, cleanup, pattern, bmp24, ppm } from './helpers.js';

const pil = JSON.parse(readFileSync(join(FIXTURES, 'pil.json'), 'utf8'));
const full: DecodeOptions = { targetSize: null, colorMode: 'rgb', interpolation: 'nearest', keepAspectRatio: false, maxPixels: 1e8 };
let dir = '';
before(() => { dir = tempDir(); mkdirSync(dir, { recursive: true }); });
after(() => cleanup(dir));

test("nearest resize indices and keep-aspect crop boxes are Pillow's (what Keras's load_img gives)", () => {
  for (const c of pil.nearest) {
    const box = c.keep ? keepAspectBox(c.w, c.h, c.th, c.tw) : [0, 0, c.w, c.h];
    if (c.keep) assert.deepEqual(box, c.box);
    assert.deepEqual(Array.from(nearestIndices(c.tw, box[0], box[2], c.w)), c.xs, `${c.h}x${c.w} -> ${c.th}x${c.tw} x`);
    assert.deepEqual(Array.from(nearestIndices(c.th, box[1], box[3], c.h)), c.ys, `${c.h}x${c.w} -> ${c.th}x${c.tw} y`);
  }
  assert.deepEqual(Array.from(rgbToL(Uint8Array.from(pil.rgb.flat()), pil.rgb.length, 3)), pil.L);
});

test('lossless formats decode to their exact pixels, whatever the extension says', async () => {
  const px = pattern(9, 13, 3);
  const files: Record<string, Buffer> = {
    'a.png': await sharp(px, { raw: { width: 13, height: 9, channels: 3 } }).png().toBuffer(),
    'b.bmp': bmp24(px, 13, 9),
    'c.ppm': ppm(px, 13, 9),
    'd.tif': await sharp(px, { raw: { width: 13, height: 9, channels: 3 } }).tiff({ compression: 'lzw' }).toBuffer(),
    'png-named.jpg': await sharp(px, { raw: { width: 13, height: 9, channels: 3 } }).png().toBuffer(),
    'palette.png': await sharp(px, { raw: { width: 13, height: 9, channels: 3 } }).png({ palette: true, colours: 256, dither: 0 }).toBuffer(),
  };
  for (const [name, bytes] of Object.entries(files)) {
    const p = join(dir, name);
    writeFileSync(p, bytes);
    assert.ok((await readHeader(p)).ok, name);
    const d = await decodeImage(p, full);
    assert.deepEqual([d.height, d.width, d.channels], [9, 13, 3], name);
    if (name !== 'palette.png') assert.deepEqual(Buffer.from(d.data), px, name);
    else assert.ok(d.data.every((v, i) => Math.abs(v - px[i]) <= 24), name);
  }
});

test('grayscale, alpha, 16-bit and CMYK images become what colorMode asks', async () => {
  const px = pattern(8, 10, 5);
  const rgb = sharp(px, { raw: { width: 10, height: 8, channels: 3 } });
  const grey = Buffer.from(rgbToL(px, 80, 3));
  const rgba = Buffer.alloc(8 * 10 * 4);
  for (let i = 0; i < 80; i++) { px.copy(rgba, i * 4, i * 3, i * 3 + 3); rgba[i * 4 + 3] = i; }
  const cases: Record<string, Buffer> = {
    'grey.png': await sharp(grey, { raw: { width: 10, height: 8, channels: 1 } }).png().toBuffer(),
    'rgba.png': await sharp(rgba, { raw: { width: 10, height: 8, channels: 4 } }).png().toBuffer(),
    'rgb16.png': await rgb.clone().toColourspace('rgb16').png().toBuffer(),
    'cmyk.jpg': await rgb.clone().toColourspace('cmyk').jpeg({ quality: 100 }).toBuffer(),
  };
  for (const [n, b] of Object.entries(cases)) writeFileSync(join(dir, n), b);
  const g = await decodeImage(join(dir, 'grey.png'), full);
  assert.equal(g.channels, 3);
  assert.deepEqual(Array.from(g.data.filter((_, i) => i % 3 === 0)), Array.from(grey));
  const g1 = await decodeImage(join(dir, 'grey.png'), { ...full, colorMode: 'grayscale' });
  assert.deepEqual(Buffer.from(g1.data), grey);
  const gl = await decodeImage(join(dir, 'a.png').replace('a.png', 'rgba.png'), { ...full, colorMode: 'grayscale' });
  assert.deepEqual(Buffer.from(gl.data), grey, 'grayscale of an RGBA image is the luma of its colours');
  const a3 = await decodeImage(join(dir, 'rgba.png'), full);
  assert.deepEqual(Buffer.from(a3.data), px, 'rgb drops alpha, as Pillow convert("RGB") does');
  const a4 = await decodeImage(join(dir, 'rgba.png'), { ...full, colorMode: 'rgba' });
  assert.deepEqual(Buffer.from(a4.data), rgba);
  const p4 = await decodeImage(join(dir, 'grey.png'), { ...full, colorMode: 'rgba' });
  assert.equal(p4.channels, 4);
  assert.equal(p4.data[3], 255);
  const s16 = await decodeImage(join(dir, 'rgb16.png'), full);
  assert.ok(s16.data.every((v, i) => Math.abs(v - px[i]) <= 1), '16-bit PNG scaled to 8 bits');
  const cmyk = await decodeImage(join(dir, 'cmyk.jpg'), full);
  assert.equal(cmyk.channels, 3);
  let err = 0;
  for (let i = 0; i < px.length; i++) err += Math.abs(cmyk.data[i] - px[i]);
  assert.ok(err / px.length < 40, `CMYK JPEG comes back near its RGB source (mean error ${err / px.length})`);
});

test('EXIF orientation is applied', async () => {
  const h = 4, w = 6;
  const px = Buffer.alloc(h * w * 3, 0);
  px[0] = 255; px[1] = 255; px[2] = 255; // white top-left pixel
  // Orientation 6: the stored image must be turned 90 degrees clockwise to display.
  await sharp(px, { raw: { width: w, height: h, channels: 3 } }).withMetadata({ orientation: 6 }).jpeg({ quality: 100 }).toFile(join(dir, 'rot.jpg'));
  const d = await decodeImage(join(dir, 'rot.jpg'), full);
  assert.deepEqual([d.height, d.width], [w, h]);
  // Top-left of the stored image ends up at the top-right.
  const tr = (0 * d.width + (d.width - 1)) * 3;
  assert.ok(d.data[tr] > 200, `top-right pixel ${d.data[tr]}`);
  assert.ok(d.data[0] < 60, `top-left pixel ${d.data[0]}`);
});

test('smooth interpolations and keepAspectRatio give the target size; box and hamming are refused clearly', async () => {
  const src = join(dir, 'big.png');
  await sharp(pattern(60, 90, 9), { raw: { width: 90, height: 60, channels: 3 } }).png().toFile(src);
  for (const interpolation of ['nearest', 'bilinear', 'bicubic', 'lanczos'] as const) {
    for (const keepAspectRatio of [false, true]) {
      const d = await decodeImage(src, { ...full, targetSize: [20, 25], interpolation, keepAspectRatio });
      assert.deepEqual([d.height, d.width, d.channels], [20, 25, 3], `${interpolation} ${keepAspectRatio}`);
    }
  }
  const b = await decodeImage(join(dir, 'b.bmp'), { ...full, targetSize: [5, 5], interpolation: 'bilinear', keepAspectRatio: true });
  assert.deepEqual([b.height, b.width], [5, 5]);
  const { checkInterpolation } = await import('../../src/data/decode.js');
  assert.throws(() => checkInterpolation('box'), /not offered by sharp/);
  assert.throws(() => checkInterpolation('cubic'), /unknown interpolation/);
});
