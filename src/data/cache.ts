/**
 * Cache of decoded, resized images (uint8 [h, w, c] each), so that epochs after the first skip
 * decoding. In memory (`cache: true`) or in one file (`cache: 'path'`): a flat array of
 * fixed-size records plus a small JSON sidecar that says which records are filled and for which
 * files and settings, so a stale cache is never read.
 */
import { promises as fsp, existsSync, readFileSync, writeFileSync, openSync, closeSync, ftruncateSync } from 'node:fs';
import { createHash } from 'node:crypto';

export interface ImageCache {
  get(index: number): Promise<Uint8Array | null>;
  set(index: number, pixels: Uint8Array): Promise<void>;
  /** Records kept so far. */
  readonly count: number;
  flush(): Promise<void>;
  close(): Promise<void>;
}

export class MemoryCache implements ImageCache {
  private map = new Map<number, Uint8Array>();
  get count(): number { return this.map.size; }
  async get(i: number): Promise<Uint8Array | null> { return this.map.get(i) ?? null; }
  async set(i: number, px: Uint8Array): Promise<void> { this.map.set(i, px.slice()); }
  async flush(): Promise<void> {}
  async close(): Promise<void> { this.map.clear(); }
}

/** A key that changes whenever the files, their order or the decode settings change. */
export function cacheKey(parts: unknown): string {
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex').slice(0, 32);
}

export class FileCache implements ImageCache {
  private filled: Uint8Array;
  private fh: fsp.FileHandle | null = null;
  private dirty = false;
  private n = 0;

  private constructor(readonly path: string, readonly samples: number, readonly recordBytes: number, readonly key: string) {
    this.filled = new Uint8Array(samples);
  }

  static async open(path: string, samples: number, recordBytes: number, key: string): Promise<FileCache> {
    const c = new FileCache(path, samples, recordBytes, key);
    const side = `${path}.json`;
    let reuse = false;
    if (existsSync(path) && existsSync(side)) {
      try {
        const meta = JSON.parse(readFileSync(side, 'utf8'));
        if (meta.key === key && meta.samples === samples && meta.recordBytes === recordBytes && typeof meta.filled === 'string') {
          const bits = Buffer.from(meta.filled, 'base64');
          for (let i = 0; i < samples; i++) if (bits[i >> 3] & (1 << (i & 7))) { c.filled[i] = 1; c.n++; }
          reuse = true;
        }
      } catch { /* unreadable sidecar: start afresh */ }
    }
    if (!reuse) {
      const fd = openSync(path, 'w');
      ftruncateSync(fd, 0);
      closeSync(fd);
    }
    c.fh = await fsp.open(path, 'r+');
    return c;
  }

  get count(): number { return this.n; }

  async get(i: number): Promise<Uint8Array | null> {
    if (!this.filled[i] || !this.fh) return null;
    const buf = new Uint8Array(this.recordBytes);
    const { bytesRead } = await this.fh.read(buf, 0, this.recordBytes, i * this.recordBytes);
    return bytesRead === this.recordBytes ? buf : null;
  }

  async set(i: number, px: Uint8Array): Promise<void> {
    if (this.filled[i] || !this.fh || px.length !== this.recordBytes) return;
    await this.fh.write(px, 0, px.length, i * this.recordBytes);
    this.filled[i] = 1;
    this.n++;
    this.dirty = true;
  }

  async flush(): Promise<void> {
    if (!this.dirty) return;
    const bits = new Uint8Array(Math.ceil(this.samples / 8));
    for (let i = 0; i < this.samples; i++) if (this.filled[i]) bits[i >> 3] |= 1 << (i & 7);
    await this.fh?.sync();
    writeFileSync(`${this.path}.json`, JSON.stringify({ key: this.key, samples: this.samples, recordBytes: this.recordBytes, filled: Buffer.from(bits).toString('base64') }));
    this.dirty = false;
  }

  async close(): Promise<void> {
    await this.flush();
    await this.fh?.close();
    this.fh = null;
  }
}
