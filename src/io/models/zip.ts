/**
 * A small, strict zip reader and a writer for `.keras` archives.
 *
 * The reader is written for untrusted files: it reads the central directory itself, refuses
 * entries whose names could escape a folder (zip-slip), encrypted or split archives, and
 * archives whose declared sizes exceed the limits (zip bombs); it then inflates each entry
 * with a hard cap at its declared size and checks its CRC-32.
 */
import { Inflate, zipSync } from 'fflate';

/** Limits applied while reading an archive. */
export interface ZipLimits {
  /** Most entries an archive may hold (default 1,000). */
  maxEntries?: number;
  /** Most bytes one entry may expand to (default 2 GiB). */
  maxEntryBytes?: number;
  /** Most bytes all entries together may expand to (default 2 GiB). */
  maxTotalBytes?: number;
  /** Highest expansion ratio for entries above 1 MiB (default 1,100; deflate cannot exceed ~1,032). */
  maxRatio?: number;
  /**
   * Per-name limits, checked against the central directory's declared size before anything is
   * inflated (default: config.json 16 MiB, metadata.json 1 MiB: the JSON of a .keras file is small,
   * and a 1.5 MB archive whose config.json inflated to 1.5 GiB took 22 s and 1.8 GB before failing).
   */
  maxBytesByName?: Record<string, number>;
}

export const DEFAULT_ZIP_LIMITS: Required<ZipLimits> = {
  maxEntries: 1000,
  maxEntryBytes: 2 ** 31,
  maxTotalBytes: 2 ** 31,
  maxRatio: 1100,
  maxBytesByName: { 'config.json': 16 * 2 ** 20, 'metadata.json': 2 ** 20 },
};

export class UnsafeFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnsafeFileError';
  }
}

interface CentralEntry {
  name: string;
  method: number;
  flags: number;
  crc: number;
  compressedSize: number;
  size: number;
  localOffset: number;
}

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

export function crc32(data: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < data.length; i++) c = CRC_TABLE[(c ^ data[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** True when a zip entry name stays inside the folder it would be extracted to. */
export function isSafeEntryName(name: string): boolean {
  if (name.length === 0 || name.includes('\0')) return false;
  if (name.startsWith('/') || name.startsWith('\\') || /^[A-Za-z]:/.test(name)) return false;
  return !name.split(/[\\/]/).some((seg) => seg === '..');
}

function findEndOfCentralDirectory(view: DataView): number {
  const min = Math.max(0, view.byteLength - 22 - 0xffff);
  for (let i = view.byteLength - 22; i >= min; i--) {
    if (view.getUint32(i, true) === 0x06054b50) return i;
  }
  throw new UnsafeFileError('not a zip archive (no end-of-central-directory record)');
}

function readCentralDirectory(bytes: Uint8Array, limits: Required<ZipLimits>, what: string): CentralEntry[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const eocd = findEndOfCentralDirectory(view);
  const disk = view.getUint16(eocd + 4, true);
  const cdDisk = view.getUint16(eocd + 6, true);
  const count = view.getUint16(eocd + 10, true);
  const cdSize = view.getUint32(eocd + 12, true);
  const cdOffset = view.getUint32(eocd + 16, true);
  if (disk !== 0 || cdDisk !== 0) throw new UnsafeFileError(`${what}: split (multi-disk) zip archives are not supported`);
  if (count === 0xffff || cdOffset === 0xffffffff || cdSize === 0xffffffff) {
    throw new UnsafeFileError(`${what}: zip64 archives are not supported (model archives above 4 GiB)`);
  }
  if (count > limits.maxEntries) throw new UnsafeFileError(`${what}: the archive has ${count} entries, more than the limit of ${limits.maxEntries}`);
  if (cdOffset + cdSize > eocd) throw new UnsafeFileError(`${what}: corrupt zip (central directory runs past its end)`);
  const entries: CentralEntry[] = [];
  const seen = new Set<string>();
  let total = 0;
  let p = cdOffset;
  const utf8 = new TextDecoder('utf-8', { fatal: false });
  const latin1 = new TextDecoder('latin1');
  for (let i = 0; i < count; i++) {
    if (p + 46 > eocd || view.getUint32(p, true) !== 0x02014b50) throw new UnsafeFileError(`${what}: corrupt zip (bad central directory entry ${i})`);
    const flags = view.getUint16(p + 8, true);
    const method = view.getUint16(p + 10, true);
    const crc = view.getUint32(p + 16, true);
    const compressedSize = view.getUint32(p + 20, true);
    const size = view.getUint32(p + 24, true);
    const nameLen = view.getUint16(p + 28, true);
    const extraLen = view.getUint16(p + 30, true);
    const commentLen = view.getUint16(p + 32, true);
    const localOffset = view.getUint32(p + 42, true);
    const rawName = bytes.subarray(p + 46, p + 46 + nameLen);
    const name = (flags & 0x800 ? utf8 : latin1).decode(rawName);
    p += 46 + nameLen + extraLen + commentLen;
    if (!isSafeEntryName(name)) throw new UnsafeFileError(`${what}: refused zip entry ${JSON.stringify(name)}: its name would escape the archive's folder`);
    if (seen.has(name)) throw new UnsafeFileError(`${what}: the zip entry ${JSON.stringify(name)} appears twice`);
    seen.add(name);
    if (flags & 1) throw new UnsafeFileError(`${what}: zip entry ${JSON.stringify(name)} is encrypted`);
    if (size === 0xffffffff || compressedSize === 0xffffffff || localOffset === 0xffffffff) {
      throw new UnsafeFileError(`${what}: zip64 entries are not supported (${JSON.stringify(name)})`);
    }
    if (method !== 0 && method !== 8) throw new UnsafeFileError(`${what}: zip entry ${JSON.stringify(name)} uses compression method ${method} (only stored and deflate are read)`);
    if (size > limits.maxEntryBytes) {
      throw new UnsafeFileError(`${what}: zip entry ${JSON.stringify(name)} expands to ${size} bytes, more than the limit of ${limits.maxEntryBytes}`);
    }
    const own = limits.maxBytesByName[name];
    if (own !== undefined && size > own) {
      throw new UnsafeFileError(`${what}: zip entry ${JSON.stringify(name)} declares ${size} bytes, more than its limit of ${own} bytes ` +
        `(a zip bomb, or not a model saved by Keras or convnet); nothing was inflated`);
    }
    if (size > 2 ** 20 && size > limits.maxRatio * Math.max(1, compressedSize)) {
      throw new UnsafeFileError(`${what}: zip entry ${JSON.stringify(name)} expands ${Math.round(size / Math.max(1, compressedSize))}-fold, a zip bomb`);
    }
    total += size;
    if (total > limits.maxTotalBytes) throw new UnsafeFileError(`${what}: the archive expands to more than the limit of ${limits.maxTotalBytes} bytes`);
    entries.push({ name, method, flags, crc, compressedSize, size, localOffset });
  }
  return entries;
}

function inflateBounded(data: Uint8Array, size: number, name: string, what: string): Uint8Array {
  const out = new Uint8Array(size);
  let written = 0;
  const inf = new Inflate((chunk) => {
    if (written + chunk.length > size) throw new UnsafeFileError(`${what}: zip entry ${JSON.stringify(name)} expands past its declared size of ${size} bytes`);
    out.set(chunk, written);
    written += chunk.length;
  });
  const step = 16384;
  for (let off = 0; off < data.length; off += step) {
    inf.push(data.subarray(off, Math.min(data.length, off + step)), off + step >= data.length);
  }
  if (data.length === 0) inf.push(new Uint8Array(0), true);
  if (written !== size) throw new UnsafeFileError(`${what}: zip entry ${JSON.stringify(name)} holds ${written} bytes, its header says ${size}`);
  return out;
}

/** Reads every entry of a zip archive held in memory, checking names, sizes and CRCs. */
export function readZip(bytes: Uint8Array, limits: ZipLimits = {}, what = 'zip'): Map<string, Uint8Array> {
  const lim = { ...DEFAULT_ZIP_LIMITS, ...limits, maxBytesByName: { ...DEFAULT_ZIP_LIMITS.maxBytesByName, ...limits.maxBytesByName } };
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const files = new Map<string, Uint8Array>();
  for (const e of readCentralDirectory(bytes, lim, what)) {
    const p = e.localOffset;
    if (p + 30 > bytes.length || view.getUint32(p, true) !== 0x04034b50) throw new UnsafeFileError(`${what}: corrupt zip (bad local header for ${JSON.stringify(e.name)})`);
    const start = p + 30 + view.getUint16(p + 26, true) + view.getUint16(p + 28, true);
    const end = start + e.compressedSize;
    if (end > bytes.length) throw new UnsafeFileError(`${what}: corrupt zip (entry ${JSON.stringify(e.name)} runs past the end of the file)`);
    const raw = bytes.subarray(start, end);
    let data: Uint8Array;
    if (e.method === 0) {
      if (e.compressedSize !== e.size) throw new UnsafeFileError(`${what}: corrupt zip (stored entry ${JSON.stringify(e.name)} has two sizes)`);
      data = raw.slice();
    } else {
      data = inflateBounded(raw, e.size, e.name, what);
    }
    if (crc32(data) !== e.crc) throw new UnsafeFileError(`${what}: zip entry ${JSON.stringify(e.name)} is corrupt (CRC-32 mismatch)`);
    if (!e.name.endsWith('/')) files.set(e.name, data);
  }
  return files;
}

/**
 * Writes a zip archive with the entries in the given order, stored without compression as
 * Keras's `zipfile.ZipFile(f, "w")` does (weights barely compress, and loading stays fast).
 */
export function writeZip(entries: [string, Uint8Array][], date = new Date()): Uint8Array {
  const files: Record<string, [Uint8Array, { level: 0; mtime: Date }]> = {};
  for (const [name, data] of entries) {
    if (!isSafeEntryName(name)) throw new Error(`convnet: refusing to write zip entry ${JSON.stringify(name)}`);
    files[name] = [data, { level: 0, mtime: date }];
  }
  return zipSync(files);
}
