/**
 * Decoders for the two white-listed formats libvips (inside sharp) cannot read: BMP (uncompressed
 * 1/4/8/16/24/32-bit, bit fields, OS/2 headers) and PNM (P1-P6, 8 or 16 bits). They return
 * interleaved uint8 pixels that the rest of the pipeline treats like sharp's output.
 */
export interface RawImage { data: Uint8Array; width: number; height: number; channels: 1 | 3 | 4 }

function u16(b: Uint8Array, i: number): number { return b[i] | (b[i + 1] << 8); }
function u32(b: Uint8Array, i: number): number { return (b[i] | (b[i + 1] << 8) | (b[i + 2] << 16) | (b[i + 3] << 24)) >>> 0; }
function s32(b: Uint8Array, i: number): number { return b[i] | (b[i + 1] << 8) | (b[i + 2] << 16) | (b[i + 3] << 24); }

function need(cond: boolean, what: string): void { if (!cond) throw new Error(`damaged BMP: ${what}`); }

/** Scales a value read under `mask` to 0..255. */
function maskReader(mask: number): (v: number) => number {
  if (!mask) return () => 255;
  let shift = 0;
  while (!((mask >>> shift) & 1)) shift++;
  const max = mask >>> shift;
  return (v: number) => Math.round((((v & mask) >>> shift) * 255) / max);
}

export function decodeBmp(b: Uint8Array): RawImage {
  need(b.length >= 26 && b[0] === 0x42 && b[1] === 0x4d, 'no BM signature');
  const dataOffset = u32(b, 10);
  const hs = u32(b, 14);
  let width: number, height: number, bpp: number, compression = 0, colors = 0;
  let palEntry = 4;
  if (hs === 12) {
    width = u16(b, 18); height = u16(b, 20); bpp = u16(b, 24); palEntry = 3;
  } else {
    need(b.length >= 54, 'header cut short');
    width = s32(b, 18); height = s32(b, 22); bpp = u16(b, 28); compression = u32(b, 30); colors = u32(b, 46);
  }
  const topDown = height < 0;
  height = Math.abs(height);
  need(width > 0 && height > 0, `invalid size ${width} x ${height}`);
  if (compression === 1 || compression === 2) throw new Error('RLE-compressed BMP is not supported');
  need(compression === 0 || compression === 3 || compression === 6, `unsupported compression ${compression}`);
  let rMask = 0, gMask = 0, bMask = 0, aMask = 0;
  if (compression === 3 || compression === 6) {
    const at = hs >= 52 ? 54 : 14 + hs;
    rMask = u32(b, at); gMask = u32(b, at + 4); bMask = u32(b, at + 8);
    if (compression === 6 || hs >= 56) aMask = u32(b, at + 12);
  } else if (bpp === 16) { rMask = 0x7c00; gMask = 0x03e0; bMask = 0x001f; }
  else if (bpp === 32) { rMask = 0xff0000; gMask = 0xff00; bMask = 0xff; }
  const palette: number[][] = [];
  if (bpp <= 8) {
    const n = colors || 1 << bpp;
    const at = 14 + hs + (compression === 3 ? 12 : compression === 6 ? 16 : 0);
    for (let i = 0; i < n; i++) {
      const p = at + i * palEntry;
      palette.push(p + 2 < b.length ? [b[p + 2], b[p + 1], b[p]] : [0, 0, 0]);
    }
  }
  // A palette of grays is a grayscale image (Pillow opens it as mode 'L'): one channel.
  const gray = bpp <= 8 && palette.every(([r, g, bl]) => r === g && g === bl);
  const channels: 1 | 3 | 4 = gray ? 1 : aMask ? 4 : 3;
  const stride = Math.floor((width * bpp + 31) / 32) * 4;
  need(dataOffset + stride * height <= b.length, `pixel data cut short (${b.length} bytes, need ${dataOffset + stride * height})`);
  const out = new Uint8Array(width * height * channels);
  const rd = maskReader(rMask), gd = maskReader(gMask), bd = maskReader(bMask), ad = maskReader(aMask);
  for (let y = 0; y < height; y++) {
    const row = dataOffset + (topDown ? y : height - 1 - y) * stride;
    for (let x = 0; x < width; x++) {
      const o = (y * width + x) * channels;
      let r: number, g: number, bl: number, a = 255;
      if (bpp <= 8) {
        const bit = x * bpp;
        const v = (b[row + (bit >> 3)] >> (8 - bpp - (bit & 7))) & ((1 << bpp) - 1);
        [r, g, bl] = palette[v] ?? [0, 0, 0];
      } else if (bpp === 24) {
        const p = row + x * 3; bl = b[p]; g = b[p + 1]; r = b[p + 2];
      } else {
        const v = bpp === 16 ? u16(b, row + x * 2) : u32(b, row + x * 4);
        r = rd(v); g = gd(v); bl = bd(v); if (aMask) a = ad(v);
      }
      if (channels === 1) { out[o] = r; continue; }
      out[o] = r; out[o + 1] = g; out[o + 2] = bl;
      if (channels === 4) out[o + 3] = a;
    }
  }
  return { data: out, width, height, channels };
}

/** Width and height from a BMP header without decoding (null when the header is cut short). */
export function bmpSize(b: Uint8Array): { width: number; height: number } | null {
  if (b.length < 26) return null;
  const hs = u32(b, 14);
  if (hs === 12) return { width: u16(b, 18), height: u16(b, 20) };
  if (b.length < 26) return null;
  return { width: s32(b, 18), height: Math.abs(s32(b, 22)) };
}

export function decodePnm(b: Uint8Array): RawImage {
  let i = 0;
  const token = (): string => {
    for (;;) {
      while (i < b.length && (b[i] === 0x20 || b[i] === 0x0a || b[i] === 0x0d || b[i] === 0x09)) i++;
      if (b[i] === 0x23) { while (i < b.length && b[i] !== 0x0a) i++; continue; }
      break;
    }
    const s = i;
    while (i < b.length && !(b[i] === 0x20 || b[i] === 0x0a || b[i] === 0x0d || b[i] === 0x09)) i++;
    if (s === i) throw new Error('damaged PNM: header cut short');
    return String.fromCharCode(...b.subarray(s, i));
  };
  const magic = token();
  const kind = Number(magic[1]);
  if (magic[0] !== 'P' || !(kind >= 1 && kind <= 6)) throw new Error(`damaged PNM: bad magic '${magic}'`);
  const width = Number(token()), height = Number(token());
  const maxval = kind === 1 || kind === 4 ? 1 : Number(token());
  if (!(width > 0 && height > 0 && maxval > 0 && maxval < 65536)) throw new Error(`damaged PNM: invalid header ${width} x ${height}, maxval ${maxval}`);
  i++; // the single whitespace after the header
  const channels: 1 | 3 = kind === 3 || kind === 6 ? 3 : 1;
  const n = width * height * channels;
  const out = new Uint8Array(n);
  const scale = (v: number) => Math.round((v * 255) / maxval);
  if (kind === 4) {
    const stride = Math.ceil(width / 8);
    if (i + stride * height > b.length) throw new Error('damaged PNM: pixel data cut short');
    for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) out[y * width + x] = (b[i + y * stride + (x >> 3)] >> (7 - (x & 7))) & 1 ? 0 : 255;
  } else if (kind >= 5) {
    const bytes = maxval > 255 ? 2 : 1;
    if (i + n * bytes > b.length) throw new Error('damaged PNM: pixel data cut short');
    for (let k = 0; k < n; k++) out[k] = scale(bytes === 2 ? (b[i + 2 * k] << 8) | b[i + 2 * k + 1] : b[i + k]);
  } else {
    for (let k = 0; k < n; k++) {
      const v = Number(token());
      out[k] = kind === 1 ? (v ? 0 : 255) : scale(v);
    }
  }
  return { data: out, width, height, channels };
}
