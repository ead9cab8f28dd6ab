/**
 * A cheap look at an image file before anyone decodes it: its real format (whatever the extension
 * says), its size in pixels, and whether it is visibly cut short. Reads the first 64 KiB and the last
 * bytes only, so scanning 12,000 photos takes a second or two.
 */
import { promises as fsp } from 'node:fs';
import sharp from 'sharp';

export type ImageFormat = 'jpeg' | 'png' | 'gif' | 'bmp' | 'tiff' | 'webp' | 'pnm';

/** `bytes` and `mtimeMs` are the file's size and modification time at scan time (the cache's staleness check). */
export interface HeaderInfo { format: ImageFormat; width: number; height: number; bytes: number; mtimeMs: number }
export type HeaderResult = { ok: true; info: HeaderInfo } | { ok: false; reason: string };

import { DEFAULT_MAX_PIXELS } from '../io/image.js';
export { DEFAULT_MAX_PIXELS };

const HEAD = 65536;
const TAIL = 1024;

export function sniffFormat(b: Uint8Array): ImageFormat | null {
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'jpeg';
  if (b.length >= 8 && b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47 && b[4] === 0x0d && b[5] === 0x0a && b[6] === 0x1a && b[7] === 0x0a) return 'png';
  if (b.length >= 6 && b[0] === 0x47 && b[1] === 0x49 && b[2] === 0x46 && b[3] === 0x38) return 'gif';
  if (b.length >= 26 && b[0] === 0x42 && b[1] === 0x4d) return 'bmp';
  if (b.length >= 8 && ((b[0] === 0x49 && b[1] === 0x49 && b[2] === 0x2a && b[3] === 0) || (b[0] === 0x4d && b[1] === 0x4d && b[2] === 0 && b[3] === 0x2a))) return 'tiff';
  if (b.length >= 12 && b[0] === 0x52 && b[1] === 0x49 && b[2] === 0x46 && b[3] === 0x46 && b[8] === 0x57 && b[9] === 0x45 && b[10] === 0x42 && b[11] === 0x50) return 'webp';
  if (b.length >= 3 && b[0] === 0x50 && b[1] >= 0x31 && b[1] <= 0x36 && (b[2] === 0x0a || b[2] === 0x20 || b[2] === 0x0d || b[2] === 0x09)) return 'pnm';
  return null;
}

function looksLikeText(b: Uint8Array): boolean {
  const n = Math.min(b.length, 512);
  let printable = 0;
  for (let i = 0; i < n; i++) {
    const c = b[i];
    if (c === 9 || c === 10 || c === 13 || (c >= 32 && c < 127) || c >= 0xc0) printable++;
  }
  return n > 0 && printable / n > 0.95;
}

function be16(b: Uint8Array, i: number): number { return (b[i] << 8) | b[i + 1]; }
function be32(b: Uint8Array, i: number): number { return ((b[i] << 24) >>> 0) + (b[i + 1] << 16) + (b[i + 2] << 8) + b[i + 3]; }
function le16(b: Uint8Array, i: number): number { return b[i] | (b[i + 1] << 8); }
function le32s(b: Uint8Array, i: number): number { return b[i] | (b[i + 1] << 8) | (b[i + 2] << 16) | (b[i + 3] << 24); }

/** Width and height from a JPEG's SOF marker (null when the marker lies past the bytes read). */
function jpegSize(b: Uint8Array): { width: number; height: number } | null | 'bad' {
  let i = 2;
  while (i + 4 <= b.length) {
    if (b[i] !== 0xff) return 'bad';
    let m = b[i + 1];
    while (m === 0xff && i + 2 < b.length) { i++; m = b[i + 1]; }
    if (m === 0xd8 || (m >= 0xd0 && m <= 0xd7) || m === 0x01) { i += 2; continue; }
    if (m === 0xd9 || m === 0xda) return 'bad'; // image ends, or scan data starts, before any frame header
    const len = be16(b, i + 2);
    if (len < 2) return 'bad';
    const isSof = m >= 0xc0 && m <= 0xcf && m !== 0xc4 && m !== 0xc8 && m !== 0xcc;
    if (isSof) {
      if (i + 9 > b.length) return null;
      return { height: be16(b, i + 5), width: be16(b, i + 7) };
    }
    i += 2 + len;
  }
  return null;
}

/** Checks one file; never throws. */
export async function readHeader(path: string, maxPixels = DEFAULT_MAX_PIXELS): Promise<HeaderResult> {
  let fh: fsp.FileHandle | undefined;
  try {
    const st = await fsp.stat(path).catch(async (e) => {
      if (e.code === 'ENOENT' && (await fsp.lstat(path).catch(() => null))?.isSymbolicLink()) throw Object.assign(new Error(''), { code: 'BROKENLINK' });
      throw e;
    });
    if (!st.isFile()) return { ok: false, reason: 'not a regular file' };
    if (st.size === 0) return { ok: false, reason: 'empty file (0 bytes)' };
    fh = await fsp.open(path, 'r');
    const head = new Uint8Array(Math.min(HEAD, st.size));
    await fh.read(head, 0, head.length, 0);
    const tail = new Uint8Array(Math.min(TAIL, st.size));
    await fh.read(tail, 0, tail.length, st.size - tail.length);
    const format = sniffFormat(head);
    if (!format) {
      return { ok: false, reason: looksLikeText(head) ? 'not an image (text)' : 'not an image (unknown format)' };
    }
    let size: { width: number; height: number } | null = null;
    if (format === 'jpeg') {
      const s = jpegSize(head);
      if (s === 'bad') return { ok: false, reason: 'damaged JPEG (no frame header)' };
      size = s;
      // A complete JPEG ends with the EOI marker (some cameras append a little data after it).
      let eoi = false;
      for (let i = tail.length - 2; i >= 0; i--) if (tail[i] === 0xff && tail[i + 1] === 0xd9) { eoi = true; break; }
      if (!eoi) return { ok: false, reason: `truncated JPEG (${st.size} bytes, no end-of-image marker)` };
    } else if (format === 'png') {
      if (head.length < 24) return { ok: false, reason: 'truncated PNG (header cut short)' };
      size = { width: be32(head, 16), height: be32(head, 20) };
      const t = tail.length;
      const iend = t >= 8 && tail[t - 8] === 0x49 && tail[t - 7] === 0x45 && tail[t - 6] === 0x4e && tail[t - 5] === 0x44;
      if (!iend) return { ok: false, reason: `truncated PNG (${st.size} bytes, no IEND chunk)` };
    } else if (format === 'gif') {
      if (head.length < 10) return { ok: false, reason: 'truncated GIF' };
      size = { width: le16(head, 6), height: le16(head, 8) };
      if (tail[tail.length - 1] !== 0x3b) return { ok: false, reason: `truncated GIF (${st.size} bytes, no trailer)` };
    } else if (format === 'bmp') {
      const declared = le32s(head, 2) >>> 0;
      size = le32s(head, 14) === 12 ? { width: le16(head, 18), height: le16(head, 20) } : { width: Math.abs(le32s(head, 18)), height: Math.abs(le32s(head, 22)) };
      if (declared > st.size) return { ok: false, reason: `truncated BMP (${st.size} of ${declared} bytes)` };
    } else if (format === 'pnm') {
      const p = pnmHeader(head);
      if (!p) return { ok: false, reason: 'damaged PNM header' };
      size = { width: p.width, height: p.height };
      if (p.dataBytes && p.offset + p.dataBytes > st.size) return { ok: false, reason: `truncated PNM (${st.size} of ${p.offset + p.dataBytes} bytes)` };
    }
    if (!size) {
      // TIFF, WebP, and JPEGs with huge metadata before the frame: ask libvips (header only).
      try {
        const m = await sharp(path, { limitInputPixels: false }).metadata();
        size = { width: m.width ?? 0, height: m.height ?? 0 };
      } catch (e: any) {
        return { ok: false, reason: `unreadable ${format.toUpperCase()} header (${firstLine(e.message)})` };
      }
    }
    if (!(size.width > 0 && size.height > 0)) return { ok: false, reason: `invalid ${format.toUpperCase()} header (${size.width} x ${size.height} pixels)` };
    if (size.width * size.height > maxPixels) {
      return { ok: false, reason: `too many pixels (${size.width} x ${size.height} = ${size.width * size.height}, limit ${maxPixels}): possible decompression bomb` };
    }
    return { ok: true, info: { format, width: size.width, height: size.height, bytes: st.size, mtimeMs: st.mtimeMs } };
  } catch (e: any) {
    const code = e?.code;
    if (code === 'BROKENLINK') return { ok: false, reason: 'broken symbolic link' };
    if (code === 'EACCES' || code === 'EPERM') return { ok: false, reason: 'cannot be read (permission denied)' };
    if (code === 'ENOENT') return { ok: false, reason: 'file vanished while scanning' };
    if (code === 'ELOOP') return { ok: false, reason: 'symbolic link loop' };
    return { ok: false, reason: `cannot be read (${code ?? firstLine(String(e?.message ?? e))})` };
  } finally {
    await fh?.close().catch(() => {});
  }
}

/** Width, height and (binary kinds) the size of the pixel data of a PNM file. */
function pnmHeader(b: Uint8Array): { width: number; height: number; offset: number; dataBytes: number } | null {
  let i = 2;
  const tok = (): number => {
    for (;;) {
      while (i < b.length && (b[i] === 0x20 || b[i] === 0x0a || b[i] === 0x0d || b[i] === 0x09)) i++;
      if (b[i] === 0x23) { while (i < b.length && b[i] !== 0x0a) i++; continue; }
      break;
    }
    let v = '';
    while (i < b.length && b[i] >= 0x30 && b[i] <= 0x39) v += String.fromCharCode(b[i++]);
    return v ? Number(v) : NaN;
  };
  const kind = b[1] - 0x30;
  const width = tok(), height = tok();
  const maxval = kind === 1 || kind === 4 ? 1 : tok();
  if (!(width > 0 && height > 0 && maxval > 0)) return null;
  const offset = i + 1;
  const ch = kind === 6 ? 3 : 1;
  const dataBytes = kind === 4 ? Math.ceil(width / 8) * height : kind >= 5 ? width * height * ch * (maxval > 255 ? 2 : 1) : 0;
  return { width, height, offset, dataBytes };
}

export function firstLine(s: string): string { return String(s).split('\n')[0].trim(); }

/** Runs `fn` over `items` with at most `limit` in flight, keeping the results in order. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (t: T, i: number) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const run = async () => { while (next < items.length) { const i = next++; out[i] = await fn(items[i], i); } };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, run));
  return out;
}
