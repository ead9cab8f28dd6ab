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
import { classModeFor, compiledModelFromConfig } from './model.js';
import { NOTEBOOK_CONFIG } from './space.js';

// The example, the filters' names and the printing helpers live in examples.ts (no Node imports: the web page uses them too).
import { EXAMPLE_MATRIX, EXAMPLE_FILTER, NOTEBOOK_FILTERS, MODEL_FILE, formatMatrix, fmtTuple } from './examples.js';
export { EXAMPLE_MATRIX, EXAMPLE_FILTER, NOTEBOOK_FILTERS, MODEL_FILE, formatMatrix, fmtTuple } from './examples.js';

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
    // Two classes: 0/1 labels and one sigmoid, as the notebook; three or more: one-hot labels and a
    // softmax over them, what a Keras user switches to (a sigmoid on labels 0/1/2 learns nothing).
    const classMode = classModeFor(o.data.classes.length);
    // Decoded images are cached after the first epoch: in memory when they fit the budget, else in a
    // cache file (12,001 photos at 150x150 are 810 MB as uint8), so later epochs decode nothing.
    const cache = 'auto' as const;
    const flow = (subset: 'training' | 'validation') => gen.flowFromDirectory(o.dataDir, {
      targetSize: [o.targetSize, o.targetSize], batchSize: o.batchSize, classMode, seed: 42, shuffle: true, subset, cache, log: ctx.log,
    });
    ctx.state.train = await flow('training');
    ctx.state.validation = await flow('validation');
    ctx.log(`${ctx.t.classIndices}: ${pyDict(ctx.state.train.classIndices)}`);
    const ci = ctx.state.train.classIndices;
    ctx.state.classNames = Object.keys(ci).sort((a, b) => ci[a] - ci[b]);
    ctx.state.classMode = classMode;
    ctx.log(ctx.t.classModeLine(ctx.state.classNames.length, classMode));
    ctx.run.add({ type: 'text', title: ctx.t.data, text: ctx.transcript() });
  },
};

const summaryStep: NotebookStep = {
  name: 'summary',
  async run(ctx) {
    const model = compiledModelFromConfig(NOTEBOOK_CONFIG, ctx.o.targetSize, ctx.o.seed, ctx.state.classNames?.length ?? 2);
    model.summary((l) => ctx.log(l));
    ctx.state.model = model;
    ctx.run.add({ type: 'text', title: ctx.t.summary, text: ctx.transcript() });
  },
};

/**
 * Writes the history after every epoch, so a served report draws the curves as they grow, and
 * the epoch lines into the "Training" section (`textIndex` in run.json).
 */
class HistoryWriter extends Callback {
  history: Record<string, number[]> = {};
  lines: string[] = [];
  private t0 = 0;
  constructor(private ctx: NotebookContext, private textIndex: number) { super(); }
  async onEpochBegin(): Promise<void> { this.t0 = performance.now(); }
  async onEpochEnd(epoch: number, logs: Logs = {}): Promise<void> {
    for (const [k, v] of Object.entries(logs)) (this.history[k] ??= []).push(v);
    this.ctx.run.writeHistory('history.json', this.history);
    const s = ((performance.now() - this.t0) / 1000).toFixed(0);
    this.lines.push(`Epoch ${epoch + 1}/${this.params.epochs} - ${s}s - ${Object.entries(logs).map(([k, v]) => `${k}: ${v.toFixed(4)}`).join(' - ')}`);
    this.ctx.run.update(this.textIndex, { type: 'text', title: this.ctx.t.training, text: this.lines.join('\n') });
  }
}

const trainStep: NotebookStep = {
  name: 'train',
  async run(ctx) {
    const { model, train, validation } = ctx.state;
    // "Training" (its epoch lines, filled in as they come), then its curves.
    const textIndex = ctx.run.manifest.sections.length;
    ctx.run.add({ type: 'text', title: ctx.t.training, text: ctx.t.trainingRunning });
    ctx.run.writeHistory('history.json', {});
    ctx.run.add({ type: 'curves', title: ctx.t.curves, src: 'history.json' });
    const writer = new HistoryWriter(ctx, textIndex);
    const t0 = performance.now();
    const h = await model!.fit(train!, { epochs: ctx.o.epochs, validationData: validation!, callbacks: [writer], signal: ctx.o.signal });
    ctx.state.history = h.history;
    if (h.stopReason === 'interrupted') {
      ctx.state.interruptedNote = `training stopped by Ctrl-C in epoch ${h.epoch.length} of ${ctx.o.epochs}; the steps after it used the model as it was`;
    }
    const took = ((performance.now() - t0) / 1000).toFixed(1);
    ctx.run.update(textIndex, { type: 'text', title: ctx.t.training, text: `${writer.lines.join('\n')}\n(${took} s)` });
  },
};

const saveLoadStep: NotebookStep = {
  name: 'save',
  async run(ctx) {
    const model = ctx.state.model!;
    const path = join(ctx.o.out, MODEL_FILE);
    // The class names go into metadata.json, so `convnet predict` names the classes with no --classes.
    await model.save(path, { classNames: ctx.state.classNames });
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

/** One prediction read the way the labels were fed: the class, its probability, and how sure the model is. */
interface Decision { cls: number; prob: number; sure: number }

/**
 * Binary: `p[i]` is the probability of class 1 (threshold 0.5); `sure` is the distance from 0.5.
 * Categorical: row i of `p` holds K probabilities; the class is the argmax and `sure` its probability.
 */
export function decide(p: ArrayLike<number>, i: number, k: number, mode: 'binary' | 'categorical'): Decision {
  if (mode === 'binary') return { cls: p[i] > 0.5 ? 1 : 0, prob: p[i], sure: Math.abs(p[i] - 0.5) };
  let best = 0;
  for (let j = 1; j < k; j++) if (p[i * k + j] > p[i * k + best]) best = j;
  return { cls: best, prob: p[i * k + best], sure: p[i * k + best] };
}

/** The true class of row i of a batch's labels (0/1 or one-hot). */
function labelOf(y: ArrayLike<number>, i: number, k: number, mode: 'binary' | 'categorical'): number {
  if (mode === 'binary') return y[i];
  let best = 0;
  for (let j = 1; j < k; j++) if (y[i * k + j] > y[i * k + best]) best = j;
  return best;
}

/** Columns and rows of a grid of n images, at most 4 to a row, and a figure size that fits them. */
export function gridFor(n: number): { rows: number; cols: number; figsize: [number, number] } {
  const cols = Math.max(1, Math.min(4, n));
  const rows = Math.max(1, Math.ceil(n / 4));
  return { rows, cols, figsize: [3 * cols, 3.3 * rows] };
}

const predictionsStep: NotebookStep = {
  name: 'predictions',
  async run(ctx) {
    const val = ctx.state.validation!;
    const names = ctx.state.classNames ?? Object.keys(val.classIndices);
    const mode = ctx.state.classMode ?? 'binary';
    const k = names.length;
    val.reset();
    const batch = await val.getBatch(0);
    const n = Math.min(8, batch.x.shape[0]);
    const x = batch.x.sliceBatch(0, n);
    const p = (await ctx.state.model!.predict(x, { verbose: 0 })).dataSync();
    const y = batch.y!.dataSync();
    const [, h, w] = batch.x.shape;
    const g = gridFor(n);
    const fig = figure({ figsize: g.figsize, dpi: 100 });
    const pix = x.dataSync();
    for (let i = 0; i < n; i++) {
      const d = decide(p, i, k, mode);
      const actual = labelOf(y, i, k, mode);
      const img = framed(pix.subarray(i * h * w * 3, (i + 1) * h * w * 3), h, w, d.cls === actual);
      // Binary: the probability of class 1, as the notebook prints it; categorical: the class and its probability.
      const title = mode === 'binary' ? `${ctx.t.prediction}: ${d.prob.toFixed(2)}` : `${names[d.cls]} (${d.prob.toFixed(2)})`;
      fig.subplot(g.rows, g.cols, i + 1).imshow(img).title(title).axis('off');
      img.dispose();
      const file = basename(val.filenames[val.lastBatch?.indices[i] ?? i] ?? '');
      ctx.log(ctx.t.predictionLine(file, d.prob.toFixed(2), names[d.cls], names[actual]));
    }
    batch.x.dispose(); batch.y?.dispose();
    const f = ctx.figure('predictions.png');
    await fig.savefig(f.path);
    ctx.run.add({
      type: 'figure', title: ctx.t.predictions, src: f.src,
      caption: mode === 'binary' ? ctx.t.predictionsCaption : ctx.t.predictionsCaptionCategorical,
    });
  },
};

const evaluationStep: NotebookStep = {
  name: 'evaluation',
  async run(ctx) {
    const { o } = ctx;
    const mode = ctx.state.classMode ?? classModeFor(o.data.classes.length);
    const gen = new ImageDataGenerator({ rescale: 1 / 255, validationSplit: 0.2 });
    const val = await gen.flowFromDirectory(o.dataDir, {
      targetSize: [o.targetSize, o.targetSize], batchSize: o.batchSize, classMode: mode, shuffle: false, subset: 'validation', verbose: false,
    });
    let p: ArrayLike<number>;
    try {
      p = (await ctx.state.model!.predict(val, { verbose: 0 })).dataSync();
    } finally {
      await val.close();
    }
    const labels = val.classes;
    const names = Object.keys(val.classIndices).sort((a, b) => val.classIndices[a] - val.classIndices[b]);
    const k = names.length;
    const m = names.map(() => names.map(() => 0));
    const wrong: { i: number; d: Decision }[] = [];
    for (let i = 0; i < labels.length; i++) {
      const d = decide(p, i, k, mode);
      m[labels[i]][d.cls]++;
      if (d.cls !== labels[i]) wrong.push({ i, d });
    }
    const acc = (labels.length - wrong.length) / labels.length;
    ctx.state.valAccuracy = acc;
    ctx.state.confusion = m;
    ctx.log(ctx.t.accuracyLine(acc, labels.length));
    ctx.run.add({ type: 'confusion', title: ctx.t.confusion, labels: names, matrix: m });
    ctx.run.add({ type: 'text', title: ctx.t.confusion, text: ctx.transcript() });
    wrong.sort((a, b) => b.d.sure - a.d.sure);
    const worst = wrong.slice(0, 8);
    if (!worst.length) {
      ctx.run.add({ type: 'text', title: ctx.t.wrong, text: ctx.t.noneWrong });
      return;
    }
    // The canvas fits the images shown: one wrong image gets one panel, not a 2x4 grid.
    const g = gridFor(worst.length);
    const fig = figure({ figsize: g.figsize, dpi: 100 });
    for (let j = 0; j < worst.length; j++) {
      const { i, d } = worst[j];
      const img = await imread(val.filepaths[i]);
      // The true class beside the prediction: what the model got wrong is visible at a glance.
      const said = mode === 'binary' ? `${ctx.t.prediction}: ${d.prob.toFixed(2)}` : `${names[d.cls]} ${d.prob.toFixed(2)}`;
      fig.subplot(g.rows, g.cols, j + 1).imshow(img).title(`${names[labels[i]]} · ${said}`, { fontsize: 11 }).axis('off');
      img.dispose();
    }
    const f = ctx.figure('most-wrong.png');
    await fig.savefig(f.path);
    ctx.run.add({ type: 'figure', title: ctx.t.wrong, src: f.src });
    ctx.run.add({
      type: 'table', title: ctx.t.wrong, columns: ctx.t.wrongColumns,
      rows: worst.map(({ i, d }) => [val.filenames[i], names[labels[i]], names[d.cls], Number(d.prob.toFixed(4))]),
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
