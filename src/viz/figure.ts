/**
 * A small matplotlib-like figure API for images: `figure({ figsize, dpi })`, `subplot(rows, cols,
 * index)`, `imshow(t, { cmap, vmin, vmax })`, `title`, `axis('off')`, `suptitle`, `savefig(path)`.
 *
 * It places things as matplotlib does with its defaults: subplots on a grid inside the figure's
 * margins (left 0.125, right 0.9, bottom 0.11, top 0.88, spacing 0.2), each image kept at equal
 * aspect and centred in its cell, titles 12 pt DejaVu Sans 6 pt above the image, ticks and frame
 * unless `axis('off')`. Each `imshow` scales its own data to its own min and max (matplotlib's
 * autoscaling) unless vmin / vmax are given, and maps it through a 256-entry matplotlib colormap.
 *
 * Rendering goes through a display list, drawn with @napi-rs/canvas for PNG or written as SVG
 * (images embedded as PNG, text as text).
 */
import { writeFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { createCanvas } from '@napi-rs/canvas';
import type { Tensor } from '../tensor/index.js';
import { fmtShape } from '../tensor/index.js';
import { COLORMAP_TABLES } from './colormaps.js';

export interface FigureOptions {
  /** Width and height in inches (default [6.4, 4.8], as matplotlib). */
  figsize?: [number, number];
  /** Pixels per inch (default 100). */
  dpi?: number;
  /** Background colour (default white). */
  facecolor?: string;
}

export interface ImshowOptions {
  /** Colormap name for 2-D data (default 'viridis', as matplotlib); ignored for RGB(A) images. */
  cmap?: string;
  /** Data value mapped to the first colour (default: the data's minimum). */
  vmin?: number;
  /** Data value mapped to the last colour (default: the data's maximum). */
  vmax?: number;
}

export interface TitleOptions {
  /** Font size in points (default 12, matplotlib's 'large'). */
  fontsize?: number;
}

/** One thing to draw, in figure pixels (origin top left). */
export type Drawable =
  | { kind: 'image'; x: number; y: number; w: number; h: number; rgba: Uint8ClampedArray }
  | { kind: 'text'; x: number; y: number; text: string; size: number; align: 'left' | 'center' | 'right'; baseline: 'alphabetic' | 'top' | 'middle' }
  | { kind: 'line'; x1: number; y1: number; x2: number; y2: number; width: number };

const FONT = '"DejaVu Sans", "Bitstream Vera Sans", "Liberation Sans", Arial, Helvetica, sans-serif';
const PARS = { left: 0.125, right: 0.9, bottom: 0.11, top: 0.88, wspace: 0.2, hspace: 0.2 };

/** Names of the colormaps `imshow` knows. */
export function colormapNames(): string[] { return Object.keys(COLORMAP_TABLES); }

const lutCache = new Map<string, Uint8Array>();
/** A colormap as 256 RGB triples. */
export function colormap(name: string): Uint8Array {
  let lut = lutCache.get(name);
  if (lut) return lut;
  const hex = COLORMAP_TABLES[name];
  if (!hex) throw new RangeError(`convnet: unknown colormap '${name}'; use one of ${colormapNames().join(', ')}`);
  lut = new Uint8Array(768);
  for (let i = 0; i < 768; i++) lut[i] = parseInt(hex.substr(i * 2, 2), 16);
  lutCache.set(name, lut);
  return lut;
}

/** Image data kept by an Axes: 2-D values (colormapped at draw time) or RGB(A) bytes. */
interface ImageData2 {
  rows: number; cols: number;
  /** For scalar images: the values; for RGB(A): null. */
  values: Float64Array | null;
  rgba: Uint8ClampedArray | null;
  cmap: string; vmin: number; vmax: number;
}

export class Axes {
  image: ImageData2 | null = null;
  titleText = '';
  titleSize = 12;
  axisOn = true;
  constructor(readonly figure: Figure, readonly rows: number, readonly cols: number, readonly index: number) {}

  /** Shows a 2-D map through a colormap, or an RGB(A) image [H, W, 3|4]; size-1 axes (batch, channel) are dropped. */
  imshow(data: Tensor | number[][], opts: ImshowOptions = {}): this {
    this.image = toImage(data, opts);
    return this;
  }
  /** The title above the image (matplotlib's set_title). */
  title(text: string, opts: TitleOptions = {}): this {
    this.titleText = String(text);
    if (opts.fontsize) this.titleSize = opts.fontsize;
    return this;
  }
  /** 'off' hides the frame and ticks, 'on' shows them. */
  axis(state: 'on' | 'off' | boolean): this {
    this.axisOn = state === true || state === 'on';
    return this;
  }
  /** The (vmin, vmax) the colormap spans, after autoscaling. */
  get clim(): [number, number] | null { return this.image && this.image.values ? [this.image.vmin, this.image.vmax] : null; }
}

function toImage(data: Tensor | number[][], opts: ImshowOptions): ImageData2 {
  let shape: number[];
  let vals: ArrayLike<number>;
  let dtype = 'float64';
  if (Array.isArray(data)) {
    shape = [data.length, data[0]?.length ?? 0];
    vals = data.flat();
  } else {
    data.assertLive('imshow');
    shape = data.shape.slice();
    vals = data.dataSync();
    dtype = data.dtype;
  }
  // Drop a batch of one and a single channel: [1, H, W, 1] -> [H, W]; [1, H, W, 3] -> [H, W, 3].
  const s = shape.slice();
  if (s.length >= 3 && s[s.length - 1] === 1) s.pop();
  while (s.length > 2 && s[0] === 1) {
    if (s.length === 3 && (s[2] === 3 || s[2] === 4)) break;
    s.shift();
  }
  if (s.length === 3 && (s[2] === 3 || s[2] === 4)) {
    const [rows, cols, ch] = s;
    const rgba = new Uint8ClampedArray(rows * cols * 4);
    for (let i = 0; i < rows * cols; i++) {
      for (let c = 0; c < 3; c++) {
        const v = vals[i * ch + c];
        rgba[i * 4 + c] = dtype === 'uint8' || dtype === 'int32' ? v : Math.floor(Math.min(1, Math.max(0, v)) * 255);
      }
      rgba[i * 4 + 3] = ch === 4 ? (dtype === 'uint8' || dtype === 'int32' ? vals[i * ch + 3] : Math.floor(Math.min(1, Math.max(0, vals[i * ch + 3])) * 255)) : 255;
    }
    return { rows, cols, values: null, rgba, cmap: '', vmin: 0, vmax: 1 };
  }
  if (s.length !== 2) {
    throw new RangeError(`convnet: imshow: expected a 2-D map, an RGB(A) image [H, W, 3|4] or such with size-1 axes, got shape ${fmtShape(shape)}`);
  }
  const cmap = opts.cmap ?? 'viridis';
  colormap(cmap); // validate now, not at savefig
  const values = Float64Array.from(vals);
  let lo = Infinity, hi = -Infinity;
  for (const v of values) { if (v < lo) lo = v; if (v > hi) hi = v; }
  if (lo === Infinity) { lo = 0; hi = 1; }
  return { rows: s[0], cols: s[1], values, rgba: null, cmap, vmin: opts.vmin ?? lo, vmax: opts.vmax ?? hi };
}

export class Figure {
  readonly width: number;
  readonly height: number;
  readonly dpi: number;
  readonly facecolor: string;
  readonly axes: Axes[] = [];
  private current: Axes | null = null;
  private suptitleText = '';

  constructor(opts: FigureOptions = {}) {
    const [wi, hi] = opts.figsize ?? [6.4, 4.8];
    this.dpi = opts.dpi ?? 100;
    if (!(wi > 0 && hi > 0 && this.dpi > 0)) throw new RangeError(`convnet: figure: figsize and dpi must be positive, got ${JSON.stringify(opts)}`);
    this.width = Math.round(wi * this.dpi);
    this.height = Math.round(hi * this.dpi);
    this.facecolor = opts.facecolor ?? '#ffffff';
  }

  /** Selects (creating if needed) the subplot at 1-based `index` of a rows x cols grid; `subplot(121)` works too. */
  subplot(rows: number, cols?: number, index?: number): Axes {
    if (cols === undefined && index === undefined && rows >= 111 && rows <= 999) {
      index = rows % 10; cols = Math.floor(rows / 10) % 10; rows = Math.floor(rows / 100);
    }
    if (!Number.isInteger(rows) || !Number.isInteger(cols) || !Number.isInteger(index) || rows < 1 || cols! < 1 || index! < 1 || index! > rows * cols!) {
      throw new RangeError(`convnet: subplot(${rows}, ${cols}, ${index}): index must be between 1 and rows * cols`);
    }
    let ax = this.axes.find((a) => a.rows === rows && a.cols === cols && a.index === index);
    if (!ax) { ax = new Axes(this, rows, cols!, index!); this.axes.push(ax); }
    this.current = ax;
    return ax;
  }
  /** The current axes (a 1x1 subplot when none was made). */
  gca(): Axes { return this.current ?? this.subplot(1, 1, 1); }
  imshow(data: Tensor | number[][], opts?: ImshowOptions): Axes { return this.gca().imshow(data, opts); }
  title(text: string, opts?: TitleOptions): Axes { return this.gca().title(text, opts); }
  axis(state: 'on' | 'off' | boolean): Axes { return this.gca().axis(state); }
  /** A title over the whole figure. */
  suptitle(text: string): this { this.suptitleText = text; return this; }

  /** Pixels per point. */
  private get pt(): number { return this.dpi / 72; }

  /** Where a subplot's image lands, in figure pixels: [x, y, w, h]. */
  imageRect(ax: Axes): [number, number, number, number] {
    const W = this.width, H = this.height;
    const left = PARS.left * W, right = PARS.right * W, top = (1 - PARS.top) * H, bottom = (1 - PARS.bottom) * H;
    const cw = (right - left) / (ax.cols + PARS.wspace * (ax.cols - 1));
    const ch = (bottom - top) / (ax.rows + PARS.hspace * (ax.rows - 1));
    const r = Math.floor((ax.index - 1) / ax.cols), c = (ax.index - 1) % ax.cols;
    const x0 = left + c * cw * (1 + PARS.wspace), y0 = top + r * ch * (1 + PARS.hspace);
    if (!ax.image) return [x0, y0, cw, ch];
    // aspect 'equal': shrink the box to the image's shape, centred (matplotlib's anchor 'C').
    const scale = Math.min(cw / ax.image.cols, ch / ax.image.rows);
    const w = ax.image.cols * scale, h = ax.image.rows * scale;
    return [x0 + (cw - w) / 2, y0 + (ch - h) / 2, w, h];
  }

  /** The figure as drawing primitives in pixels. */
  displayList(): Drawable[] {
    const out: Drawable[] = [];
    const pt = this.pt;
    for (const ax of this.axes) {
      const [x, y, w, h] = this.imageRect(ax);
      if (ax.image) {
        const px = Math.max(1, Math.round(x)), py = Math.max(1, Math.round(y));
        const pw = Math.max(1, Math.round(x + w) - px), ph = Math.max(1, Math.round(y + h) - py);
        out.push({ kind: 'image', x: px, y: py, w: pw, h: ph, rgba: renderImage(ax.image, pw, ph) });
      }
      if (ax.axisOn) out.push(...frameAndTicks(ax, x, y, w, h, pt));
      if (ax.titleText) {
        out.push({ kind: 'text', x: x + w / 2, y: y - 6 * pt, text: ax.titleText, size: ax.titleSize * pt, align: 'center', baseline: 'alphabetic' });
      }
    }
    if (this.suptitleText) {
      out.push({ kind: 'text', x: this.width / 2, y: 0.02 * this.height, text: this.suptitleText, size: 12 * pt, align: 'center', baseline: 'top' });
    }
    return out;
  }

  /** PNG bytes. */
  toPNG(): Buffer {
    const canvas = createCanvas(this.width, this.height);
    const ctx = canvas.getContext('2d');
    ctx.fillStyle = this.facecolor;
    ctx.fillRect(0, 0, this.width, this.height);
    for (const d of this.displayList()) {
      if (d.kind === 'image') {
        const img = ctx.createImageData(d.w, d.h);
        img.data.set(d.rgba);
        ctx.putImageData(img, d.x, d.y);
      } else if (d.kind === 'line') {
        ctx.strokeStyle = '#000000';
        ctx.lineWidth = d.width;
        ctx.beginPath(); ctx.moveTo(d.x1, d.y1); ctx.lineTo(d.x2, d.y2); ctx.stroke();
      } else {
        ctx.fillStyle = '#000000';
        ctx.font = `${d.size.toFixed(2)}px ${FONT}`;
        ctx.textAlign = d.align;
        ctx.textBaseline = d.baseline;
        ctx.fillText(d.text, d.x, d.y);
      }
    }
    return canvas.toBuffer('image/png');
  }

  /** SVG text: images embedded as PNG, titles and tick labels as text. */
  toSVG(): string {
    const parts = [`<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="${this.width}" height="${this.height}" viewBox="0 0 ${this.width} ${this.height}">`,
      `<rect width="100%" height="100%" fill="${esc(this.facecolor)}"/>`];
    for (const d of this.displayList()) {
      if (d.kind === 'image') {
        const c = createCanvas(d.w, d.h);
        const ctx = c.getContext('2d');
        const img = ctx.createImageData(d.w, d.h);
        img.data.set(d.rgba);
        ctx.putImageData(img, 0, 0);
        parts.push(`<image x="${d.x}" y="${d.y}" width="${d.w}" height="${d.h}" style="image-rendering:pixelated" xlink:href="data:image/png;base64,${c.toBuffer('image/png').toString('base64')}"/>`);
      } else if (d.kind === 'line') {
        parts.push(`<line x1="${d.x1.toFixed(2)}" y1="${d.y1.toFixed(2)}" x2="${d.x2.toFixed(2)}" y2="${d.y2.toFixed(2)}" stroke="#000" stroke-width="${d.width.toFixed(2)}"/>`);
      } else {
        const anchor = d.align === 'center' ? 'middle' : d.align === 'left' ? 'start' : 'end';
        const base = d.baseline === 'top' ? 'hanging' : d.baseline === 'middle' ? 'central' : 'alphabetic';
        parts.push(`<text x="${d.x.toFixed(2)}" y="${d.y.toFixed(2)}" font-family='${FONT.replace(/'/g, '')}' font-size="${d.size.toFixed(2)}" text-anchor="${anchor}" dominant-baseline="${base}">${esc(d.text)}</text>`);
      }
    }
    parts.push('</svg>');
    return parts.join('\n');
  }

  /** Writes the figure; the format follows the extension (.png or .svg). */
  async savefig(path: string): Promise<void> {
    const ext = extname(path).toLowerCase();
    if (ext === '.png') await writeFile(path, this.toPNG());
    else if (ext === '.svg') await writeFile(path, this.toSVG());
    else throw new RangeError(`convnet: savefig('${path}'): unknown extension '${ext}'; use .png or .svg`);
  }
}

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/**
 * Resamples an image to w x h screen pixels (nearest when enlarging, the mean of the covered
 * data pixels when shrinking, so a large map does not alias) and colours it.
 */
function renderImage(img: ImageData2, w: number, h: number): Uint8ClampedArray {
  const out = new Uint8ClampedArray(w * h * 4);
  const sx = img.cols / w, sy = img.rows / h;
  const lut = img.values ? colormap(img.cmap) : null;
  const span = img.vmax - img.vmin;
  const channels = img.values ? 1 : 4;
  const acc = new Float64Array(channels);
  for (let y = 0; y < h; y++) {
    const r0 = Math.floor(y * sy), r1 = Math.max(r0 + 1, Math.min(img.rows, Math.floor((y + 1) * sy)));
    for (let x = 0; x < w; x++) {
      const c0 = Math.floor(x * sx), c1 = Math.max(c0 + 1, Math.min(img.cols, Math.floor((x + 1) * sx)));
      acc.fill(0);
      for (let r = r0; r < r1; r++) {
        for (let c = c0; c < c1; c++) {
          const i = r * img.cols + c;
          if (img.values) acc[0] += img.values[i];
          else for (let k = 0; k < 4; k++) acc[k] += img.rgba![i * 4 + k];
        }
      }
      const n = (r1 - r0) * (c1 - c0);
      const o = (y * w + x) * 4;
      if (lut) {
        const v = acc[0] / n;
        let idx: number;
        if (Number.isNaN(v)) { out[o + 3] = 0; continue; }
        if (!(span > 0)) idx = 0;
        else {
          // matplotlib: Normalize, then int(x * N) with x == 1 on the last colour, clipped to the ends.
          const t = (v - img.vmin) / span;
          idx = t >= 1 ? 255 : t < 0 ? 0 : Math.floor(t * 256);
        }
        out[o] = lut[idx * 3]; out[o + 1] = lut[idx * 3 + 1]; out[o + 2] = lut[idx * 3 + 2]; out[o + 3] = 255;
      } else {
        for (let k = 0; k < 4; k++) out[o + k] = Math.round(acc[k] / n);
      }
    }
  }
  return out;
}

/** Nice tick positions within [lo, hi] (matplotlib's MaxNLocator with steps 1, 2, 2.5, 5, 10). */
export function niceTicks(lo: number, hi: number, maxTicks: number): number[] {
  const span = hi - lo;
  if (!(span > 0)) return [lo];
  const raw = span / Math.max(1, maxTicks - 1);
  const mag = 10 ** Math.floor(Math.log10(raw));
  let step = mag * 10;
  for (const m of [1, 2, 2.5, 5, 10]) { if (m * mag >= raw) { step = m * mag; break; } }
  const ticks: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + 1e-9 * step; v += step) ticks.push(Math.round(v / step) * step + 0); // + 0 turns -0 into 0
  return ticks;
}

/** Tick labels as matplotlib's ScalarFormatter writes them: one number of decimals for the whole axis, a real minus sign. */
function fmtTicks(ticks: number[]): string[] {
  const decimals = Math.max(0, ...ticks.map((v) => {
    const s = Number(v.toPrecision(6)).toString();
    const dot = s.indexOf('.');
    return dot < 0 ? 0 : s.length - dot - 1;
  }));
  return ticks.map((v) => {
    const s = v.toFixed(decimals);
    return s.startsWith('-') ? '\u2212' + s.slice(1) : s;
  });
}

/** The frame, outward ticks (3.5 pt) and 10 pt labels, as matplotlib draws an image's axes. */
function frameAndTicks(ax: Axes, x: number, y: number, w: number, h: number, pt: number): Drawable[] {
  const lw = 0.8 * pt;
  const out: Drawable[] = [
    { kind: 'line', x1: x, y1: y, x2: x + w, y2: y, width: lw },
    { kind: 'line', x1: x, y1: y + h, x2: x + w, y2: y + h, width: lw },
    { kind: 'line', x1: x, y1: y, x2: x, y2: y + h, width: lw },
    { kind: 'line', x1: x + w, y1: y, x2: x + w, y2: y + h, width: lw },
  ];
  if (!ax.image) return out;
  const { rows, cols } = ax.image;
  const tick = 3.5 * pt, pad = 3.5 * pt, font = 10 * pt;
  const maxX = Math.max(2, Math.min(9, Math.floor(w / (font * 4.5)) + 1));
  const maxY = Math.max(2, Math.min(9, Math.floor(h / (font * 2.5)) + 1));
  // imshow's extent: pixel centres at integers, edges at -0.5 and n - 0.5; y grows downwards.
  const xt = niceTicks(-0.5, cols - 0.5, maxX), xl = fmtTicks(xt);
  xt.forEach((v, i) => {
    const px = x + ((v + 0.5) / cols) * w;
    out.push({ kind: 'line', x1: px, y1: y + h, x2: px, y2: y + h + tick, width: lw });
    out.push({ kind: 'text', x: px, y: y + h + tick + pad, text: xl[i], size: font, align: 'center', baseline: 'top' });
  });
  const yt = niceTicks(-0.5, rows - 0.5, maxY), yl = fmtTicks(yt);
  yt.forEach((v, i) => {
    const py = y + ((v + 0.5) / rows) * h;
    out.push({ kind: 'line', x1: x - tick, y1: py, x2: x, y2: py, width: lw });
    out.push({ kind: 'text', x: x - tick - pad, y: py, text: yl[i], size: font, align: 'right', baseline: 'middle' });
  });
  return out;
}

// ---- pyplot-style state ----------------------------------------------------------------------

let currentFigure: Figure | null = null;

/** Starts a new figure and makes it current (plt.figure). */
export function figure(opts: FigureOptions = {}): Figure {
  currentFigure = new Figure(opts);
  return currentFigure;
}
/** The current figure (a default one when none was made). */
export function gcf(): Figure { return currentFigure ?? figure(); }
/** The current axes of the current figure. */
export function gca(): Axes { return gcf().gca(); }
/** plt.subplot(rows, cols, index) or plt.subplot(121). */
export function subplot(rows: number, cols?: number, index?: number): Axes { return gcf().subplot(rows, cols, index); }
/** plt.imshow on the current axes. */
export function imshow(data: Tensor | number[][], opts?: ImshowOptions): Axes { return gcf().imshow(data, opts); }
/** plt.title on the current axes. */
export function title(text: string, opts?: TitleOptions): Axes { return gcf().title(text, opts); }
/** plt.axis('off') on the current axes. */
export function axis(state: 'on' | 'off' | boolean): Axes { return gcf().axis(state); }
/** plt.suptitle on the current figure. */
export function suptitle(text: string): Figure { return gcf().suptitle(text); }
/** plt.savefig: writes the current figure (.png or .svg). */
export async function savefig(path: string): Promise<void> { await gcf().savefig(path); }
/** plt.close(): forgets the current figure. */
export function close(): void { currentFigure = null; }
