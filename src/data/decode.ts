/**
 * Decoding one image file into the uint8 pixels Keras's `load_img` gives: orientation from EXIF
 * applied, converted to the colour mode, resized to the target size. Runs in the decode workers and,
 * when workers are off, on the main thread.
 */
import sharp from 'sharp';
import type { KernelEnum, Sharp } from 'sharp';
import { DECODER_FAIL_ON, readRegularFile } from '../io/files.js';
import { sniffFormat } from './header.js';
import { decodeBmp, decodePnm } from '../io/bitmap.js';
import { keepAspectBox, resizeNearest } from './resize.js';

export type ColorMode = 'rgb' | 'rgba' | 'grayscale';
export type Interpolation = 'nearest' | 'bilinear' | 'bicubic' | 'lanczos' | 'box' | 'hamming';

/** sharp's kernels for Keras's interpolation names (box and hamming have none). */
const KERNELS: Record<Interpolation, keyof KernelEnum | undefined> = {
  nearest: 'nearest', bilinear: 'linear', bicubic: 'cubic', lanczos: 'lanczos3', box: undefined, hamming: undefined,
};
export const INTERPOLATIONS: readonly Interpolation[] = ['nearest', 'bilinear', 'bicubic', 'lanczos'];

export interface DecodeOptions {
  /** [height, width]; null keeps the image's own size. */
  targetSize: [number, number] | null;
  colorMode: ColorMode;
  interpolation: Interpolation;
  keepAspectRatio: boolean;
  /** Larger images are refused (decompression bombs). */
  maxPixels: number;
}

export interface Decoded { data: Uint8Array<ArrayBufferLike>; height: number; width: number; channels: number }

export function channelsOf(mode: ColorMode): number { return mode === 'grayscale' ? 1 : mode === 'rgba' ? 4 : 3; }

/** Checks an interpolation name, with the list of valid ones in the error. */
export function checkInterpolation(name: string): Interpolation {
  if (name === 'box' || name === 'hamming') {
    throw new RangeError(`convnet: interpolation '${name}' is not offered by sharp; use one of ${INTERPOLATIONS.join(', ')}`);
  }
  if (!(INTERPOLATIONS as string[]).includes(name)) {
    throw new RangeError(`convnet: unknown interpolation '${name}'; use one of ${INTERPOLATIONS.join(', ')}`);
  }
  return name as Interpolation;
}

/** Decodes `input` (a path or the file's bytes) to uint8 pixels [H, W, C]. */
export async function decodeImage(input: string | Uint8Array, opts: DecodeOptions): Promise<Decoded> {
  // A listed file may have been replaced (by a FIFO, say) since the listing: check the opened file.
  const bytes = typeof input === 'string' ? await readRegularFile(input) : input;
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const format = sniffFormat(bytes.subarray(0, 64));
  const target = opts.targetSize;
  const smooth = target !== null && opts.interpolation !== 'nearest';
  const want = channelsOf(opts.colorMode);
  let px: Uint8Array, w: number, h: number, c: number;
  if (format === 'bmp' || format === 'pnm') {
    const r = format === 'bmp' ? decodeBmp(bytes) : decodePnm(bytes);
    if (r.width * r.height > opts.maxPixels) throw new Error(`image has ${r.width * r.height} pixels, over the limit of ${opts.maxPixels}`);
    px = r.data; w = r.width; h = r.height; c = r.channels;
  } else {
    // failOn 'error' decodes what Pillow also decodes (a JPEG missing a few trailing bytes) but refuses
    // what cannot be read; limitInputPixels guards against decompression bombs; ignoreIcc because
    // Pillow (so Keras) does no colour management either.
    let img = sharp(buf, { failOn: DECODER_FAIL_ON, limitInputPixels: opts.maxPixels, sequentialRead: true, ignoreIcc: true }).autoOrient();
    if (smooth) img = await smoothResize(img, buf, opts);
    img = img.toColourspace('srgb');
    img = opts.colorMode === 'rgba' ? img.ensureAlpha() : img.removeAlpha();
    const { data, info } = await img.raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
    px = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    w = info.width; h = info.height; c = info.channels;
  }
  if (c !== want) px = convertChannels(px, w * h, c, want);
  c = want;
  if (target && (w !== target[1] || h !== target[0] || (opts.keepAspectRatio && !smooth))) {
    if (smooth) {
      // Only BMP and PNM get here (sharp resized the rest while decoding).
      let img = sharp(px, { raw: { width: w, height: h, channels: c as 1 | 3 | 4 } });
      img = await smoothResize(img, null, opts, [w, h]);
      const { data } = await img.raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
      px = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    } else {
      // Nearest resizing with Pillow's exact arithmetic, so pixels match Keras's.
      const box = opts.keepAspectRatio ? keepAspectBox(w, h, target[0], target[1]) : [0, 0, w, h] as [number, number, number, number];
      px = resizeNearest(px, w, h, c, target[1], target[0], box);
    }
    w = target[1]; h = target[0];
  }
  if (px.byteOffset !== 0 || px.byteLength !== px.buffer.byteLength) px = px.slice();
  return { data: px, height: h, width: w, channels: c };
}

/** sharp's resize with the kernel for `opts.interpolation`, after Keras's centre crop when keepAspectRatio. */
async function smoothResize(img: Sharp, buf: Buffer | null, opts: DecodeOptions, size?: [number, number]): Promise<Sharp> {
  const target = opts.targetSize!;
  if (opts.keepAspectRatio) {
    let w: number, h: number;
    if (size) [w, h] = size;
    else {
      const meta = await sharp(buf!, { failOn: DECODER_FAIL_ON, limitInputPixels: opts.maxPixels }).metadata();
      w = meta.autoOrient?.width ?? meta.width!;
      h = meta.autoOrient?.height ?? meta.height!;
    }
    const b = keepAspectBox(w, h, target[0], target[1]);
    if (b[2] - b[0] !== w || b[3] - b[1] !== h) img = img.extract({ left: b[0], top: b[1], width: b[2] - b[0], height: b[3] - b[1] });
  }
  return img.resize(target[1], target[0], { fit: 'fill', kernel: KERNELS[opts.interpolation] });
}

/** Between 1 (grey), 2 (grey + alpha), 3 (RGB) and 4 (RGBA) channels, as Pillow's convert does. */
function convertChannels(src: Uint8Array, pixels: number, from: number, to: number): Uint8Array {
  const out = new Uint8Array(pixels * to);
  for (let i = 0; i < pixels; i++) {
    const s = i * from, o = i * to;
    const grey = from <= 2;
    out[o] = src[s];
    if (to >= 3) { out[o + 1] = grey ? src[s] : src[s + 1]; out[o + 2] = grey ? src[s] : src[s + 2]; }
    if (to === 4) out[o + 3] = from === 2 ? src[s + 1] : from === 4 ? src[s + 3] : 255;
    if (to === 1) out[o] = from >= 3 ? (src[s] * 19595 + src[s + 1] * 38470 + src[s + 2] * 7471 + 0x8000) >>> 16 : src[s];
  }
  return out;
}
