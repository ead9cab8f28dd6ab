/**
 * The built-in data set: what `convnet notebook` trains on when the user gives no `--data`.
 *
 * Two classes of small pictures, `horizontal` and `vertical`: one to three bars per image, lying or
 * standing, at random positions, lengths and thicknesses, in random colours on random backgrounds
 * (flat or gradient, with a little noise). Every bar lies wholly inside the image, apart from the
 * others, in a colour whose luminance differs by at least BAR_CONTRAST from the background under and
 * around it, so each one shows (a bar the colour of its gradient once made a bare gradient). Positions and colours are drawn the same way for both
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

/** The least luminance difference between a bar and every background pixel under or around it. */
export const BAR_CONTRAST = 60;
/** Largest luminance difference between a gradient's two ends: a bar colour that stands out everywhere then exists. */
const MAX_GRADIENT_SPAN = 100;

/** A bar as drawn: its rectangle in pixel coordinates (x0 <= x < x1, y0 <= y < y1, fractional) and colour. */
export interface Bar { x0: number; y0: number; x1: number; y1: number; colour: [number, number, number] }

/**
 * A colour whose luminance differs by at least BAR_CONTRAST from every value in [lo, hi] (the
 * background under and around the bar). Random when one is found in a few draws, else black or
 * white; one of them always fits because a gradient spans at most MAX_GRADIENT_SPAN.
 */
function contrasting(r: Rng, lo: number, hi: number): RGB {
  for (let k = 0; k < 50; k++) {
    const c = randomColour(r);
    const l = luminance(c);
    if (l <= lo - BAR_CONTRAST || l >= hi + BAR_CONTRAST) return c;
  }
  return lo >= BAR_CONTRAST ? [0, 0, 0] : [255, 255, 255];
}

/** Draws one sample of class `label` (0 horizontal, 1 vertical); deterministic in (seed, label, index). */
export function renderSample(label: number, index: number, size = 64, seed = 42): RawImage {
  return drawSample(label, index, size, seed).image;
}

/** Where the bars of a sample are, and their colours (what the visibility test measures). */
export function sampleBars(label: number, index: number, size = 64, seed = 42): Bar[] {
  return drawSample(label, index, size, seed).bars;
}

function drawSample(label: number, index: number, size: number, seed: number): { image: RawImage; bars: Bar[] } {
  const r = new Rng(seed * 1000003 + label * 7919 + index * 2 + 1);
  const bgA = randomColour(r);
  let bgB = bgA;
  if (r.random() < 0.5) {
    // A gradient whose ends differ too much leaves no colour that stands out along all of it.
    do bgB = randomColour(r); while (Math.abs(luminance(bgB) - luminance(bgA)) > MAX_GRADIENT_SPAN);
  }
  const angle = r.uniform(0, Math.PI * 2);
  const dx = Math.cos(angle), dy = Math.sin(angle);
  const noise = r.uniform(0, 12);
  const data = new Float32Array(size * size * 3);
  // Background: a linear gradient between two colours, or flat.
  const tAt = (x: number, y: number) => Math.min(1, Math.max(0, 0.5 + ((x / size - 0.5) * dx + (y / size - 0.5) * dy)));
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const t = tAt(x, y);
      const o = (y * size + x) * 3;
      for (let c = 0; c < 3; c++) data[o + c] = bgA[c] * (1 - t) + bgB[c] * t;
    }
  }
  const lA = luminance(bgA), lB = luminance(bgB);
  const bars: Bar[] = [];
  const count = 1 + r.int(3);
  for (let k = 0; k < count; k++) {
    const side = size * r.uniform(0.18, count === 1 ? 0.45 : 0.32);
    // A bar 3 to 6 times longer than thick (3 pixels at least), lying (class 0) or standing (class 1).
    const long = side * r.uniform(1.4, 2.0), thick = Math.max(3, long / r.uniform(3, 6));
    const w = label === 0 ? long : thick, h = label === 0 ? thick : long;
    // Wholly inside the image, and apart from the bars already drawn (a covered bar would not show).
    let placed: Bar | null = null;
    for (let tries = 0; tries < 20 && !placed; tries++) {
      const cx = r.uniform(w / 2 + 1, size - w / 2 - 1), cy = r.uniform(h / 2 + 1, size - h / 2 - 1);
      const b = { x0: cx - w / 2, y0: cy - h / 2, x1: cx + w / 2, y1: cy + h / 2, colour: [0, 0, 0] as RGB };
      if (bars.every((o) => b.x1 + 3 < o.x0 || o.x1 + 3 < b.x0 || b.y1 + 3 < o.y0 || o.y1 + 3 < b.y0)) placed = b;
    }
    if (!placed) continue;
    // The background's luminance range over the bar and a 3-pixel ring around it (linear in t: its corners bound it).
    const ts = [[placed.x0 - 3, placed.y0 - 3], [placed.x1 + 3, placed.y0 - 3], [placed.x0 - 3, placed.y1 + 3], [placed.x1 + 3, placed.y1 + 3]]
      .map(([x, y]) => tAt(Math.min(size, Math.max(0, x)), Math.min(size, Math.max(0, y))));
    const ls = ts.map((t) => lA * (1 - t) + lB * t);
    placed.colour = contrasting(r, Math.min(...ls), Math.max(...ls));
    paint(data, size, placed);
    bars.push(placed);
  }
  const out = new Uint8Array(size * size * 3);
  for (let i = 0; i < out.length; i++) out[i] = clampByte(data[i] + noise * r.normal());
  return { image: { width: size, height: size, data: out }, bars };
}

function clampByte(v: number): number { return v < 0 ? 0 : v > 255 ? 255 : Math.round(v); }

/** Fills the bar with 4x4 supersampling, so its edges are anti-aliased as in a photo. */
function paint(data: Float32Array, size: number, b: Bar): void {
  const x0 = Math.max(0, Math.floor(b.x0)), x1 = Math.min(size - 1, Math.ceil(b.x1));
  const y0 = Math.max(0, Math.floor(b.y0)), y1 = Math.min(size - 1, Math.ceil(b.y1));
  for (let y = y0; y <= y1; y++) {
    for (let x = x0; x <= x1; x++) {
      let hits = 0;
      for (let sy = 0; sy < 4; sy++) {
        for (let sx = 0; sx < 4; sx++) {
          const px = x + (sx + 0.5) / 4, py = y + (sy + 0.5) / 4;
          if (px >= b.x0 && px <= b.x1 && py >= b.y0 && py <= b.y1) hits++;
        }
      }
      if (hits === 0) continue;
      const a = hits / 16, o = (y * size + x) * 3;
      for (let c = 0; c < 3; c++) data[o + c] = data[o + c] * (1 - a) + b.colour[c] * a;
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
