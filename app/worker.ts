// The page's Web Worker: data, model, training, predictions and model files, on convnet-ts/browser.
// Training runs here so the page never freezes; the worker yields to its event loop after every
// batch, so a "stop" message is seen at once (fit's AbortSignal then ends the epoch).
import * as c from '../src/browser.js';
import { compiledModelFromConfig } from '../src/notebook/model.js';
import { renderSample, BUILTIN_CLASSES } from '../src/notebook/builtin-data.js';
import { validateSpace, type TrialConfig } from '../src/notebook/space.js';
import type { Model } from '../src/models/model.js';
import type { ToWorker, FromWorker, DataSet, Shown } from './protocol.js';

const post = (m: FromWorker, transfer: Transferable[] = []) => (self as unknown as Worker).postMessage(m, transfer);

interface Split { x: Float32Array; labels: Int32Array; files: string[] }
let data: { size: number; classes: string[]; train: Split; val: Split } | null = null;
let model: Model | null = null;
let classNames: string[] = [];
let controller: AbortController | null = null;

/** A macrotask boundary (a MessageChannel round trip: no 4 ms timer clamp). */
function yieldToEvents(): Promise<void> {
  return new Promise((resolve) => { const ch = new MessageChannel(); ch.port1.onmessage = () => resolve(); ch.port2.postMessage(0); });
}

/** Keras's validation split: per class, the first trunc(split * n) files (sorted) are validation. */
function split(set: DataSet, validationSplit: number): { train: Split; val: Split; counts: [number, number] } {
  const px = set.size * set.size * 3;
  const byClass = set.classes.map(() => [] as number[]);
  set.labels.forEach((l, i) => byClass[l].push(i));
  const tr: number[] = [], va: number[] = [];
  for (const idx of byClass) {
    idx.sort((a, b) => (set.files[a] < set.files[b] ? -1 : set.files[a] > set.files[b] ? 1 : 0));
    const cut = Math.trunc(validationSplit * idx.length);
    va.push(...idx.slice(0, cut));
    tr.push(...idx.slice(cut));
  }
  const take = (ids: number[]): Split => {
    const x = new Float32Array(ids.length * px);
    ids.forEach((i, k) => x.set(set.x.subarray(i * px, (i + 1) * px), k * px));
    return { x, labels: Int32Array.from(ids, (i) => set.labels[i]), files: ids.map((i) => set.files[i]) };
  };
  return { train: take(tr), val: take(va), counts: [tr.length, va.length] };
}

/** The built-in set's pixels (bars lying or standing), drawn here as Node draws them before JPEG. */
function builtin(perClass: number, size: number, seed: number): DataSet {
  const n = perClass * BUILTIN_CLASSES.length;
  const px = size * size * 3;
  const x = new Float32Array(n * px);
  const labels = new Int32Array(n);
  const files: string[] = [];
  let k = 0;
  BUILTIN_CLASSES.forEach((name, label) => {
    for (let i = 0; i < perClass; i++, k++) {
      const img = renderSample(label, i, size, seed);
      for (let j = 0; j < px; j++) x[k * px + j] = img.data[j] / 255;
      labels[k] = label;
      files.push(`${name}/${name}.${i}.jpg`);
    }
  });
  return { size, classes: [...BUILTIN_CLASSES], x, labels, files };
}

function labelTensor(labels: Int32Array, k: number): c.Tensor {
  if (k === 2) return c.tensor(Float32Array.from(labels), [labels.length]);
  const y = new Float32Array(labels.length * k);
  labels.forEach((l, i) => { y[i * k + l] = 1; });
  return c.tensor(y, [labels.length, k]);
}

function xTensor(s: Split, size: number): c.Tensor { return c.tensor(s.x, [s.labels.length, size, size, 3]); }

/** Class and probability of row i (binary: p is P(class 1), threshold 0.5). */
function decide(p: Float32Array, i: number, k: number): { cls: number; prob: number; sure: number } {
  if (k === 2) return { cls: p[i] > 0.5 ? 1 : 0, prob: p[i], sure: Math.abs(p[i] - 0.5) };
  let best = 0;
  for (let j = 1; j < k; j++) if (p[i * k + j] > p[i * k + best]) best = j;
  return { cls: best, prob: p[i * k + best], sure: p[i * k + best] };
}

async function predictArray(x: Float32Array, n: number, size: number): Promise<Float32Array> {
  const t = c.tensor(x, [n, size, size, 3]);
  const p = await model!.predict(t, { verbose: 0 }) as c.Tensor;
  const out = Float32Array.from(await p.data() as Float32Array);
  t.dispose(); p.dispose();
  return out;
}

function summaryLines(m: Model): string[] {
  const lines: string[] = [];
  m.summary((l: string) => lines.push(l));
  return lines;
}

async function handle(m: ToWorker): Promise<void> {
  switch (m.type) {
    case 'init': {
      if (c.wasmLoadError) c.setBackend('reference');
      else if (m.threads) c.setThreads(m.threads);
      await c.ready();
      // WebGPU when the browser gives this worker an adapter (training and predictions then run on the
      // GPU); else the wasm backend above, with threads where the page is cross-origin isolated.
      let adapter: string | null = null, gpuReason = 'WebGPU not tried: ?backend=wasm';
      if (m.backend !== 'wasm') {
        const g = await c.initWebGPU();
        if (g) { c.setBackend('webgpu'); adapter = g.adapterName; gpuReason = ''; } else gpuReason = c.webgpuUnavailableReason();
      }
      post({ type: 'ready', backend: c.getBackendName(), threads: c.getThreads(), isolated: (self as unknown as { crossOriginIsolated?: boolean }).crossOriginIsolated === true, wasmError: c.wasmLoadError ? String(c.wasmLoadError.message) : null, adapter, gpuReason });
      return;
    }
    case 'data': {
      const set = m.builtin ? builtin(m.builtin.perClass, m.builtin.size, m.builtin.seed) : m.set!;
      const s = split(set, m.validationSplit);
      data = { size: set.size, classes: set.classes, train: s.train, val: s.val };
      classNames = set.classes.slice();
      post({ type: 'data', counts: s.counts, classes: set.classes });
      return;
    }
    case 'model': {
      if (!data) throw new Error('load the data first (step 4)');
      c.setSeed(m.seed);
      c.clearSession();
      model?.dispose?.();
      // The sweep's checks: a bad field is named with what it accepts.
      validateSpace(m.config, 'model');
      classNames = data.classes.slice();
      model = compiledModelFromConfig(m.config as unknown as TrialConfig, data.size, m.seed, data.classes.length);
      post({ type: 'model', summary: summaryLines(model), params: model.countParams() });
      return;
    }
    case 'train': {
      if (!data || !model) throw new Error('build the model first (step 5)');
      const k = data.classes.length;
      const x = xTensor(data.train, data.size), y = labelTensor(data.train.labels, k);
      // Too few images per class for a validation image (trunc(split * n) = 0): train without validation.
      const hasVal = data.val.labels.length > 0;
      const xv = hasVal ? xTensor(data.val, data.size) : null, yv = hasVal ? labelTensor(data.val.labels, k) : null;
      controller = new AbortController();
      const batches = Math.ceil(data.train.labels.length / m.batchSize);
      // images/s: training steps only (epoch start to its last batch; validation not counted).
      let t0 = 0, seen = 0, trainMs = 0, lastBatch = 0;
      const cb = new (class extends c.Callback {
        async onEpochBegin() { t0 = performance.now(); }
        async onTrainBatchEnd(batch: number) {
          lastBatch = performance.now();
          seen += Math.min(m.batchSize, data!.train.labels.length - batch * m.batchSize);
          post({ type: 'batch', batch: batch + 1, batches });
          await yieldToEvents();
        }
        async onEpochEnd(epoch: number, logs: Record<string, number> = {}) {
          trainMs += lastBatch - t0;
          post({ type: 'epoch', epoch: epoch + 1, epochs: m.epochs, logs: { ...logs }, seconds: (performance.now() - t0) / 1000 });
        }
      })();
      const started = performance.now();
      try {
        const h = await model.fit(x, y, { epochs: m.epochs, batchSize: m.batchSize, validationData: xv && yv ? [xv, yv] : undefined, callbacks: [cb], signal: controller.signal, verbose: 0, shuffle: true });
        post({
          type: 'trained', history: h.history as Record<string, number[]>, stopped: h.stopReason === 'interrupted',
          seconds: (performance.now() - started) / 1000, imagesPerSec: trainMs > 0 ? seen / (trainMs / 1000) : 0,
        });
      } finally {
        controller = null;
        x.dispose(); y.dispose(); xv?.dispose(); yv?.dispose();
      }
      return;
    }
    case 'results': {
      if (!data || !model) throw new Error('train the model first (step 6)');
      const k = data.classes.length, { val, } = data, n = val.labels.length, px = data.size * data.size * 3;
      const p = n ? await predictArray(val.x, n, data.size) : new Float32Array(0);
      const confusion = data.classes.map(() => data!.classes.map(() => 0));
      const wrong: { i: number; d: ReturnType<typeof decide> }[] = [];
      for (let i = 0; i < n; i++) {
        const d = decide(p, i, k);
        confusion[val.labels[i]][d.cls]++;
        if (d.cls !== val.labels[i]) wrong.push({ i, d });
      }
      wrong.sort((a, b) => b.d.sure - a.d.sure);
      const shown = (i: number): Shown => {
        const d = decide(p, i, k);
        return { pixels: val.x.slice(i * px, (i + 1) * px), file: val.files[i], prob: d.prob, predicted: d.cls, actual: val.labels[i] };
      };
      post({
        type: 'results', size: data.size, classes: data.classes, confusion, accuracy: n ? (n - wrong.length) / n : 0, n,
        grid: Array.from({ length: Math.min(8, n) }, (_, i) => shown(i)), wrong: wrong.slice(0, 8).map((w) => shown(w.i)),
      });
      return;
    }
    case 'predict': {
      if (!model) throw new Error('train or load a model first');
      const p = await predictArray(m.pixels, 1, m.size);
      const k = classNames.length;
      const d = decide(p, 0, k);
      post({ type: 'prediction', probs: Array.from(p), cls: d.cls, prob: d.prob, classes: classNames });
      return;
    }
    case 'save': {
      if (!model) throw new Error('train or load a model first');
      const blob = await c.saveModelBlob(model as never, { classNames });
      // Predictions of the first validation images, for anyone checking the file elsewhere.
      let check: { x: number[]; shape: number[]; probs: number[] } | null = null;
      if (data && data.val.labels.length) {
        const n = Math.min(4, data.val.labels.length), px = data.size * data.size * 3;
        const x = data.val.x.slice(0, n * px);
        check = { x: Array.from(x), shape: [n, data.size, data.size, 3], probs: Array.from(await predictArray(x, n, data.size)) };
      }
      // As the notebook does: load the file back and compare its predictions.
      let diff: number | null = null;
      if (check) {
        const back = await c.loadModel(blob);
        const t = c.tensor(Float32Array.from(check.x), check.shape);
        const q = await (await back.predict(t, { verbose: 0 }) as c.Tensor).data();
        diff = 0;
        for (let i = 0; i < q.length; i++) diff = Math.max(diff, Math.abs(q[i] - check.probs[i]));
        t.dispose();
        back.dispose();
      }
      post({ type: 'saved', blob, bytes: blob.size, check, diff });
      return;
    }
    case 'load': {
      const loaded = await c.loadModel(m.file);
      const names = await c.readClassNames(m.file);
      const shape = (loaded as unknown as { inputShape?: (number | null)[] }).inputShape ?? null;
      model?.dispose?.();
      model = loaded;
      if (names) classNames = names;
      post({ type: 'loaded', summary: summaryLines(loaded), classes: names, inputShape: shape });
      return;
    }
    case 'stop': {
      controller?.abort();
      return;
    }
  }
}

// Messages are handled one at a time, except 'stop', which must reach a running fit.
let queue: Promise<void> = Promise.resolve();
self.onmessage = (e: MessageEvent<ToWorker>) => {
  const m = e.data;
  if (m.type === 'stop') { controller?.abort(); return; }
  queue = queue.then(() => handle(m)).catch((err: unknown) => {
    post({ type: 'error', request: m.type, message: err instanceof Error ? err.message : String(err) });
  });
};
post({ type: 'hello' });
