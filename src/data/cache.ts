/**
 * Caches of decoded, resized images (uint8 [h, w, c] each, before any augmentation), so that epochs
 * after the first skip reading and decoding the files. Augmentation, rescaling and normalisation
 * still run on every epoch, on the cached pixels, exactly as Keras runs them on a fresh decode.
 *
 * - `MemoryCache`: one copy of each image in memory. `cache: 'auto'` (the default of
 *   flowFromDirectory) takes it only when the whole subset fits in the memory budget (see
 *   `memoryBudget`), counted over every cache of the process.
 * - `FileCache`: one file of fixed-size records read and written at fixed offsets (the page cache
 *   then keeps hot records in memory, as a memory map would). Each record carries the size and
 *   modification time of its source file, a hash of its path, and a CRC-32 of its pixels: a record
 *   whose file changed since, or that was cut short by a kill or a full disk, is never read; the image
 *   is decoded again and the record rewritten. The file itself is created under a temporary name and
 *   renamed into place, so a half-made cache file never exists under its real name, and its header
 *   names the decode settings and the list of files it was made for.
 */
import { promises as fsp, openSync, closeSync, readSync, writeSync, fstatSync, statSync, ftruncateSync, fsyncSync, renameSync, unlinkSync, mkdirSync, statfsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { totalmem, freemem, tmpdir } from 'node:os';
import { cleanStaleTemps } from '../io/files.js';

export interface ImageCache {
  readonly kind: 'memory' | 'file';
  get(index: number): Promise<Uint8Array | null>;
  set(index: number, pixels: Uint8Array): Promise<void>;
  /** Records kept (and valid) so far. */
  readonly count: number;
  flush(): Promise<void>;
  close(): Promise<void>;
}

/** What a record is checked against: the source file as the scan saw it. */
export interface FileSignature { path: string; bytes: number; mtimeMs: number }

// ---- memory budget ---------------------------------------------------------------------------

let reserved = 0;
const released = new FinalizationRegistry<{ bytes: number }>((r) => { reserved -= r.bytes; });

/**
 * Bytes that in-memory image caches may hold together in this process: the smaller of a quarter of
 * the machine's memory (or of the cgroup's limit when lower) and half of the memory free when the cache is made (so the engine's heap,
 * other processes and the page cache keep the rest). `CONVNET_CACHE_MEMORY_MB` sets it instead
 * (0 turns in-memory caching off for `cache: 'auto'`).
 */
export function memoryBudget(): number {
  const env = process.env.CONVNET_CACHE_MEMORY_MB;
  if (env !== undefined && env.trim() !== '') {
    const mb = Number(env);
    if (!(Number.isFinite(mb) && mb >= 0)) throw new RangeError(`convnet: CONVNET_CACHE_MEMORY_MB must be a number of MiB >= 0, got '${env}'`);
    return Math.floor(mb * 2 ** 20);
  }
  // A cgroup limit (containers) below the machine's memory counts as the machine.
  const limit = (process as { constrainedMemory?: () => number | undefined }).constrainedMemory?.() ?? 0;
  const total = limit > 0 && limit < totalmem() ? limit : totalmem();
  return Math.floor(Math.min(total / 4, freemem() / 2));
}

/** Bytes currently reserved by in-memory caches. */
export function memoryReserved(): number { return reserved; }

export class MemoryCache implements ImageCache {
  readonly kind = 'memory' as const;
  private records: (Uint8Array | undefined)[];
  private n = 0;
  private token: { bytes: number } | null = null;

  constructor(readonly samples: number, readonly recordBytes: number) {
    this.records = new Array(samples);
  }

  /** A memory cache counted against `memoryBudget()`, or null when it would not fit. */
  static reserve(samples: number, recordBytes: number): MemoryCache | null {
    const bytes = samples * recordBytes;
    if (reserved + bytes > memoryBudget()) return null;
    const c = new MemoryCache(samples, recordBytes);
    reserved += bytes;
    c.token = { bytes };
    released.register(c, c.token, c);
    return c;
  }

  get count(): number { return this.n; }
  async get(i: number): Promise<Uint8Array | null> { return this.records[i] ?? null; }
  async set(i: number, px: Uint8Array): Promise<void> {
    if (this.records[i] || px.length !== this.recordBytes || i < 0 || i >= this.samples) return;
    this.records[i] = px.slice();
    this.n++;
  }
  async flush(): Promise<void> {}
  async close(): Promise<void> {
    this.records = new Array(this.samples);
    this.n = 0;
    if (this.token) { reserved -= this.token.bytes; released.unregister(this); this.token = null; }
  }
}

/** A key that changes whenever the files, their order or the decode settings change. */
export function cacheKey(parts: unknown): string {
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex').slice(0, 32);
}

/** Where `cache: 'auto'` puts cache files: `CONVNET_CACHE_DIR`, else `<tmpdir>/convnet-cache`. */
export function cacheDir(): string { return process.env.CONVNET_CACHE_DIR || join(tmpdir(), 'convnet-cache'); }

/** Free bytes on the file system holding `dir` (its nearest existing parent), or Infinity when unknown. */
export function freeDisk(dir: string): number {
  for (let d = dir; ; d = dirname(d)) {
    try { const s = statfsSync(d); return s.bavail * s.bsize; } catch { if (dirname(d) === d) return Infinity; }
  }
}

// ---- file cache --------------------------------------------------------------------------------

const FORMAT = 'convnet-image-cache';
const VERSION = 2;
/** Bytes of the file header (JSON, space-padded). */
export const HEADER_BYTES = 4096;
/** Bytes before each record's pixels: magic, crc32(pixels), crc32(path), 0, bytes (f64), mtimeMs (f64). */
export const PREFIX_BYTES = 32;
const REC_MAGIC = 0x31434552; // 'REC1'

function pathHash(p: string): number { return crc32(Buffer.from(p, 'utf8')); }

export class FileCache implements ImageCache {
  readonly kind = 'file' as const;
  private valid: Uint8Array;
  private fh: fsp.FileHandle | null = null;
  private dirty = false;
  private n = 0;
  private hashes: Uint32Array;
  /** Set when a write failed (full disk, removed file): the cache stops growing, reads go on. */
  writeError: string | null = null;
  readonly stride: number;

  private constructor(readonly path: string, readonly files: readonly FileSignature[], readonly recordBytes: number, readonly key: string) {
    this.valid = new Uint8Array(files.length);
    this.hashes = Uint32Array.from(files, (f) => pathHash(f.path));
    this.stride = PREFIX_BYTES + recordBytes;
  }

  get samples(): number { return this.files.length; }

  /**
   * Opens (or creates) the cache file at `path` for `files` decoded with `settings`. A file made for
   * other files or settings, or of the wrong size, is replaced; valid records of a matching one are reused.
   */
  static async open(path: string, files: readonly FileSignature[], recordBytes: number, settings: unknown): Promise<FileCache> {
    const key = cacheKey({ settings, recordBytes, files: files.map((f) => f.path) });
    const c = new FileCache(path, files, recordBytes, key);
    const size = HEADER_BYTES + files.length * c.stride;
    let st: ReturnType<typeof statSync> | null = null;
    try { st = statSync(path); } catch (e: any) {
      if (e?.code !== 'ENOENT') throw new Error(`convnet: cache file ${path}: cannot be read (${e?.code ?? e}); pass another path or cache: false`);
    }
    if (st && !st.isFile()) throw new Error(`convnet: cache file ${path} exists and is not a regular file; pass another path or cache: false`);
    let fd = -1;
    if (st) {
      try {
        fd = openSync(path, 'r+');
        if (fstatSync(fd).size !== size || !c.headerMatches(fd)) { closeSync(fd); fd = -1; }
      } catch (e: any) {
        if (fd >= 0) closeSync(fd);
        throw new Error(`convnet: cache file ${path}: cannot be opened (${e?.code ?? e?.message}); pass another path or cache: false`);
      }
    }
    if (fd < 0) { c.create(size); fd = openSync(path, 'r+'); }
    try { c.scan(fd); } finally { closeSync(fd); }
    c.fh = await fsp.open(path, 'r+');
    return c;
  }

  private header(): Buffer {
    const json = JSON.stringify({ format: FORMAT, version: VERSION, key: this.key, samples: this.samples, recordBytes: this.recordBytes, stride: this.stride });
    const b = Buffer.alloc(HEADER_BYTES, 0x20);
    b.write(json, 0, 'utf8');
    b[HEADER_BYTES - 1] = 0x0a;
    return b;
  }

  private headerMatches(fd: number): boolean {
    const b = Buffer.alloc(HEADER_BYTES);
    if (readSync(fd, b, 0, HEADER_BYTES, 0) !== HEADER_BYTES) return false;
    return b.equals(this.header());
  }

  /** Writes an empty (sparse) cache file under a temporary name, then renames it into place. */
  private create(size: number): void {
    mkdirSync(dirname(this.path), { recursive: true });
    cleanStaleTemps(dirname(this.path)); // a cache build killed mid-way left its temporary here
    const tmp = `${this.path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    let fd = -1;
    try {
      fd = openSync(tmp, 'wx');
      const h = this.header();
      writeSync(fd, h, 0, h.length, 0);
      ftruncateSync(fd, size);
      fsyncSync(fd);
      closeSync(fd);
      fd = -1;
      renameSync(tmp, this.path);
    } catch (e: any) {
      if (fd >= 0) closeSync(fd);
      try { unlinkSync(tmp); } catch { /* never made */ }
      throw new Error(`convnet: cache file ${this.path}: cannot be created (${e?.code ?? e?.message}); pass another path or cache: false`);
    }
  }

  /** Marks the records whose prefix matches the current file signatures (pixels are checked on read). */
  private scan(fd: number): void {
    const p = Buffer.alloc(PREFIX_BYTES);
    for (let i = 0; i < this.samples; i++) {
      if (readSync(fd, p, 0, PREFIX_BYTES, HEADER_BYTES + i * this.stride) !== PREFIX_BYTES) continue;
      if (this.prefixMatches(p, 0, i)) { this.valid[i] = 1; this.n++; }
    }
  }

  private prefixMatches(b: Buffer, off: number, i: number): boolean {
    const f = this.files[i];
    return b.readUInt32LE(off) === REC_MAGIC && b.readUInt32LE(off + 8) === this.hashes[i]
      && b.readDoubleLE(off + 16) === f.bytes && b.readDoubleLE(off + 24) === f.mtimeMs;
  }

  get count(): number { return this.n; }

  private invalidate(i: number): void { if (this.valid[i]) { this.valid[i] = 0; this.n--; } }

  async get(i: number): Promise<Uint8Array | null> {
    if (!this.valid[i] || !this.fh) return null;
    // Its own ArrayBuffer (never a slice of Buffer's shared pool): the pixels may travel to a worker.
    const b = Buffer.from(new ArrayBuffer(this.stride));
    let bytesRead = 0;
    try { ({ bytesRead } = await this.fh.read(b, 0, this.stride, HEADER_BYTES + i * this.stride)); } catch { /* treated as missing */ }
    const px = b.subarray(PREFIX_BYTES);
    if (bytesRead !== this.stride || !this.prefixMatches(b, 0, i) || crc32(px) !== b.readUInt32LE(4)) {
      this.invalidate(i);
      return null;
    }
    return new Uint8Array(px.buffer, px.byteOffset, px.length);
  }

  async set(i: number, px: Uint8Array): Promise<void> {
    if (this.valid[i] || !this.fh || this.writeError || px.length !== this.recordBytes || i < 0 || i >= this.samples) return;
    const b = Buffer.allocUnsafe(this.stride);
    const f = this.files[i];
    b.writeUInt32LE(REC_MAGIC, 0);
    b.writeUInt32LE(crc32(px), 4);
    b.writeUInt32LE(this.hashes[i], 8);
    b.writeUInt32LE(0, 12);
    b.writeDoubleLE(f.bytes, 16);
    b.writeDoubleLE(f.mtimeMs, 24);
    b.set(px, PREFIX_BYTES);
    try {
      await this.fh.write(b, 0, this.stride, HEADER_BYTES + i * this.stride);
    } catch (e: any) {
      this.writeError = `${e?.code ?? e?.message}`;
      return;
    }
    if (!this.valid[i]) { this.valid[i] = 1; this.n++; }
    this.dirty = true;
  }

  async flush(): Promise<void> {
    if (!this.dirty || !this.fh) return;
    this.dirty = false;
    await this.fh.datasync().catch(() => {});
  }

  async close(): Promise<void> {
    await this.flush();
    const fh = this.fh;
    this.fh = null;
    await fh?.close();
  }
}
