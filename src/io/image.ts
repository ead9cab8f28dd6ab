/**
 * Images in and out: `imread` decodes JPEG, PNG, WebP, GIF (first frame), TIFF (through sharp /
 * libvips) and BMP (a small decoder here, as libvips has none) into tensors; `imsave` writes PNG,
 * JPEG, WebP or TIFF.
 *
 * `imread(path, { asGray: true })` follows scikit-image's `imread(path, as_gray=True)` (0.19):
 * - a colour image becomes float [H, W]: each channel scaled by `x * (1 / 255)` in float64,
 *   RGBA first blended onto white (`rgba2rgb`: clip((1 - a) + a * c, 0, 1)), then the luminance
 *   0.2125 R + 0.7154 G + 0.0721 B (`rgb2gray`), rounded once to float32;
 * - a grayscale file becomes float32 [H, W] in [0, 1] too, scaled as scikit-image's
 *   `img_as_float` scales it (`x * (1 / 255)` in float64). (scikit-image itself hands such a file
 *   back as stored, uint8 0..255; convnet keeps one scale for every `asGray` image, so that
 *   filters, figures and models see the same numbers whatever the file's colour type.)
 * Without `asGray`, a grayscale file stays one channel: uint8 [H, W].
 */
import { DECODER_FAIL_ON, readRegularFile, writeFileAtomic } from './files.js';
import { extname } from 'node:path';
import sharp from 'sharp';
import type { Metadata } from 'sharp';
import { Tensor, tensor, fmtShape } from '../tensor/index.js';
import { decodeBmp, bmpSize } from './bitmap.js';

export interface ImreadOptions {
  /** scikit-image's `as_gray`: colour images become float32 luminance [H, W] in [0, 1]. */
  asGray?: boolean;
  /** Keep the alpha channel of RGBA images ([H, W, 4]); by default it is dropped. Ignored with asGray. */
  alpha?: boolean;
  /** Refuse images with more pixels than this (decompression bombs). Default 2^28 (about 268 megapixels). */
  maxPixels?: number;
}

export interface ImsaveOptions {
  /** JPEG / WebP quality, 1-100 (default 95). */
  quality?: number;
}

/** An image file that could not be read: `path` names the file, `reason` says why. */
export class ImageReadError extends Error {
  constructor(readonly path: string, readonly reason: string) {
    super(`convnet: cannot read image '${path}': ${reason}`);
    this.name = 'ImageReadError';
  }
}

/** Pillow's limit (Keras reads through Pillow): larger images are refused as possible decompression bombs. */
export const DEFAULT_MAX_PIXELS = 89_478_485;

/** Decoded pixels before conversion: interleaved 8-bit channels. */
interface Decoded { data: Uint8Array; width: number; height: number; channels: number }

/**
 * Reads an image file. Colour images give a uint8 tensor [H, W, 3] ([H, W, 4] with `alpha`),
 * grayscale files uint8 [H, W]; `asGray` gives float32 [H, W] in [0, 1] (luminance as scikit-image computes it).
 */
export async function imread(path: string, opts: ImreadOptions = {}): Promise<Tensor> {
  const maxPixels = opts.maxPixels ?? DEFAULT_MAX_PIXELS;
  const img = await decodeFile(path, maxPixels);
  const { data, width: W, height: H } = img;
  let channels = img.channels;
  let px = data;
  // Gray + alpha: scikit-image has no meaning for it; keep the gray channel.
  if (channels === 2) { px = pickChannels(data, 2, [0]); channels = 1; }
  if (channels === 1) {
    if (!opts.asGray) return tensor(px, [H, W], 'uint8');
    const g = new Float32Array(H * W);
    for (let i = 0; i < g.length; i++) g[i] = px[i] * (1 / 255);
    return tensor(g, [H, W], 'float32');
  }
  if (opts.asGray) return tensor(rgbToGray(px, H * W, channels), [H, W], 'float32');
  if (channels === 4 && !opts.alpha) { px = pickChannels(px, 4, [0, 1, 2]); channels = 3; }
  return tensor(px, [H, W, channels], 'uint8');
}

function pickChannels(data: Uint8Array, from: number, keep: number[]): Uint8Array {
  const n = data.length / from;
  const out = new Uint8Array(n * keep.length);
  for (let i = 0; i < n; i++) for (let k = 0; k < keep.length; k++) out[i * keep.length + k] = data[i * from + keep[k]];
  return out;
}

/** scikit-image's rgba2rgb (white background) and rgb2gray, in float64, rounded once to float32. */
function rgbToGray(data: Uint8Array, n: number, channels: number): Float32Array {
  const out = new Float32Array(n);
  const s = 1 / 255;
  for (let i = 0; i < n; i++) {
    const o = i * channels;
    let r = data[o] * s, g = data[o + 1] * s, b = data[o + 2] * s;
    if (channels === 4) {
      const a = data[o + 3] * s;
      r = clip01((1 - a) * 1 + a * r);
      g = clip01((1 - a) * 1 + a * g);
      b = clip01((1 - a) * 1 + a * b);
    }
    out[i] = r * 0.2125 + g * 0.7154 + b * 0.0721;
  }
  return out;
}

function clip01(x: number): number { return x < 0 ? 0 : x > 1 ? 1 : x; }

async function decodeFile(path: string, maxPixels: number): Promise<Decoded> {
  let buf: Buffer;
  try {
    // Checks the opened file is a regular one first: a FIFO used to block the process for good.
    buf = await readRegularFile(path);
  } catch (e: any) {
    if (e?.code === 'ENOTREG') throw new ImageReadError(path, `it is ${e.kind}, not an image file`);
    if (e?.code === 'EISDIR') throw new ImageReadError(path, 'it is a directory, not an image file');
    if (e?.code === 'ENOENT') throw new ImageReadError(path, 'no such file (check the path)');
    if (e?.code === 'EACCES') throw new ImageReadError(path, 'permission denied');
    throw new ImageReadError(path, e?.message ?? String(e));
  }
  if (buf.length === 0) throw new ImageReadError(path, 'the file is empty (0 bytes)');
  if (buf.length >= 2 && buf[0] === 0x42 && buf[1] === 0x4d) {
    // libvips has no BMP reader: the small decoder shared with the data pipeline.
    const size = bmpSize(buf);
    if (!size) throw new ImageReadError(path, 'the file is truncated or corrupt (BMP header cut short)');
    checkPixels(path, size.width, size.height, maxPixels);
    try {
      return decodeBmp(buf);
    } catch (e: any) {
      throw new ImageReadError(path, `the file is truncated or corrupt (${e?.message ?? e})`);
    }
  }
  let meta: Metadata;
  try {
    meta = await sharp(buf, { limitInputPixels: false }).metadata();
  } catch (e: any) {
    throw new ImageReadError(path, classifySharpError(String(e?.message ?? e)));
  }
  const w = meta.width ?? 0, h = meta.height ?? 0;
  checkPixels(path, w, h, maxPixels);
  try {
    // The one decoder policy (src/io/files.ts): what the data pipeline and `check --decode` accept, imread reads.
    let pipe = sharp(buf, { limitInputPixels: maxPixels, failOn: DECODER_FAIL_ON, pages: 1, page: 0 });
    // libvips would expand a grayscale file to sRGB; keep its single channel (and alpha) as stored.
    if ((meta.channels ?? 3) <= 2) pipe = pipe.toColourspace('b-w');
    const { data, info } = await pipe.raw().toBuffer({ resolveWithObject: true });
    return { data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), width: info.width, height: info.height, channels: info.channels };
  } catch (e: any) {
    throw new ImageReadError(path, classifySharpError(String(e?.message ?? e)));
  }
}

function checkPixels(path: string, w: number, h: number, maxPixels: number): void {
  if (w * h > maxPixels) {
    throw new ImageReadError(path, `the image is ${w} x ${h} = ${w * h} pixels, over the limit of ${maxPixels} ` +
      `(a guard against decompression bombs); pass { maxPixels } to read it anyway`);
  }
}

function classifySharpError(msg: string): string {
  if (/unsupported image format/i.test(msg)) return 'not an image, or a format convnet cannot read (JPEG, PNG, WebP, GIF, BMP and TIFF are supported)';
  if (/pixel limit/i.test(msg)) return `the image is over the pixel limit (a guard against decompression bombs); pass { maxPixels } to read it anyway`;
  if (/premature end|truncated|unexpected end|end of (file|stream)|not enough data|read error|incomplete|corrupt|invalid|bad /i.test(msg)) {
    return `the file is truncated or corrupt (${msg.trim().split('\n')[0]})`;
  }
  return `the decoder failed: ${msg.trim().split('\n')[0]}`;
}

/**
 * Writes a tensor as an image; the format follows the extension (.png, .jpg/.jpeg, .webp, .tif/.tiff).
 * Accepts [H, W], [H, W, 1|3|4] or a batch of one [1, H, W, C]. uint8 is written as is; floats are
 * taken as [0, 1], clipped and scaled to 0..255 (rounded); int32 is clipped to 0..255.
 */
export async function imsave(path: string, image: Tensor, opts: ImsaveOptions = {}): Promise<void> {
  image.assertLive('imsave');
  let shape = image.shape.slice();
  if (shape.length === 4 && shape[0] === 1) shape = shape.slice(1);
  if (shape.length === 2) shape = [...shape, 1];
  if (shape.length !== 3 || ![1, 3, 4].includes(shape[2])) {
    throw new RangeError(`convnet: imsave('${path}'): expected an image [H, W], [H, W, 1|3|4] or [1, H, W, C], got ${fmtShape(image.shape)}`);
  }
  const [H, W, C] = shape;
  if (H === 0 || W === 0) throw new RangeError(`convnet: imsave('${path}'): the image is ${H} x ${W} pixels (${fmtShape(image.shape)}); an image file needs at least 1 x 1`);
  const src = image.dataSync();
  if (image.dtype === 'float32' || image.dtype === 'float64') {
    let nan = 0;
    for (let i = 0; i < src.length; i++) if (src[i] !== src[i]) nan++;
    if (nan > 0) {
      throw new RangeError(`convnet: imsave('${path}'): the image holds ${nan} NaN value(s) of ${src.length}; NaN has no pixel value, ` +
        `so nothing was written. Find where they come from (a NaN input or a diverged model), or replace them before saving`);
    }
  }
  const px = new Uint8Array(src.length);
  if (image.dtype === 'uint8') px.set(src);
  else if (image.dtype === 'int32') for (let i = 0; i < src.length; i++) px[i] = Math.min(255, Math.max(0, src[i]));
  else for (let i = 0; i < src.length; i++) { const v = src[i]; px[i] = v > 1 ? 255 : v > 0 ? Math.round(v * 255) : 0; }
  const ext = extname(path).toLowerCase();
  const quality = opts.quality ?? 95;
  let pipe = sharp(Buffer.from(px.buffer, px.byteOffset, px.byteLength), { raw: { width: W, height: H, channels: C as 1 | 3 | 4 } });
  if (C === 1) pipe = pipe.toColourspace('b-w');
  if (ext === '.png') pipe = pipe.png();
  else if (ext === '.jpg' || ext === '.jpeg') pipe = pipe.jpeg({ quality });
  else if (ext === '.webp') pipe = pipe.webp({ quality });
  else if (ext === '.tif' || ext === '.tiff') pipe = pipe.tiff();
  else throw new RangeError(`convnet: imsave('${path}'): unknown extension '${ext}'; use .png, .jpg, .webp or .tif`);
  await writeFileAtomic(path, await pipe.toBuffer());
}
