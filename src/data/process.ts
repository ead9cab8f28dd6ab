/** One image's work, the same in a worker or on the main thread: decode (or take cached pixels), then augment. */
import { decodeImage, type DecodeOptions } from './decode.js';
import { applyTransform, type AugmentConfig, type TransformParams } from './augment.js';
import { firstLine } from './header.js';

export interface ImageTask {
  path: string;
  /** Cached pixels [h, w, c]; when present the file is not read. */
  pixels?: Uint8Array;
  decode: DecodeOptions;
  /** Augmentation to apply, or null. */
  params: TransformParams | null;
  augment: Pick<AugmentConfig, 'fillMode' | 'cval' | 'interpolationOrder'>;
  /** Return the decoded pixels too (for the cache). */
  keepRaw: boolean;
}

export type ImageResult =
  | { ok: true; raw: Uint8Array | null; out: Float32Array | null; height: number; width: number; channels: number }
  | { ok: false; error: string };

export async function processImage(t: ImageTask): Promise<ImageResult> {
  try {
    let raw: Uint8Array;
    let h: number, w: number, c: number;
    if (t.pixels) {
      raw = t.pixels;
      [h, w] = t.decode.targetSize!;
      c = raw.length / (h * w);
    } else {
      const d = await decodeImage(t.path, t.decode);
      raw = d.data; h = d.height; w = d.width; c = d.channels;
    }
    const out = t.params ? applyTransform(raw, h, w, c, t.params, t.augment) : null;
    return { ok: true, raw: t.keepRaw || !out ? raw : null, out, height: h, width: w, channels: c };
  } catch (e: any) {
    return { ok: false, error: firstLine(e?.message ?? String(e)) };
  }
}
