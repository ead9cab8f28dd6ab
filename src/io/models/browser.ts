/**
 * Model files without a file system (convnet-ts/browser): a `.keras` file as a Blob or a download,
 * and `loadModel` from a `File`/`Blob`, an `ArrayBuffer`/`Uint8Array`, or a URL (`fetch`). The
 * bytes are the ones `saveModel` writes in Node (the same zip and HDF5 writers: fflate and h5wasm's
 * in-memory build), so a file saved in a page loads in Node and the other way round.
 */
import { modelDataAsync, buildModel, type LoadOptions, type SaveOptions } from './index.js';
import { readKerasArchive, writeKerasArchive } from './keras.js';
import { readLegacyH5, isHdf5 } from './legacy_h5.js';
import { readTfjs } from './tfjs.js';
import { UnsafeFileError } from './zip.js';
import type { SavableModel, Model } from '../../models/model.js';
import type { LoadedModelData } from './schema.js';

export const KERAS_MIME = 'application/x-keras';

/** What `loadModel` reads in a browser: bytes, a File/Blob, a URL (string or URL object), or a fetch Response. */
export type ModelSource = string | URL | Blob | ArrayBuffer | ArrayBufferView | Response;

/** The `.keras` bytes of a model (config.json, model.weights.h5, metadata.json), as `saveModel` writes them. */
export async function modelToKerasBytes(model: SavableModel, opts: SaveOptions = {}): Promise<Uint8Array> {
  if (opts.format && opts.format !== 'keras') throw new Error(`convnet: in a browser models are saved as .keras only, not ${JSON.stringify(opts.format)}`);
  const data = await modelDataAsync(model, opts.includeOptimizer !== false);
  if (opts.classNames != null) {
    if (!Array.isArray(opts.classNames) || !opts.classNames.every((c) => typeof c === 'string')) {
      throw new TypeError(`convnet: saveModelBlob: classNames must be a list of strings, got ${JSON.stringify(opts.classNames)}`);
    }
    data.classNames = opts.classNames.slice();
  }
  return writeKerasArchive(data);
}

/** The model as a `.keras` file in a Blob (for a download link, IndexedDB, or an upload). */
export async function saveModelBlob(model: SavableModel, opts: SaveOptions = {}): Promise<Blob> {
  const bytes = await modelToKerasBytes(model, opts);
  return new Blob([bytes as Uint8Array<ArrayBuffer>], { type: KERAS_MIME });
}

/**
 * Offers the model as a `.keras` download named `fileName` (what `model.save('downloads://name.keras')`
 * does): a temporary object URL clicked through an `<a download>` element. Needs a page (a
 * document); in a Web Worker use `saveModelBlob` and hand the Blob to the page.
 */
export async function downloadModel(model: SavableModel, fileName = 'model.keras', opts: SaveOptions = {}): Promise<void> {
  if (typeof document === 'undefined') {
    throw new Error('convnet: a download needs a page: in a Web Worker call saveModelBlob(model) and post the Blob to the page');
  }
  const name = fileName.trim() || 'model.keras';
  if (!/\.keras$/i.test(name)) throw new Error(`convnet: downloads://${name}: name the file .keras (the only format saved in a browser)`);
  const blob = await saveModelBlob(model, opts);
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.style.display = 'none';
  document.body.appendChild(a);
  a.click();
  a.remove();
  // The browser reads the Blob when the click is handled; keep the URL a while for slow starts.
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

function describe(src: ModelSource): string {
  if (typeof src === 'string') return src;
  if (src instanceof URL) return src.href;
  if (typeof File !== 'undefined' && src instanceof File) return src.name;
  if (typeof Response !== 'undefined' && src instanceof Response) return src.url || 'response';
  return 'model bytes';
}

async function fetchBytes(url: string, what: string, maxBytes: number): Promise<Uint8Array> {
  let res: Response;
  try {
    res = await fetch(url);
  } catch (e) {
    throw new Error(`${what}: could not fetch it (${(e as Error).message})`);
  }
  return responseBytes(res, what, maxBytes);
}

async function responseBytes(res: Response, what: string, maxBytes: number): Promise<Uint8Array> {
  if (!res.ok) throw new Error(`${what}: HTTP ${res.status} ${res.statusText}`.trimEnd());
  const declared = Number(res.headers.get('content-length'));
  if (declared > maxBytes) throw new Error(`${what}: the file is ${declared} bytes, more than the limit of ${maxBytes}`);
  const bytes = new Uint8Array(await res.arrayBuffer());
  if (bytes.length > maxBytes) throw new Error(`${what}: the file is ${bytes.length} bytes, more than the limit of ${maxBytes}`);
  return bytes;
}

/** Reads a model source into format-neutral data: `.keras` or legacy `.h5` bytes, or a TF.js model.json URL. */
export async function readModelSource(src: ModelSource, opts: LoadOptions = {}): Promise<LoadedModelData> {
  const maxBytes = opts.maxFileBytes ?? 2 ** 31;
  const what = describe(src);
  let bytes: Uint8Array;
  if (typeof src === 'string' || src instanceof URL) {
    const base = typeof location === 'object' ? location.href : undefined;
    const url = new URL(String(src), base);
    if (/\.json$/i.test(url.pathname)) {
      // A TF.js layers model: model.json and its shards beside it.
      const text = new TextDecoder().decode(await fetchBytes(url.href, what, 64 * 2 ** 20));
      let json: unknown;
      try { json = JSON.parse(text); } catch (e) { throw new UnsafeFileError(`${what}: model.json is not valid JSON (${(e as Error).message})`); }
      return readTfjs(json, (rel) => fetchBytes(new URL(rel, url).href, `${what}: ${rel}`, maxBytes), what, maxBytes);
    }
    bytes = await fetchBytes(url.href, what, maxBytes);
  } else if (typeof Response !== 'undefined' && src instanceof Response) {
    bytes = await responseBytes(src, what, maxBytes);
  } else if (typeof Blob !== 'undefined' && src instanceof Blob) {
    if (src.size > maxBytes) throw new Error(`${what}: the file is ${src.size} bytes, more than the limit of ${maxBytes}`);
    bytes = new Uint8Array(await src.arrayBuffer());
  } else if (src instanceof ArrayBuffer) {
    bytes = new Uint8Array(src);
  } else if (ArrayBuffer.isView(src)) {
    bytes = new Uint8Array(src.buffer, src.byteOffset, src.byteLength);
  } else {
    throw new TypeError(`convnet: loadModel: give a File, Blob, ArrayBuffer, Uint8Array or URL, got ${Object.prototype.toString.call(src)}`);
  }
  if (bytes[0] === 0x50 && bytes[1] === 0x4b) return readKerasArchive(bytes, what, opts);
  if (isHdf5(bytes)) return readLegacyH5(bytes, what, opts);
  throw new UnsafeFileError(`${what}: not a model file convnet reads (a .keras zip or a Keras .h5; a TF.js model by its model.json URL)`);
}

/**
 * Loads a model in a browser (or a Web Worker) from a `File`/`Blob` (a file input, a drop), bytes,
 * or a URL: architecture, weights, compile settings and optimizer state, as `loadModel` in Node.
 */
export async function loadModelFrom(src: ModelSource, opts: LoadOptions = {}): Promise<Model> {
  const warn = opts.warn ?? ((m: string) => console.warn(`convnet: ${m}`));
  const data = await readModelSource(src, opts);
  return buildModel(data, describe(src), opts, warn);
}

/** The class names a `.keras` file keeps in its metadata (null when it has none). */
export async function readClassNames(src: ModelSource, opts: LoadOptions = {}): Promise<string[] | null> {
  return (await readModelSource(src, opts)).classNames ?? null;
}
