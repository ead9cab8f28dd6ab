/**
 * Atomic file writes: each file goes to a temporary name in the same folder, is flushed, then
 * renamed over the target, so a crash mid-save never leaves a truncated model under its name.
 */
import { stat, readFile } from 'node:fs/promises';

/** Writes `data` to `path` atomically (temp file in the same folder + rename); stale temporaries of dead processes are removed first. */
export { writeFileAtomic } from '../files.js';

/** Reads a file, refusing files above `maxBytes` before reading them. */
export async function readFileLimited(path: string, maxBytes: number, what: string): Promise<Uint8Array> {
  const s = await stat(path);
  if (!s.isFile()) throw new Error(`${what}: not a file`);
  if (s.size > maxBytes) throw new Error(`${what}: the file is ${s.size} bytes, more than the limit of ${maxBytes}`);
  return new Uint8Array(await readFile(path));
}

export async function isDirectory(path: string): Promise<boolean> {
  try { return (await stat(path)).isDirectory(); } catch { return false; }
}
