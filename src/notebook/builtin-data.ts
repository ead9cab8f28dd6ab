/**
 * The built-in data set: what `convnet notebook` trains on when the user gives no `--data`.
 *
 * Two classes of small pictures, `horizontal` and `vertical`: one to three bars per image, lying or
 * standing, at random positions, lengths and thicknesses, in random colours on random backgrounds
 * (flat or gradient, with a little noise). Positions and colours are drawn the same way for both
 * classes, so the mean of every pixel is the same for both and a linear model on the pixels stays near
 * chance, while the notebook's own vertical- and horizontal-edge filters are exactly what tells them
 * apart: a small CNN learns it in a few epochs. (Circles versus squares was tried first: at 32x32 the
 * notebook's model needs far more epochs than a 5-minute budget allows.) Everything comes from one
 * seed, so two runs write byte-identical files.
 *
 * Also a photo-like house picture (461x306, the size of the notebook's map) for the filter demos.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { Rng } from '../tensor/random.js';

/** The class folders of the built-in set, in sorted order (their class indices are 0 and 1). */
export const BUILTIN_CLASSES = ['horizontal', 'vertical'] as const;

export interface BuiltinDataOptions {
  /** Images per class (default 1000). */
  perClass?: number;
  /** Side of the square images in pixels (default 64). */
  size?: number;
  /** Seed of the whole set (default 42). */
  seed?: number;
  /** JPEG quality (default 90). */
  quality?: number;
}

export interface BuiltinData {
  /** Folder with one sub-folder per class, as `flowFromDirectory` expects. */
  dataDir: string;
  /** The house picture for the filter demos. */
  imagePath: string;
  classes: string[];
  perClass: number;
  size: number;
}

/** An RGB image as interleaved bytes, row-major. */
export interface RawImage { width: number; height: number; data: Uint8Array }

type RGB = [number, number, number];

function luminance(c: RGB): number { return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2]; }

function randomColour(r: Rng): RGB { return [r.int(256), r.int(256), r.int(256)]; }

/** A foreground colour far enough in luminance from the background to be seen after JPEG and resizing. */
function contrasting(r: Rng, bg: RGB): RGB {
  for (;;) {
    const c = randomColour(r);
    if (Math.abs(luminance(c) - luminance(bg)) > 60) return c;
  }
}

/** Draws one sample of class `label` (0 horizontal, 1 vertical); deterministic in (seed, label, index). */
export function renderSample(label: number, index: number, size = 64, seed = 42): RawImage {
  const r = new Rng(seed * 1000003 + label * 7919 + index * 2 + 1);
  const bgA = randomColour(r);
  const bgB = r.random() < 0.5 ? bgA : randomColour(r);
  const angle = r.uniform(0, Math.PI * 2);
  const dx = Math.cos(angle), dy = Math.sin(angle);
  const noise = r.uniform(0, 12);
  const data = new Float32Array(size * size * 3);
  // Background: a linear gradient between two colours, or flat.
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const t = Math.min(1, Math.max(0, 0.5 + ((x / size - 0.5) * dx + (y / size - 0.5) * dy)));
      const o = (y * size + x) * 3;
      for (let c = 0; c < 3; c++) data[o + c] = bgA[c] * (1 - t) + bgB[c] * t;
    }
  }
  const bgMid: RGB = [(bgA[0] + bgB[0]) / 2, (bgA[1] + bgB[1]) / 2, (bgA[2] + bgB[2]) / 2];
  const count = 1 + r.int(3);
  for (let k = 0; k < count; k++) {
    const fg = contrasting(r, bgMid);
    const side = size * r.uniform(0.18, count === 1 ? 0.45 : 0.32);
    const cx = r.uniform(side * 0.6, size - side * 0.6);
    const cy = r.uniform(side * 0.6, size - side * 0.6);
    // A bar 3 to 6 times longer than thick, lying (class 0) or standing (class 1).
    const long = side * r.uniform(1.4, 2.0), thick = long / r.uniform(3, 6);
    const inside = label === 0 ? bar(cx, cy, long, thick) : bar(cx, cy, thick, long);
    paint(data, size, fg, inside, cx, cy, side);
  }
  const out = new Uint8Array(size * size * 3);
  for (let i = 0; i < out.length; i++) out[i] = clampByte(data[i] + noise * r.normal());
  return { width: size, height: size, data: out };
}

function clampByte(v: number): number { return v < 0 ? 0 : v > 255 ? 255 : Math.round(v); }

function bar(cx: number, cy: number, w: number, h: number): (x: number, y: number) => boolean {
  return (x, y) => Math.abs(x - cx) <= w / 2 && Math.abs(y - cy) <= h / 2;
}

/** Fills the shape with 4x4 supersampling, so edges are anti-aliased as in a photo. */
function paint(data: Float32Array, size: number, fg: RGB, inside: (x: number, y: number) => boolean, cx: number, cy: number, side: number): void {
  const reach = side; // half the longest bar
  const x0 = Math.max(0, Math.floor(cx - reach)), x1 = Math.min(size - 1, Math.ceil(cx + reach));
  const y0 = Math.max(0, Math.floor(cy - reach)), y1 = Math.min(size - 1, Math.ceil(cy + reach));
  for (let y = y0; y <= y1; y++) {
    for (let x = x0; x <= x1; x++) {
      let hits = 0;
      for (let sy = 0; sy < 4; sy++) for (let sx = 0; sx < 4; sx++) if (inside(x + (sx + 0.5) / 4, y + (sy + 0.5) / 4)) hits++;
      if (hits === 0) continue;
      const a = hits / 16, o = (y * size + x) * 3;
      for (let c = 0; c < 3; c++) data[o + c] = data[o + c] * (1 - a) + fg[c] * a;
    }
  }
}

/**
 * A photo-like picture of a house (width 461, height 306): sky gradient, hills, a house with roof,
 * windows, a door and a fence, plus film grain. Strong vertical, horizontal and diagonal edges for
 * the filter demos.
 */
export function renderHouse(seed = 7): RawImage {
  const W = 461, H = 306;
  const r = new Rng(seed);
  const img = new Float32Array(W * H * 3);
  const set = (x: number, y: number, c: RGB, a = 1) => {
    if (x < 0 || y < 0 || x >= W || y >= H) return;
    const o = (y * W + x) * 3;
    for (let k = 0; k < 3; k++) img[o + k] = img[o + k] * (1 - a) + c[k] * a;
  };
  const rect = (x0: number, y0: number, x1: number, y1: number, c: RGB | ((x: number, y: number) => RGB)) => {
    for (let y = Math.max(0, y0); y < Math.min(H, y1); y++) {
      for (let x = Math.max(0, x0); x < Math.min(W, x1); x++) set(x, y, typeof c === 'function' ? c(x, y) : c);
    }
  };
  // Sky and ground.
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const t = y / H;
      set(x, y, [110 + 90 * t, 160 + 60 * t, 230 - 10 * t]);
    }
  }
  for (let x = 0; x < W; x++) {
    const hill = 200 - 25 * Math.sin(x / 70) - 12 * Math.sin(x / 23 + 1);
    for (let y = Math.floor(hill); y < H; y++) set(x, y, [70 + 20 * Math.sin(x / 9), 120 + (y - hill) * 0.3, 60]);
  }
  // The house: walls with siding, roof, windows, door, chimney.
  const wx0 = 120, wx1 = 340, wy0 = 130, wy1 = 250;
  rect(wx0, wy0, wx1, wy1, (_x, y) => ((y - wy0) % 10 < 1 ? [170, 150, 120] : [222, 205, 170]));
  rect(285, 58, 305, 110, [120, 60, 50]);
  for (let y = 60; y < wy0; y++) {
    const half = ((y - 60) / (wy0 - 60)) * ((wx1 - wx0) / 2 + 20);
    const mid = (wx0 + wx1) / 2;
    for (let x = Math.floor(mid - half); x <= Math.ceil(mid + half); x++) {
      const edge = Math.min(1, Math.min(x - (mid - half), mid + half - x) + 0.5);
      set(x, y, (x + y) % 12 < 2 ? [90, 40, 35] : [150, 55, 45], Math.max(0, edge));
    }
  }
  const windowAt = (x0: number, y0: number) => {
    rect(x0 - 3, y0 - 3, x0 + 43, y0 + 38, [250, 250, 245]);
    rect(x0, y0, x0 + 40, y0 + 35, (x, y) => [60 + (y - y0) * 2, 90 + (x - x0), 140]);
    rect(x0 + 19, y0, x0 + 21, y0 + 35, [250, 250, 245]);
    rect(x0, y0 + 16, x0 + 40, y0 + 18, [250, 250, 245]);
  };
  windowAt(140, 155); windowAt(275, 155);
  rect(205, 170, 250, 250, [110, 70, 40]);
  rect(240, 208, 244, 212, [230, 200, 80]);
  // A picket fence in front.
  for (let x = 10; x < W - 10; x += 14) {
    rect(x, 235, x + 8, 290, [240, 240, 235]);
    for (let k = 0; k < 4; k++) rect(x + k, 231 + (k === 0 || k === 3 ? 3 : 0), x + 8 - k, 235, [240, 240, 235]);
  }
  rect(0, 250, W, 256, [225, 225, 220]);
  rect(0, 275, W, 281, [225, 225, 220]);
  // Film grain.
  const out = new Uint8Array(W * H * 3);
  for (let i = 0; i < out.length; i++) out[i] = clampByte(img[i] + 5 * r.normal());
  return { width: W, height: H, data: out };
}

/** Encodes a raw RGB image as JPEG bytes. */
export async function encodeJpeg(img: RawImage, quality = 90): Promise<Buffer> {
  return sharp(Buffer.from(img.data.buffer, img.data.byteOffset, img.data.byteLength), {
    raw: { width: img.width, height: img.height, channels: 3 },
  }).jpeg({ quality, chromaSubsampling: '4:4:4' }).toBuffer();
}

/**
 * Writes the built-in set under `dir`: `dir/shapes/horizontal/horizontal.N.jpg`, `dir/shapes/vertical/...`
 * and `dir/house.jpg`. Deterministic; a few seconds for the default 2x1000 images.
 */
export async function generateBuiltinData(dir: string, opts: BuiltinDataOptions = {}): Promise<BuiltinData> {
  const perClass = opts.perClass ?? 1000;
  const size = opts.size ?? 64;
  const seed = opts.seed ?? 42;
  const quality = opts.quality ?? 90;
  if (!Number.isInteger(perClass) || perClass < 2) throw new Error(`builtin data: perClass must be an integer >= 2, got ${perClass}`);
  if (!Number.isInteger(size) || size < 16) throw new Error(`builtin data: size must be an integer >= 16, got ${size}`);
  const dataDir = join(dir, 'shapes');
  const jobs: { path: string; label: number; index: number }[] = [];
  BUILTIN_CLASSES.forEach((name, label) => {
    mkdirSync(join(dataDir, name), { recursive: true });
    for (let i = 0; i < perClass; i++) jobs.push({ path: join(dataDir, name, `${name}.${i}.jpg`), label, index: i });
  });
  // sharp encodes on libuv's threads: keep a few encodes in flight.
  let next = 0;
  const worker = async () => {
    while (next < jobs.length) {
      const j = jobs[next++];
      writeFileSync(j.path, await encodeJpeg(renderSample(j.label, j.index, size, seed), quality));
    }
  };
  await Promise.all(Array.from({ length: 4 }, worker));
  const imagePath = join(dir, 'house.jpg');
  writeFileSync(imagePath, await encodeJpeg(renderHouse(), 92));
  return { dataDir, imagePath, classes: [...BUILTIN_CLASSES], perClass, size };
}
