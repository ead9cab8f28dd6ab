/**
 * `model.summary()`: Keras 3's table, character for character as Keras prints it without colours
 * (rich's heavy-head box, one row per layer, long cells wrapped and cut with an ellipsis), then
 * Total / Trainable / Non-trainable params with their sizes ("830,849 (3.17 MB)").
 */
import { fmtShape } from '../tensor/index.js';
import type { Layer, Shape, Variable } from '../layers/index.js';

export interface SummaryOptions {
  /** Total width; Keras's default is min(88, terminal columns − 4), 76 on an 80-column terminal or a pipe. */
  lineLength?: number;
  /** Relative column ends (Keras: [0.45, 0.80, 1.0]). */
  positions?: number[];
  /** Called once per line (console.log by default). */
  printFn?: (line: string) => void;
}

export interface SummaryModel {
  name: string;
  layers: Layer[];
  outputShapes(): (Shape | null)[];
  trainableWeights: Variable[];
  nonTrainableWeights: Variable[];
  optimizerVariables(): Variable[] | null;
  /**
   * A functional model that is not a plain chain: per layer, the tensors it reads
   * ("conv2d[0][0]"); the summary then has Keras's "Connected to" column. Null for chains.
   */
  connections?(): string[][] | null;
}

/** Keras's readable_memory_size: 1024-based units with two decimals. */
export function readableMemorySize(bytes: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB', 'PB'];
  for (const u of units) {
    if (bytes / 1024 < 1) return `${bytes.toFixed(2)} ${u}`;
    bytes /= 1024;
  }
  return `${bytes.toFixed(2)} PB`;
}

/** 1234567 -> '1,234,567'. */
export function withCommas(n: number): string { return Math.round(n).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ','); }

/** Python's round(): halves go to the even neighbour. */
function pyRound(x: number): number {
  const f = Math.floor(x), d = x - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

/** rich's ratio_reduce: take `total` away from `values` in proportion to `ratios`. */
function ratioReduce(total: number, ratios: number[], maximums: number[], values: number[]): number[] {
  const r = ratios.map((x, i) => (maximums[i] ? x : 0));
  let totalRatio = r.reduce((a, b) => a + b, 0);
  if (!totalRatio) return values.slice();
  let remaining = total;
  return values.map((v, i) => {
    if (r[i] && totalRatio > 0) {
      const d = Math.min(maximums[i], pyRound((r[i] * remaining) / totalRatio));
      remaining -= d; totalRatio -= r[i];
      return v - d;
    }
    return v;
  });
}

/** Content widths of the columns, as rich computes them for Keras's fixed-width columns. */
export function columnWidths(lineLength: number, positions: number[]): number[] {
  const widths: number[] = [];
  let cur = 0;
  for (const p of positions) {
    const w = Math.floor(p * lineLength) - cur;
    if (w < 4) throw new RangeError('convnet: summary: insufficient line length to print the summary');
    widths.push(w); cur += w;
  }
  // Cells carry one space of padding each side; the borders take (columns + 1) characters.
  let cells = widths.map((w) => w + 2);
  const maxWidth = lineLength - (positions.length + 1);
  const total = cells.reduce((a, b) => a + b, 0);
  if (total > maxWidth) cells = ratioReduce(total - maxWidth, cells.map(() => 1), cells, cells);
  return cells.map((c) => c - 2);
}

/** Word-wraps `text` to `width` columns; a word longer than the width is cut with '…' (rich's 'ellipsis' overflow). */
export function wrapCell(text: string, width: number): string[] {
  const words = text.split(' ').filter((w) => w.length > 0);
  const lines: string[] = [];
  let cur = '';
  for (const w of words) {
    if (!cur) cur = w;
    else if (cur.length + 1 + w.length <= width) cur += ' ' + w;
    else { lines.push(cur); cur = w; }
  }
  if (cur || lines.length === 0) lines.push(cur);
  return lines.map((l) => ([...l].length > width ? [...l].slice(0, width - 1).join('') + '…' : l));
}

function pad(s: string, width: number, align: 'left' | 'right'): string {
  const n = width - [...s].length;
  return align === 'left' ? s + ' '.repeat(Math.max(0, n)) : ' '.repeat(Math.max(0, n)) + s;
}

/** The summary's lines (no trailing newline in each). */
export function summaryLines(model: SummaryModel, opts: SummaryOptions = {}): string[] {
  const cols = typeof process !== 'undefined' && process.stdout?.isTTY && process.stdout.columns
    ? process.stdout.columns
    : Number(typeof process !== 'undefined' ? process.env?.COLUMNS : undefined) || 80;
  const conns = model.connections?.() ?? null;
  // Keras: 88 columns and three for chains; 108 and a fourth, "Connected to", for other graphs.
  const lineLength = opts.lineLength ?? Math.min(conns ? 108 : 88, cols - 4);
  const positions = opts.positions ?? (conns ? [0.3, 0.56, 0.74, 1.0] : [0.45, 0.8, 1.0]);
  const widths = columnWidths(lineLength, positions);
  const align: ('left' | 'right')[] = conns ? ['left', 'left', 'right', 'left'] : ['left', 'left', 'right'];
  const header = conns ? ['Layer (type)', 'Output Shape', 'Param #', 'Connected to'] : ['Layer (type)', 'Output Shape', 'Param #'];

  const shapes = model.outputShapes();
  const rows = model.layers.map((l, i) => {
    const shape = shapes[i];
    const row = [
      `${l.name} (${l.className})`,
      shape ? fmtShape(shape) : '?',
      l.built ? withCommas(l.countParams()) : '0 (unbuilt)',
    ];
    if (conns) row.push(conns[i].length ? conns[i].join(', ') : '-');
    return row;
  });

  const hr = (l: string, m: string, r: string, ch: string) => l + widths.map((w) => ch.repeat(w + 2)).join(m) + r;
  const row = (cells: string[], v: string) => {
    const wrapped = cells.map((c, j) => wrapCell(c, widths[j]));
    const h = Math.max(...wrapped.map((w) => w.length));
    const out: string[] = [];
    for (let k = 0; k < h; k++) out.push(v + wrapped.map((w, j) => ' ' + pad(w[k] ?? '', widths[j], align[j]) + ' ').join(v) + v);
    return out;
  };

  const lines: string[] = [`Model: "${model.name}"`];
  lines.push(hr('┏', '┳', '┓', '━'));
  lines.push(...row(header, '┃'));
  lines.push(hr('┡', '╇', '┩', '━'));
  rows.forEach((r, i) => {
    if (i > 0) lines.push(hr('├', '┼', '┤', '─'));
    lines.push(...row(r, '│'));
  });
  lines.push(hr('└', '┴', '┘', '─'));

  const count = (ws: Variable[]) => ws.reduce((n, w) => n + w.size, 0);
  const bytes = (ws: Variable[]) => ws.reduce((n, w) => n + w.size * (w.value.dtype === 'float64' ? 8 : w.value.dtype === 'uint8' ? 1 : 4), 0);
  const tw = model.trainableWeights, nw = model.nonTrainableWeights;
  const ov = model.optimizerVariables();
  const total = count(tw) + count(nw) + (ov ? count(ov) : 0);
  const totalBytes = bytes(tw) + bytes(nw) + (ov ? bytes(ov) : 0);
  lines.push(` Total params: ${withCommas(total)} (${readableMemorySize(totalBytes)})`);
  lines.push(` Trainable params: ${withCommas(count(tw))} (${readableMemorySize(bytes(tw))})`);
  lines.push(` Non-trainable params: ${withCommas(count(nw))} (${readableMemorySize(bytes(nw))})`);
  if (ov) lines.push(` Optimizer params: ${withCommas(count(ov))} (${readableMemorySize(bytes(ov))})`);
  return lines;
}
