/** The notebook's cells as runner steps, on convnet's real API. */
import { statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { ImageDataGenerator } from '../data/index.js';
import { imread } from '../io/image.js';
import { loadModel } from '../io/models/index.js';
import { Callback, type Logs } from '../models/index.js';
import { avgPool2d, maxPool2d } from '../ops/index.js';
import { correlate } from '../ops/ndimage.js';
import { getFilter } from '../ops/filters.js';
import { tensor, type Tensor } from '../tensor/index.js';
import { figure } from '../viz/index.js';
import type { NotebookContext, NotebookStep } from './runner.js';
import { compiledModelFromConfig } from './model.js';
import { NOTEBOOK_CONFIG } from './space.js';

/** The notebook's 5x5 example matrix. */
export const EXAMPLE_MATRIX = [[4, 1, 7, 2, 3], [8, 3, 1, 2, 2], [6, 5, 7, 4, 3], [2, 2, 3, 1, 3], [4, 3, 4, 2, 3]];
/** The notebook's vertical-edge filter for that example, as the notebook writes it (light to dark, left to right). */
export const EXAMPLE_FILTER = [[1, 0, -1], [1, 0, -1], [1, 0, -1]];
export const NOTEBOOK_FILTERS = ['vertical-edges', 'horizontal-edges', 'laplacian'] as const;
export const MODEL_FILE = 'cnn-dogs-cats.keras';

/** A 2-D array as NumPy prints it: `[[ -4   4 ...]\n [ -9 ...]]`. */
export function formatMatrix(rows: number[][]): string {
  const cells = rows.map((r) => r.map((v) => (Number.isInteger(v) ? String(v) : v.toFixed(4))));
  const w = Math.max(...cells.flat().map((c) => c.length));
  return '[' + cells.map((r, i) => (i ? ' ' : '') + '[' + r.map((c) => c.padStart(w)).join(' ') + ']').join('\n') + ']';
}

/** Keras's shape tuple: `(1, 153, 230, 1)`. */
export function fmtTuple(shape: readonly number[]): string { return `(${shape.join(', ')})`; }

function pyDict(d: Record<string, number>): string {
  return `{${Object.entries(d).map(([k, v]) => `'${k}': ${v}`).join(', ')}}`;
}

const correlateStep: NotebookStep = {
  name: 'correlate',
  async run(ctx) {
    const r = correlate(EXAMPLE_MATRIX, EXAMPLE_FILTER, { mode: 'constant' });
    ctx.log(formatMatrix(r.toArray() as number[][]));
    r.dispose();
    ctx.run.add({ type: 'text', title: ctx.t.correlate, text: `correlate(${JSON.stringify(EXAMPLE_MATRIX)},\n          ${JSON.stringify(EXAMPLE_FILTER)}, mode='constant')\n\n${ctx.transcript()}` });
  },
};

const filtersStep: NotebookStep = {
  name: 'filters',
  async run(ctx) {
    const img = await imread(ctx.o.imagePath, { asGray: true });
    for (const name of NOTEBOOK_FILTERS) {
      const map = correlate(img, getFilter(name).kernel);
      const label = ctx.t.filterNames[name] ?? name;
      const fig = figure({ figsize: [10, 4], dpi: 100 });
      fig.subplot(1, 2, 1).imshow(img, { cmap: 'gray' }).title(ctx.t.grayImage).axis('off');
      fig.subplot(1, 2, 2).imshow(map, { cmap: 'gray' }).title(label).axis('off');
      const f = ctx.figure(`filter-${name}.png`);
      await fig.savefig(f.path);
      ctx.log(`${ctx.t.filter(label)}: ${f.src}`);
      ctx.run.add({ type: 'figure', title: ctx.t.filter(label), src: f.src });
      if (name === 'laplacian') ctx.state.laplacian = map.keep();
      else map.dispose();
    }
    img.dispose();
  },
};

const poolingStep: NotebookStep = {
  name: 'pooling',
  async run(ctx) {
    const map = ctx.state.laplacian!;
    const x = map.reshape([1, map.shape[0], map.shape[1], 1]);
    ctx.log(`${ctx.t.originalShape}: ${fmtTuple(x.shape)}`);
    const fig = figure({ figsize: [12, 6], dpi: 100 });
    let mx = x, av = x;
    for (let i = 1; i <= 3; i++) {
      mx = maxPool2d(mx, { poolSize: [2, 2] });
      av = avgPool2d(av, { poolSize: [2, 2] });
      ctx.log(`${ctx.t.maxPooling} ${fmtTuple(mx.shape)}    ${ctx.t.avgPooling} ${fmtTuple(av.shape)}`);
      fig.subplot(2, 3, i).imshow(mx, { cmap: 'gray' }).title(`${ctx.t.maxPooling} ${fmtTuple(mx.shape)}`, { fontsize: 10 }).axis('off');
      fig.subplot(2, 3, 3 + i).imshow(av, { cmap: 'gray' }).title(`${ctx.t.avgPooling} ${fmtTuple(av.shape)}`, { fontsize: 10 }).axis('off');
    }
    const f = ctx.figure('pooling.png');
    await fig.savefig(f.path);
    ctx.run.add({ type: 'text', title: ctx.t.pooling, text: ctx.transcript() });
    ctx.run.add({ type: 'figure', title: ctx.t.pooling, src: f.src });
  },
};

const dataStep: NotebookStep = {
  name: 'data',
  async run(ctx) {
    const { o } = ctx;
    const gen = new ImageDataGenerator({ rescale: 1 / 255, validationSplit: 0.2 });
    const images = Object.values(o.data.files).reduce((n, f) => n + f.length, 0);
    // Keep decoded images in memory when they fit easily (the built-in set; not 12,000 photos at 150x150).
    const cache = images * o.targetSize * o.targetSize * 3 < 256 * 2 ** 20;
    const flow = (subset: 'training' | 'validation') => gen.flowFromDirectory(o.dataDir, {
      targetSize: [o.targetSize, o.targetSize], batchSize: o.batchSize, classMode: 'binary', seed: 42, shuffle: true, subset, cache, log: ctx.log,
    });
    ctx.state.train = await flow('training');
    ctx.state.validation = await flow('validation');
    ctx.log(`${ctx.t.classIndices}: ${pyDict(ctx.state.train.classIndices)}`);
    ctx.run.add({ type: 'text', title: ctx.t.data, text: ctx.transcript() });
  },
};

const summaryStep: NotebookStep = {
  name: 'summary',
  async run(ctx) {
    const model = compiledModelFromConfig(NOTEBOOK_CONFIG, ctx.o.targetSize, ctx.o.seed);
    model.summary((l) => ctx.log(l));
    ctx.state.model = model;
    ctx.run.add({ type: 'text', title: ctx.t.summary, text: ctx.transcript() });
  },
};

/** Writes the history after every epoch, so a served report draws the curves as they grow. */
class HistoryWriter extends Callback {
  history: Record<string, number[]> = {};
  lines: string[] = [];
  private t0 = 0;
  constructor(private ctx: NotebookContext) { super(); }
  async onEpochBegin(): Promise<void> { this.t0 = performance.now(); }
  async onEpochEnd(epoch: number, logs: Logs = {}): Promise<void> {
    for (const [k, v] of Object.entries(logs)) (this.history[k] ??= []).push(v);
    this.ctx.run.writeHistory('history.json', this.history);
    const s = ((performance.now() - this.t0) / 1000).toFixed(0);
    this.lines.push(`Epoch ${epoch + 1}/${this.params.epochs} - ${s}s - ${Object.entries(logs).map(([k, v]) => `${k}: ${v.toFixed(4)}`).join(' - ')}`);
  }
}

const trainStep: NotebookStep = {
  name: 'train',
  async run(ctx) {
    const { model, train, validation } = ctx.state;
    ctx.run.writeHistory('history.json', {});
    ctx.run.add({ type: 'curves', title: ctx.t.curves, src: 'history.json' });
    const writer = new HistoryWriter(ctx);
    const t0 = performance.now();
    const h = await model!.fit(train!, { epochs: ctx.o.epochs, validationData: validation!, callbacks: [writer] });
    ctx.state.history = h.history;
    const took = ((performance.now() - t0) / 1000).toFixed(1);
    ctx.run.add({ type: 'text', title: ctx.t.training, text: `${writer.lines.join('\n')}\n(${took} s)` });
  },
};

const saveLoadStep: NotebookStep = {
  name: 'save',
  async run(ctx) {
    const model = ctx.state.model!;
    const path = join(ctx.o.out, MODEL_FILE);
    await model.save(path);
    ctx.log(ctx.t.savedLine(MODEL_FILE, statSync(path).size / 1024));
    const loaded = await loadModel(path);
    const batch = await ctx.state.validation!.getBatch(0);
    const a = (await model.predict(batch.x, { verbose: 0 })).dataSync();
    const b = (await loaded.predict(batch.x, { verbose: 0 }) as Tensor).dataSync();
    let diff = 0;
    for (let i = 0; i < a.length; i++) diff = Math.max(diff, Math.abs(a[i] - b[i]));
    batch.x.dispose(); batch.y?.dispose();
    loaded.dispose?.();
    ctx.log(ctx.t.loadedLine(diff));
    if (!(diff < 1e-4)) throw new Error(`the model loaded from ${path} predicts differently (max difference ${diff})`);
    ctx.run.add({ type: 'text', title: ctx.t.saved, text: ctx.transcript() });
  },
};

/** An RGB image [H, W, 3] in [0, 1] with a coloured frame: green when right, red when wrong. */
function framed(pixels: ArrayLike<number>, h: number, w: number, right: boolean): Tensor {
  const out = Float32Array.from(pixels);
  const c = right ? [0.1, 0.7, 0.1] : [0.85, 0.1, 0.1];
  const t = Math.max(1, Math.round(Math.min(h, w) / 32));
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    if (y < t || y >= h - t || x < t || x >= w - t) for (let k = 0; k < 3; k++) out[(y * w + x) * 3 + k] = c[k];
  }
  return tensor(out, [h, w, 3]);
}

const predictionsStep: NotebookStep = {
  name: 'predictions',
  async run(ctx) {
    const val = ctx.state.validation!;
    val.reset();
    const batch = await val.getBatch(0);
    const n = Math.min(8, batch.x.shape[0]);
    const x = batch.x.sliceBatch(0, n);
    const p = (await ctx.state.model!.predict(x, { verbose: 0 })).dataSync();
    const y = batch.y!.dataSync();
    const [, h, w] = batch.x.shape;
    const fig = figure({ figsize: [12, 6.6], dpi: 100 });
    const pix = x.dataSync();
    for (let i = 0; i < n; i++) {
      const right = (p[i] > 0.5 ? 1 : 0) === y[i];
      const img = framed(pix.subarray(i * h * w * 3, (i + 1) * h * w * 3), h, w, right);
      fig.subplot(2, 4, i + 1).imshow(img).title(`${ctx.t.prediction}: ${p[i].toFixed(2)}`).axis('off');
      img.dispose();
      ctx.log(`${basename(val.filenames[val.lastBatch?.indices[i] ?? i] ?? '')}  ${ctx.t.prediction}: ${p[i].toFixed(2)}  (${y[i]})`);
    }
    batch.x.dispose(); batch.y?.dispose();
    const f = ctx.figure('predictions.png');
    await fig.savefig(f.path);
    ctx.run.add({ type: 'figure', title: ctx.t.predictions, src: f.src, caption: ctx.t.predictionsCaption });
  },
};

const evaluationStep: NotebookStep = {
  name: 'evaluation',
  async run(ctx) {
    const { o } = ctx;
    const gen = new ImageDataGenerator({ rescale: 1 / 255, validationSplit: 0.2 });
    const val = await gen.flowFromDirectory(o.dataDir, {
      targetSize: [o.targetSize, o.targetSize], batchSize: o.batchSize, classMode: 'binary', shuffle: false, subset: 'validation', verbose: false,
    });
    let p: ArrayLike<number>;
    try {
      p = (await ctx.state.model!.predict(val, { verbose: 0 })).dataSync();
    } finally {
      await val.close();
    }
    const labels = val.classes;
    const names = Object.keys(val.classIndices).sort((a, b) => val.classIndices[a] - val.classIndices[b]);
    const m = names.map(() => names.map(() => 0));
    const wrong: { i: number; p: number }[] = [];
    for (let i = 0; i < labels.length; i++) {
      const pred = p[i] > 0.5 ? 1 : 0;
      m[labels[i]][pred]++;
      if (pred !== labels[i]) wrong.push({ i, p: p[i] });
    }
    const acc = (labels.length - wrong.length) / labels.length;
    ctx.state.valAccuracy = acc;
    ctx.state.confusion = m;
    ctx.log(ctx.t.accuracyLine(acc, labels.length));
    ctx.run.add({ type: 'confusion', title: ctx.t.confusion, labels: names, matrix: m });
    ctx.run.add({ type: 'text', title: ctx.t.confusion, text: ctx.transcript() });
    wrong.sort((a, b) => Math.abs(b.p - 0.5) - Math.abs(a.p - 0.5));
    const worst = wrong.slice(0, 8);
    if (!worst.length) {
      ctx.run.add({ type: 'text', title: ctx.t.wrong, text: ctx.t.noneWrong });
      return;
    }
    const fig = figure({ figsize: [12, 6.6], dpi: 100 });
    for (let k = 0; k < worst.length; k++) {
      const img = await imread(val.filepaths[worst[k].i]);
      // The true class beside the prediction: what the model got wrong is visible at a glance.
      fig.subplot(2, 4, k + 1).imshow(img).title(`${names[labels[worst[k].i]]} · ${ctx.t.prediction}: ${worst[k].p.toFixed(2)}`, { fontsize: 11 }).axis('off');
      img.dispose();
    }
    const f = ctx.figure('most-wrong.png');
    await fig.savefig(f.path);
    ctx.run.add({ type: 'figure', title: ctx.t.wrong, src: f.src });
    ctx.run.add({
      type: 'table', title: ctx.t.wrong, columns: ctx.t.wrongColumns,
      rows: worst.map((w) => [val.filenames[w.i], names[labels[w.i]], Number(w.p.toFixed(4))]),
    });
  },
};

/** Stops the decode workers and frees what the steps kept. */
const closeStep: NotebookStep = {
  name: 'close',
  async run(ctx) {
    await ctx.state.train?.close();
    await ctx.state.validation?.close();
    ctx.state.laplacian?.dispose();
  },
};

/** Every step of the notebook, in order. */
export function notebookSteps(): NotebookStep[] {
  return [correlateStep, filtersStep, poolingStep, dataStep, summaryStep, trainStep, saveLoadStep, predictionsStep, evaluationStep, closeStep];
}
