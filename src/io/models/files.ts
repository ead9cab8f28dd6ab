/**
 * Atomic file writes: each file goes to a temporary name in the same folder, is flushed, then
 * renamed over the target, so a crash mid-save never leaves a truncated model under its name.
 */
import { stat } from 'node:fs/promises';
import { readRegularFile } from '../files.js';

/** Writes `data` to `path` atomically (temp file in the same folder + rename); stale temporaries of dead processes are removed first. */
export { writeFileAtomic } from '../files.js';

/** Reads a file, refusing files above `maxBytes` before reading them, and anything but a regular file (a FIFO never blocks). */
export async function readFileLimited(path: string, maxBytes: number, what: string): Promise<Uint8Array> {
  let buf: Buffer;
  try {
    buf = await readRegularFile(path, maxBytes);
  } catch (e: any) {
    if (e?.code === 'ENOTREG' || e?.code === 'EISDIR' || e?.code === 'ENXIO') throw new Error(`${what}: not a file${e.kind ? ` (${e.kind})` : ''}`);
    if (e instanceof RangeError) { const s = await stat(path); throw new Error(`${what}: the file is ${s.size} bytes, more than the limit of ${maxBytes}`); }
    throw e;
  }
  return new Uint8Array(buf); // its own ArrayBuffer, as before
}

export async function isDirectory(path: string): Promise<boolean> {
  try { return (await stat(path)).isDirectory(); } catch { return false; }
}
