/**
 * A sweep's pretrained base (transfer learning, `convnet sweep --base FILE --cut-at LAYER`): every
 * trial builds `transferModel({ base, cutAt, numClasses })` and trains its head with the trial's
 * settings (learning rate, batch size, dropout, optimizer). The sweep records the file's path and
 * its sha256; a queue worker loads the base from its own path and refuses a file whose hash differs,
 * so trials trained on different bases are never ranked together. No model travels through the queue.
 */
import { createHash } from 'node:crypto';
import { closeSync, existsSync, openSync, readSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import type { SpaceKey } from '../notebook/space.js';

/** The base as a sweep's settings record it. */
export interface SweepBase {
  /** The file on the machine that planned the sweep (workers may use their own path). */
  path: string;
  /** The layer whose output is the features (e.g. MobileNetV2's 'out_relu'); the base's output when absent. */
  cutAt?: string;
  /** sha256 of the file's bytes, 64 hex digits. */
  sha256: string;
  /**
   * The pixel values the base was trained on: '-1..1' (Keras's preprocess_input for MobileNet,
   * MobileNetV2, Xception, InceptionV3: x / 127.5 - 1), '0..1' (the notebook's rescale 1/255), or
   * '0..255' (bases that hold their own Rescaling layer, such as EfficientNet and MobileNetV3).
   */
  pixels: Pixels;
}

export type Pixels = '-1..1' | '0..1' | '0..255';
export const PIXELS: Pixels[] = ['-1..1', '0..1', '0..255'];

/** The keys of a trial's configuration that apply to a head on a base; the others build convnet's own CNN. */
export const HEAD_KEYS: SpaceKey[] = ['learningRate', 'batchSize', 'dropout', 'optimizer'];

/** sha256 of a file (streamed in 1 MiB pieces). */
export function sha256File(path: string): string {
  const h = createHash('sha256');
  const buf = Buffer.alloc(1 << 20);
  const fd = openSync(path, 'r');
  try {
    for (let n; (n = readSync(fd, buf, 0, buf.length, null)) > 0;) h.update(buf.subarray(0, n));
  } finally { closeSync(fd); }
  return h.digest('hex');
}

/** Checks that `path` is a model file, and returns the base with its hash; `what` names the option in errors. */
export function sweepBase(path: string, cutAt: string | undefined, pixels: string = '-1..1', what = '--base'): SweepBase {
  if (!(PIXELS as string[]).includes(pixels)) throw new Error(`--base-pixels must be one of ${PIXELS.join(', ')}, got '${pixels}'`);
  if (!existsSync(path)) throw new Error(`${what} '${path}' does not exist; give a model file saved by Keras or convnet (.keras or .h5)`);
  if (!statSync(path).isFile()) throw new Error(`${what} '${path}' is a folder; give a single model file (.keras or .h5)`);
  if (cutAt !== undefined && !/^[\w.:/-]{1,256}$/.test(cutAt)) throw new Error(`--cut-at '${cutAt}' is not a layer name (letters, digits, _ . : / -)`);
  return { path: resolve(path), ...(cutAt ? { cutAt } : {}), sha256: sha256File(path), pixels: pixels as Pixels };
}

/** The data generator's options that scale 0..255 pixels to the base's range. */
export function pixelScaling(pixels: Pixels): { rescale: number | null; preprocessingFunction?: (image: Float32Array) => Float32Array } {
  if (pixels === '0..1') return { rescale: 1 / 255 };
  if (pixels === '0..255') return { rescale: null };
  return {
    rescale: null,
    preprocessingFunction: (image) => { for (let i = 0; i < image.length; i++) image[i] = image[i] / 127.5 - 1; return image; },
  };
}

/** Hashes of files already checked, by path, size and modification time (a worker checks its base once). */
const known = new Map<string, string>();

/** The sha256 of a file, computed once per version of the file. */
export function cachedSha256(path: string): string {
  const s = statSync(path);
  const key = `${path}|${s.size}|${s.mtimeMs}`;
  let h = known.get(key);
  if (!h) { h = sha256File(path); known.set(key, h); }
  return h;
}
