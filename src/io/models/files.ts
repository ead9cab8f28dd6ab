/**
 * Atomic file writes: each file goes to a temporary name in the same folder, is flushed, then
 * renamed over the target, so a crash mid-save never leaves a truncated model under its name.
 */
import { open, rename, unlink, mkdir, stat, readFile } from 'node:fs/promises';
import { dirname, basename, join } from 'node:path';
import { randomBytes } from 'node:crypto';

/** Writes `data` to `path` atomically (temp file in the same folder + rename). */
export async function writeFileAtomic(path: string, data: Uint8Array | string): Promise<void> {
  const dir = dirname(path);
  await mkdir(dir, { recursive: true });
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const fh = await open(tmp, 'wx');
  try {
    await fh.writeFile(data);
    await fh.sync();
  } catch (e) {
    await fh.close().catch(() => {});
    await unlink(tmp).catch(() => {});
    throw e;
  }
  await fh.close();
  try {
    await rename(tmp, path);
  } catch (e) {
    await unlink(tmp).catch(() => {});
    throw e;
  }
}

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
