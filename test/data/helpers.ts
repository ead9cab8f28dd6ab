/** Fixture folders for the data tests, written at test time with sharp (and small hand-made BMP/PPM writers). */
import { mkdirSync, mkdtempSync, writeFileSync, rmSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import sharp from 'sharp';

export const FIXTURES = new URL('../fixtures/data/', import.meta.url).pathname;
export function readExpected(): any { return JSON.parse(readFileSync(join(FIXTURES, 'expected.json'), 'utf8')); }
export function readTree(): Record<string, [number, number] | null> { return JSON.parse(readFileSync(join(FIXTURES, 'tree.json'), 'utf8')).files; }

export function tempDir(prefix = 'convnet-data-'): string { return mkdtempSync(join(tmpdir(), prefix)); }
export function cleanup(dir: string): void { rmSync(dir, { recursive: true, force: true }); }

/** A deterministic RGB pattern of h x w pixels whose values encode the seed. */
export function pattern(h: number, w: number, seed: number, channels = 3): Buffer {
  const b = Buffer.alloc(h * w * channels);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let k = 0; k < channels; k++) {
    b[(y * w + x) * channels + k] = (seed * 37 + y * 11 + x * 5 + k * 70) & 0xff;
  }
  return b;
}

export function bmp24(px: Buffer, w: number, h: number): Buffer {
  const stride = Math.floor((w * 24 + 31) / 32) * 4;
  const b = Buffer.alloc(54 + stride * h);
  b.write('BM', 0); b.writeUInt32LE(b.length, 2); b.writeUInt32LE(54, 10); b.writeUInt32LE(40, 14);
  b.writeInt32LE(w, 18); b.writeInt32LE(h, 22); b.writeUInt16LE(1, 26); b.writeUInt16LE(24, 28);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    const s = (y * w + x) * 3, o = 54 + (h - 1 - y) * stride + x * 3;
    b[o] = px[s + 2]; b[o + 1] = px[s + 1]; b[o + 2] = px[s];
  }
  return b;
}

export function ppm(px: Buffer, w: number, h: number): Buffer {
  return Buffer.concat([Buffer.from(`P6\n# made by test\n${w} ${h}\n255\n`), px]);
}

/** Writes an image of h x w in the format its extension names. */
export async function writeImage(path: string, h: number, w: number, seed: number): Promise<void> {
  mkdirSync(dirname(path), { recursive: true });
  const px = pattern(h, w, seed);
  const ext = path.split('.').pop()!.toLowerCase();
  const img = sharp(px, { raw: { width: w, height: h, channels: 3 } });
  if (ext === 'bmp') writeFileSync(path, bmp24(px, w, h));
  else if (ext === 'ppm') writeFileSync(path, ppm(px, w, h));
  else if (ext === 'png') await img.png().toFile(path);
  else if (ext === 'tif' || ext === 'tiff') await img.tiff({ compression: 'lzw' }).toFile(path);
  else await img.jpeg({ quality: 95 }).toFile(path);
}

/** Builds test/fixtures/data/tree.json under a fresh folder; null entries are non-image files. */
export async function buildTree(root = tempDir()): Promise<string> {
  let seed = 1;
  for (const [rel, size] of Object.entries(readTree())) {
    const p = join(root, rel);
    mkdirSync(dirname(p), { recursive: true });
    if (size) await writeImage(p, size[0], size[1], seed++);
    else writeFileSync(p, 'not an image\n');
  }
  return root;
}

/** Collects what an iterator prints. */
export function collector(): { lines: string[]; log: (l: string) => void } {
  const lines: string[] = [];
  return { lines, log: (l: string) => lines.push(l) };
}
