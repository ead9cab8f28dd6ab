// The course page: the notebook's steps on convnet-ts/browser. Steps 1-3 (convolution, filters,
// pooling) compute here on the page's thread (small, synchronous ops); data, model, training,
// results and model files live in a Web Worker (app/worker.ts), so the page stays responsive.
// `window.__app` exposes what the page computed (for the tests in test/app/).
import * as c from '../src/browser.js';
import { FILTERS, getFilter, parseKernelJson } from '../src/ops/filters.js';
import { EXAMPLE_MATRIX, EXAMPLE_FILTER, NOTEBOOK_FILTERS, formatMatrix, fmtTuple } from '../src/notebook/examples.js';
import { renderHouse } from '../src/notebook/builtin-data.js';
import { NOTEBOOK_CONFIG } from '../src/notebook/space.js';
import { pageStrings, notebook, type Lang } from './i18n.js';
import type { FromWorker, ToWorker, DataSet, Shown } from './protocol.js';

type Any = Record<string, unknown>;
const app: Any = { ready: false, errors: [] as string[], history: {} as Record<string, number[]>, epochs: [] as number[], batches: 0, clicks: 0 };
(window as unknown as { __app: Any }).__app = app;

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;
const params = new URLSearchParams(location.search);
let lang: Lang = params.get('lang') === 'es' ? 'es' : 'en';
let t = pageStrings(lang);
let nb = notebook(lang);

function showError(message: string): void {
  (app.errors as string[]).push(message);
  const e = $('error');
  e.textContent = message;
  e.hidden = false;
}

// ---- language ----
function applyLang(): void {
  t = pageStrings(lang);
  nb = notebook(lang);
  document.documentElement.lang = lang;
  for (const el of document.querySelectorAll<HTMLElement>('[data-t]')) {
    const k = el.dataset.t!;
    const v = k === 'title' ? nb.title : (t as unknown as Record<string, unknown>)[k];
    if (typeof v === 'string') el.textContent = v;
  }
  $('lang').textContent = t.lang;
  $('conv-title').textContent = nb.correlate;
  $('grid-title').textContent = nb.predictions;
  $('cm-title').textContent = nb.confusion;
  $('wrong-title').textContent = nb.wrong;
  if (backendInfo) $('backend').textContent = t.backend(backendInfo.backend, backendInfo.threads, backendInfo.isolated, backendInfo.adapter);
  app.lang = lang;
}
$('lang').addEventListener('click', () => { lang = lang === 'en' ? 'es' : 'en'; applyLang(); renderFilters(); });

// ---- figures ----
/** A canvas showing a 2-D map as matplotlib's imshow(cmap='gray') does: min..max to black..white. */
function grayCanvas(data: ArrayLike<number>, h: number, w: number, scale = 1): HTMLCanvasElement {
  let lo = Infinity, hi = -Infinity;
  for (let i = 0; i < h * w; i++) { const v = data[i]; if (v < lo) lo = v; if (v > hi) hi = v; }
  const span = hi > lo ? hi - lo : 1;
  const cv = document.createElement('canvas');
  cv.width = w; cv.height = h;
  cv.style.width = `${w * scale}px`;
  const g = cv.getContext('2d')!;
  const img = g.createImageData(w, h);
  for (let i = 0; i < h * w; i++) {
    const v = Math.round(((data[i] - lo) / span) * 255);
    img.data[i * 4] = img.data[i * 4 + 1] = img.data[i * 4 + 2] = v;
    img.data[i * 4 + 3] = 255;
  }
  g.putImageData(img, 0, 0);
  return cv;
}

/** An RGB float image in [0, 1] as a canvas, with a coloured frame when `right` is given. */
function rgbCanvas(px: ArrayLike<number>, h: number, w: number, scale = 1, right?: boolean): HTMLCanvasElement {
  const cv = document.createElement('canvas');
  cv.width = w; cv.height = h;
  cv.style.width = `${w * scale}px`;
  if (right !== undefined) cv.style.border = `3px solid ${right ? '#1a1' : '#d11'}`;
  const g = cv.getContext('2d')!;
  const img = g.createImageData(w, h);
  for (let i = 0; i < h * w; i++) {
    for (let k = 0; k < 3; k++) img.data[i * 4 + k] = Math.round(Math.min(1, Math.max(0, px[i * 3 + k])) * 255);
    img.data[i * 4 + 3] = 255;
  }
  g.putImageData(img, 0, 0);
  return cv;
}

function fig(canvas: HTMLCanvasElement, title: string): HTMLElement {
  const d = document.createElement('div');
  d.className = 'fig';
  const s = document.createElement('span');
  s.textContent = title;
  d.append(canvas, s);
  return d;
}

/** Two curves (training and validation) on a canvas, with axes. */
function drawCurves(id: string, title: string, a: number[], b: number[] | undefined): void {
  const cv = $<HTMLCanvasElement>(id);
  const g = cv.getContext('2d')!;
  const W = cv.width, H = cv.height, L = 50, R = 10, T = 24, B = 34;
  g.clearRect(0, 0, W, H);
  g.fillStyle = '#222'; g.font = '13px system-ui'; g.fillText(title, L, 16);
  const all = [...a, ...(b ?? [])].filter(Number.isFinite);
  if (!all.length) return;
  let lo = Math.min(...all), hi = Math.max(...all);
  if (hi - lo < 1e-6) { lo -= 0.5; hi += 0.5; }
  const n = Math.max(a.length, b?.length ?? 0);
  const x = (i: number) => L + (n > 1 ? (i / (n - 1)) * (W - L - R) : (W - L - R) / 2);
  const y = (v: number) => T + (1 - (v - lo) / (hi - lo)) * (H - T - B);
  g.strokeStyle = '#999'; g.beginPath(); g.moveTo(L, T); g.lineTo(L, H - B); g.lineTo(W - R, H - B); g.stroke();
  g.fillStyle = '#555'; g.font = '11px system-ui';
  g.fillText(hi.toFixed(3), 4, T + 4); g.fillText(lo.toFixed(3), 4, H - B);
  for (let i = 0; i < n; i++) g.fillText(String(i + 1), x(i) - 3, H - B + 14);
  g.fillText(t.axisEpoch, W / 2, H - 4);
  const series: [number[] | undefined, string, string][] = [[a, '#1f77b4', 'train'], [b, '#ff7f0e', 'validation']];
  series.forEach(([s, colour, name], k) => {
    if (!s?.length) return;
    g.strokeStyle = colour; g.fillStyle = colour; g.lineWidth = 2; g.beginPath();
    s.forEach((v, i) => (i ? g.lineTo(x(i), y(v)) : g.moveTo(x(i), y(v))));
    g.stroke();
    s.forEach((v, i) => { g.beginPath(); g.arc(x(i), y(v), 3, 0, Math.PI * 2); g.fill(); });
    g.fillText(name, W - R - 70, T + 4 + 14 * k);
  });
  g.lineWidth = 1;
}

// ---- step 1: convolution ----
const kernelInputs: HTMLInputElement[] = [];
function setupConvolution(): void {
  $('matrix').textContent = formatMatrix(EXAMPLE_MATRIX);
  const k = $('kernel');
  EXAMPLE_FILTER.forEach((row) => {
    const r = document.createElement('div');
    for (const v of row) {
      const inp = document.createElement('input');
      inp.type = 'number'; inp.value = String(v); inp.step = 'any';
      kernelInputs.push(inp);
      r.append(inp);
    }
    k.append(r);
  });
  $('correlate').addEventListener('click', () => { app.clicks = (app.clicks as number) + 1; runCorrelate(); });
  $('mode').addEventListener('change', runCorrelate);
}

function runCorrelate(): void {
  const kernel = [0, 1, 2].map((i) => [0, 1, 2].map((j) => Number(kernelInputs[i * 3 + j].value) || 0));
  const mode = $<HTMLSelectElement>('mode').value as c.CorrelateOptions['mode'];
  const r = c.correlate(EXAMPLE_MATRIX, kernel, { mode });
  const rows = r.toArray() as number[][];
  r.dispose();
  $('conv-out').textContent = `correlate(image, kernel, mode='${mode}')\n\n${formatMatrix(rows)}`;
  app.correlate = rows;
}

// ---- step 2: filters ----
interface Gray { data: Float32Array; h: number; w: number; rgb: Uint8ClampedArray | Uint8Array; channels: number }
let photo: Gray | null = null;

/** scikit-image's rgb2gray: 0.2125 R + 0.7154 G + 0.0721 B on [0, 1], in float64, rounded once to float32. */
function toGray(rgb: ArrayLike<number>, h: number, w: number, channels: number): Float32Array {
  const out = new Float32Array(h * w);
  for (let i = 0; i < h * w; i++) {
    const o = i * channels;
    out[i] = (0.2125 * rgb[o] + 0.7154 * rgb[o + 1] + 0.0721 * rgb[o + 2]) / 255;
  }
  return out;
}

function useHouse(): void {
  const img = renderHouse();
  photo = { data: toGray(img.data, img.height, img.width, 3), h: img.height, w: img.width, rgb: img.data, channels: 3 };
  renderFilters();
}

/** Decodes an image file into RGBA pixels at most `maxSide` on its longer side (null when it cannot be read). */
async function decode(file: Blob, maxSide: number, square?: number): Promise<{ data: Uint8ClampedArray; w: number; h: number }> {
  const bmp = await createImageBitmap(file);
  let w = bmp.width, h = bmp.height;
  if (square) { w = h = square; } else if (Math.max(w, h) > maxSide) { const s = maxSide / Math.max(w, h); w = Math.round(w * s); h = Math.round(h * s); }
  const cv = new OffscreenCanvas(w, h);
  const g = cv.getContext('2d')!;
  // Keras's flow_from_directory resizes with nearest neighbour by default.
  g.imageSmoothingEnabled = !square;
  g.drawImage(bmp, 0, 0, w, h);
  bmp.close();
  return { data: g.getImageData(0, 0, w, h).data, w, h };
}

async function usePhoto(file: File): Promise<void> {
  try {
    const d = await decode(file, 800);
    photo = { data: toGray(d.data, d.h, d.w, 4), h: d.h, w: d.w, rgb: d.data, channels: 4 };
    renderFilters();
  } catch (e) {
    showError(`${file.name}: ${(e as Error).message || 'cannot be read as an image'}`);
  }
}

function customKernel(): number[][] | null {
  try { return parseKernelJson($<HTMLInputElement>('custom').value); } catch (e) { showError(String((e as Error).message)); return null; }
}

function renderFilters(): void {
  if (!photo) return;
  const { data, h, w } = photo;
  const box = $('filters');
  box.replaceChildren();
  const scale = Math.min(1, 340 / w);
  const rgbFloat = new Float32Array(h * w * 3);
  for (let i = 0; i < h * w; i++) for (let k = 0; k < 3; k++) rgbFloat[i * 3 + k] = photo.rgb[i * photo.channels + k] / 255;
  box.append(fig(rgbCanvas(rgbFloat, h, w, scale), nb.original), fig(grayCanvas(data, h, w, scale), nb.grayImage));
  const gray = c.tensor(data, [h, w]);
  const maps: Record<string, Float32Array> = {};
  const show = (key: string, label: string, kernel: number[][]) => {
    const m = c.correlate(gray, kernel);
    maps[key] = Float32Array.from(m.dataSync() as Float32Array);
    m.dispose();
    box.append(fig(grayCanvas(maps[key], h, w, scale), label));
  };
  for (const name of NOTEBOOK_FILTERS) show(name, nb.filter(nb.filterNames[name] ?? name), getFilter(name).kernel);
  const bank = $<HTMLSelectElement>('bank').value;
  if (bank && !(NOTEBOOK_FILTERS as readonly string[]).includes(bank)) show(bank, nb.filter(bank), getFilter(bank).kernel);
  const ck = customKernel();
  if (ck) show('custom', nb.filter(JSON.stringify(ck)), ck);
  gray.dispose();
  app.filters = { h, w, gray: data, maps };
  renderPooling(maps.laplacian, h, w);
}

// ---- step 3: pooling ----
function renderPooling(map: Float32Array, h: number, w: number): void {
  const box = $('pooling');
  box.replaceChildren();
  let mx = c.tensor(map, [1, h, w, 1]), av = mx;
  const lines = [`${nb.originalShape}: ${fmtTuple(mx.shape)}`];
  const shapes: number[][][] = [];
  for (let i = 1; i <= 3; i++) {
    const m2 = c.maxPool2d(mx, { poolSize: [2, 2] }), a2 = c.avgPool2d(av, { poolSize: [2, 2] });
    if (i > 1) { mx.dispose(); av.dispose(); } else mx.dispose();
    mx = m2; av = a2;
    lines.push(`${nb.maxPooling} ${fmtTuple(mx.shape)}    ${nb.avgPooling} ${fmtTuple(av.shape)}`);
    shapes.push([mx.shape.slice(), av.shape.slice()]);
    const [, ph, pw] = mx.shape;
    const s = Math.min(2 ** i, 300 / pw);
    box.append(fig(grayCanvas(mx.dataSync() as Float32Array, ph, pw, s), `${nb.maxPooling} ${fmtTuple(mx.shape)}`));
    box.append(fig(grayCanvas(av.dataSync() as Float32Array, ph, pw, s), `${nb.avgPooling} ${fmtTuple(av.shape)}`));
  }
  mx.dispose(); av.dispose();
  $('pool-out').textContent = lines.join('\n');
  app.pooling = shapes;
}

// ---- the worker ----
let backendInfo: { backend: string; threads: number; isolated: boolean; adapter: string | null } | null = null;
const worker = new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
const waiting = new Map<string, (m: FromWorker) => void>();
function request<T extends FromWorker['type']>(m: ToWorker, reply: T, transfer: Transferable[] = []): Promise<Extract<FromWorker, { type: T }>> {
  return new Promise((resolve, reject) => {
    waiting.set(reply, resolve as (m: FromWorker) => void);
    waiting.set(`error:${m.type}`, (e) => reject(new Error((e as { message: string }).message)));
    worker.postMessage(m, transfer);
  });
}
const listeners: ((m: FromWorker) => void)[] = [];
worker.onmessage = (e: MessageEvent<FromWorker>) => {
  const m = e.data;
  for (const l of listeners) l(m);
  const key = m.type === 'error' ? `error:${m.request}` : m.type;
  const w = waiting.get(key);
  if (w) { waiting.delete(key); w(m); }
  else if (m.type === 'error') showError(m.message);
};
worker.onerror = (e) => showError(`worker: ${e.message || 'failed to start'}`);
// The worker's handler exists only once its imports (the engine) have loaded: it says hello then.
const workerUp = new Promise<void>((resolve) => waiting.set('hello', () => resolve()));

// ---- step 4: data ----
const IMAGE_EXT = /\.(png|jpe?g|bmp|gif|webp|tiff?)$/i;
let folderFiles: { path: string; file: File }[] = [];
let dataInfo: { classes: string[]; size: number } | null = null;

async function entriesOf(entry: FileSystemEntry, prefix: string, out: { path: string; file: File }[]): Promise<void> {
  if (entry.isFile) {
    const file = await new Promise<File>((res, rej) => (entry as FileSystemFileEntry).file(res, rej));
    out.push({ path: prefix + entry.name, file });
  } else if (entry.isDirectory) {
    const reader = (entry as FileSystemDirectoryEntry).createReader();
    for (;;) {
      const batch = await new Promise<FileSystemEntry[]>((res, rej) => reader.readEntries(res, rej));
      if (!batch.length) break;
      for (const e of batch) await entriesOf(e, `${prefix}${entry.name}/`, out);
    }
  }
}

function setFolder(files: { path: string; file: File }[]): void {
  folderFiles = files;
  $<HTMLInputElement>('src-folder').checked = true;
}

async function loadData(): Promise<void> {
  const out = $('data-out');
  const size = Math.max(16, Math.min(256, Math.round(Number($<HTMLInputElement>('size').value) || 64)));
  const validationSplit = Number($<HTMLInputElement>('split').value) || 0.2;
  const lines: string[] = [];
  let msg: ToWorker;
  if ($<HTMLInputElement>('src-folder').checked) {
    // root/class/.../file: one class per first-level sub-folder, as flow_from_directory reads it.
    const byClass = new Map<string, { rel: string; file: File }[]>();
    for (const { path, file } of folderFiles) {
      const parts = path.split('/').filter(Boolean);
      if (parts.length < 3 || parts.some((p) => p.startsWith('.')) || !IMAGE_EXT.test(file.name)) continue;
      const cls = parts[1];
      if (!byClass.has(cls)) byClass.set(cls, []);
      byClass.get(cls)!.push({ rel: parts.slice(1).join('/'), file });
    }
    const classes = [...byClass.keys()].sort();
    if (classes.length < 2) { showError(`${t.folder}: ${classes.length} class folder(s) with images; two or more are needed`); return; }
    const px = size * size * 3;
    const kept: { rel: string; cls: number; pixels: Float32Array }[] = [];
    const skipped: string[] = [];
    const total = classes.reduce((n, cl) => n + byClass.get(cl)!.length, 0);
    let done = 0;
    for (const [ci, cls] of classes.entries()) {
      for (const { rel, file } of byClass.get(cls)!.sort((a, b) => (a.rel < b.rel ? -1 : 1))) {
        if (++done % 25 === 0) out.textContent = `${lines.join('\n')}\n${done}/${total}`.trimStart();
        try {
          const d = await decode(file, size, size);
          const p = new Float32Array(px);
          for (let i = 0; i < size * size; i++) for (let k = 0; k < 3; k++) p[i * 3 + k] = d.data[i * 4 + k] / 255;
          kept.push({ rel, cls: ci, pixels: p });
        } catch (e) {
          skipped.push(rel);
          lines.push(t.skipped(rel, (e as Error).message || 'decode failed'));
        }
      }
    }
    if (skipped.length) lines.push(t.skippedSummary(skipped.length));
    const x = new Float32Array(kept.length * px);
    kept.forEach((k, i) => x.set(k.pixels, i * px));
    const set: DataSet = { size, classes, x, labels: Int32Array.from(kept, (k) => k.cls), files: kept.map((k) => k.rel) };
    app.skipped = skipped;
    msg = { type: 'data', validationSplit, set };
  } else {
    const perClass = Math.max(2, Math.round(Number($<HTMLInputElement>('per-class').value) || 200));
    msg = { type: 'data', validationSplit, builtin: { perClass, size, seed: 42 } };
  }
  const r = await request(msg, 'data', msg.set ? [msg.set.x.buffer] : []);
  lines.push(t.found(r.counts[0], r.classes.length), t.found(r.counts[1], r.classes.length));
  lines.push(`${nb.classIndices}: {${r.classes.map((cl, i) => `'${cl}': ${i}`).join(', ')}}`);
  lines.push(nb.classModeLine(r.classes.length, r.classes.length > 2 ? 'categorical' : 'binary'));
  out.textContent = lines.join('\n');
  dataInfo = { classes: r.classes, size };
  app.data = { lines, counts: r.counts, classes: r.classes };
}

// ---- step 5: model ----
function modelConfig(): Record<string, unknown> {
  const f = $<HTMLInputElement>('m-filters').value.trim();
  return {
    ...NOTEBOOK_CONFIG,
    filters: /^\d+$/.test(f) ? Number(f) : f,
    kernelSize: Number($<HTMLInputElement>('m-kernel').value),
    convBlocks: Number($<HTMLInputElement>('m-blocks').value),
    denseUnits: Number($<HTMLInputElement>('m-dense').value),
    dropout: Number($<HTMLInputElement>('m-dropout').value),
    batchNorm: $<HTMLInputElement>('m-bn').checked,
    learningRate: Number($<HTMLInputElement>('m-lr').value),
    optimizer: $<HTMLSelectElement>('m-opt').value,
  };
}

async function buildModel(): Promise<void> {
  if (!dataInfo) { showError(t.needData); return; }
  const r = await request({ type: 'model', config: modelConfig(), seed: 42 }, 'model');
  $('summary').textContent = r.summary.join('\n');
  app.summary = r.summary;
  app.modelBuilt = true;
  modelSize = dataInfo.size;
}

// ---- step 6: training ----
let training = false;
async function train(): Promise<void> {
  if (!app.modelBuilt) { showError(t.needModel); return; }
  training = true;
  app.training = true;
  app.trainDone = false;
  $<HTMLButtonElement>('train').disabled = true;
  $<HTMLButtonElement>('stop').disabled = false;
  const epochs = Math.max(1, Math.round(Number($<HTMLInputElement>('epochs').value) || 1));
  const batchSize = Math.max(1, Math.round(Number($<HTMLInputElement>('batch').value) || 32));
  const history: Record<string, number[]> = {};
  app.history = history;
  const lines: string[] = [];
  const prog = $<HTMLProgressElement>('progress');
  const onMsg = (m: FromWorker) => {
    if (m.type === 'batch') {
      app.batches = (app.batches as number) + 1;
      prog.value = m.batch / m.batches;
    } else if (m.type === 'epoch') {
      for (const [k, v] of Object.entries(m.logs)) (history[k] ??= []).push(v);
      lines.push(t.epochLine(m.epoch, m.epochs, m.seconds, m.logs));
      $('train-out').textContent = lines.join('\n');
      $('curves').hidden = false;
      drawCurves('curve-loss', t.loss, history.loss ?? [], history.val_loss);
      drawCurves('curve-acc', t.accuracy, history.accuracy ?? [], history.val_accuracy);
    }
  };
  listeners.push(onMsg);
  try {
    const r = await request({ type: 'train', epochs, batchSize }, 'trained');
    lines.push(r.stopped ? t.stopped(r.seconds) : t.trained(r.seconds, r.imagesPerSec));
    $('train-out').textContent = lines.join('\n');
    app.trained = { stopped: r.stopped, seconds: r.seconds, imagesPerSec: r.imagesPerSec, epochs: (history.loss ?? []).length };
    await showResults();
  } finally {
    listeners.splice(listeners.indexOf(onMsg), 1);
    training = false;
    app.training = false;
    app.trainDone = true;
    $<HTMLButtonElement>('train').disabled = false;
    $<HTMLButtonElement>('stop').disabled = true;
  }
}

// ---- step 7: results ----
async function showResults(): Promise<void> {
  const r = await request({ type: 'results' }, 'results');
  const k = r.classes.length;
  const said = (s: Shown) => (k === 2 ? `${nb.prediction}: ${s.prob.toFixed(2)}` : `${r.classes[s.predicted]} (${s.prob.toFixed(2)})`);
  const scale = Math.max(1, Math.floor(128 / r.size));
  $('grid').replaceChildren(...r.grid.map((s) => fig(rgbCanvas(s.pixels, r.size, r.size, scale, s.predicted === s.actual), said(s))));
  $('grid-caption').textContent = k === 2 ? nb.predictionsCaption : nb.predictionsCaptionCategorical;
  const table = document.createElement('table');
  table.className = 'cm';
  table.innerHTML = `<tr><th></th>${r.classes.map((cl) => `<th>${escapeHtml(cl)}</th>`).join('')}</tr>` +
    r.confusion.map((row, i) => `<tr><th>${escapeHtml(r.classes[i])}</th>${row.map((v) => `<td>${v}</td>`).join('')}</tr>`).join('');
  $('cm').replaceChildren(table);
  $('acc-out').textContent = nb.accuracyLine(r.accuracy, r.n);
  $('wrong').replaceChildren(...(r.wrong.length ? r.wrong.map((s) => fig(rgbCanvas(s.pixels, r.size, r.size, scale), t.wrongTitle(r.classes[s.actual], said(s)))) : [document.createTextNode(nb.noneWrong)]));
  $('results').hidden = false;
  app.results = { confusion: r.confusion, accuracy: r.accuracy, n: r.n };
}

function escapeHtml(s: string): string { return s.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`); }

/** The side of the images the current model takes (the data's, or a loaded model's input). */
let modelSize: number | null = null;

async function predictPhoto(file: File): Promise<void> {
  if (!modelSize) { showError(t.needModel); return; }
  const size = modelSize;
  let d;
  try { d = await decode(file, size, size); } catch (e) { showError(`${file.name}: ${(e as Error).message || 'cannot be read as an image'}`); return; }
  const px = new Float32Array(size * size * 3);
  for (let i = 0; i < size * size; i++) for (let k = 0; k < 3; k++) px[i * 3 + k] = d.data[i * 4 + k] / 255;
  $('predict-fig').replaceChildren(fig(rgbCanvas(px, size, size, Math.max(1, Math.floor(128 / size))), file.name));
  const r = await request({ type: 'predict', pixels: px, size }, 'prediction');
  $('predict-out').textContent = t.predicted(r.classes[r.cls] ?? String(r.cls), r.prob);
  app.prediction = r;
}

// ---- step 8: files ----
async function saveModel(): Promise<void> {
  const r = await request({ type: 'save' }, 'saved');
  const url = URL.createObjectURL(r.blob);
  const a = document.createElement('a');
  a.href = url; a.download = 'cnn-dogs-cats.keras'; a.style.display = 'none';
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
  $('files-out').textContent = [t.savedLine(r.bytes / 1024), r.diff === null ? '' : nb.loadedLine(r.diff)].filter(Boolean).join('\n');
  app.saved = { bytes: r.bytes, check: r.check, diff: r.diff };
}

async function loadModelFile(file: File): Promise<void> {
  const r = await request({ type: 'load', file }, 'loaded');
  $('files-out').textContent = `${t.loadedLine(file.name)}\n${r.summary.join('\n')}`;
  $('summary').textContent = r.summary.join('\n');
  app.modelBuilt = true;
  // A square RGB input is what the page feeds; other models load but predict nothing here.
  const [, h, w, ch] = r.inputShape ?? [];
  modelSize = h && h === w && ch === 3 ? h : null;
  app.loaded = { classes: r.classes, summary: r.summary, size: modelSize };
}

// ---- wiring ----
function on(id: string, ev: string, fn: (e: Event) => unknown): void {
  $(id).addEventListener(ev, (e) => { $('error').hidden = true; Promise.resolve(fn(e)).catch((err: unknown) => showError(err instanceof Error ? err.message : String(err))); });
}
function dropZone(id: string, onDrop: (e: DragEvent) => unknown): void {
  const z = $(id);
  z.addEventListener('dragover', (e) => { e.preventDefault(); z.classList.add('over'); });
  z.addEventListener('dragleave', () => z.classList.remove('over'));
  on(id, 'drop', (e) => { e.preventDefault(); z.classList.remove('over'); return onDrop(e as DragEvent); });
}

async function main(): Promise<void> {
  // The page's own ops are small: one thread here; the worker takes every core for training.
  c.setThreads(1);
  const bank = $<HTMLSelectElement>('bank');
  bank.append(new Option('-', ''), ...Object.keys(FILTERS).map((n) => new Option(n, n)));
  bank.value = 'sobel-x';
  applyLang();
  setupConvolution();
  runCorrelate();
  useHouse();
  on('house', 'click', useHouse);
  on('apply', 'click', renderFilters);
  // Live while typing: each time the text is a valid kernel, the maps redraw (errors wait for Apply).
  let pending = 0;
  $('custom').addEventListener('input', () => {
    clearTimeout(pending);
    pending = window.setTimeout(() => {
      try { parseKernelJson($<HTMLInputElement>('custom').value); } catch { return; }
      renderFilters();
    }, 250);
  });
  on('bank', 'change', renderFilters);
  on('photo-input', 'change', (e) => { const f = (e.target as HTMLInputElement).files?.[0]; return f && usePhoto(f); });
  dropZone('photo-drop', (e) => { const f = e.dataTransfer?.files[0]; return f && usePhoto(f); });
  on('folder-input', 'change', (e) => setFolder([...((e.target as HTMLInputElement).files ?? [])].map((file) => ({ path: file.webkitRelativePath || file.name, file }))));
  dropZone('folder-drop', async (e) => {
    const out: { path: string; file: File }[] = [];
    for (const item of [...(e.dataTransfer?.items ?? [])]) {
      const entry = item.webkitGetAsEntry?.();
      if (entry) await entriesOf(entry, '', out);
    }
    setFolder(out);
  });
  on('load-data', 'click', loadData);
  on('build', 'click', buildModel);
  on('train', 'click', train);
  on('stop', 'click', () => { if (training) worker.postMessage({ type: 'stop' } satisfies ToWorker); });
  on('predict-input', 'change', (e) => { const f = (e.target as HTMLInputElement).files?.[0]; return f && predictPhoto(f); });
  dropZone('predict-drop', (e) => { const f = e.dataTransfer?.files[0]; return f && predictPhoto(f); });
  on('save', 'click', saveModel);
  on('model-input', 'change', (e) => { const f = (e.target as HTMLInputElement).files?.[0]; return f && loadModelFile(f); });
  const threads = params.has('threads') ? Number(params.get('threads')) : null;
  await workerUp;
  // ?backend=wasm: train on WebAssembly even where WebGPU exists (the default takes WebGPU when the browser has it).
  const info = await request({ type: 'init', threads, backend: params.get('backend') === 'wasm' ? 'wasm' : 'auto' }, 'ready');
  backendInfo = info;
  app.backend = info;
  $('backend').textContent = t.backend(info.backend, info.threads, info.isolated, info.adapter);
  if (info.gpuReason) $('backend').title = info.gpuReason;
  app.ready = true;
}

main().catch((e: unknown) => showError(e instanceof Error ? e.message : String(e)));
