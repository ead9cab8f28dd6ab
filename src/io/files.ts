/**
 * The file helpers every writer and reader in convnet shares (issue 11 §6, §10, §11):
 *
 * - `writeFileAtomic` / `writeFileAtomicSync`: the one atomic write. The data goes to
 *   `.NAME.PID.HEX.tmp` in the same folder, is flushed, then renamed over NAME, so a reader (or a
 *   crash) sees the old file or the new one, never half of one.
 * - `cleanStaleTemps(dir)`: a process killed mid-save leaves its full-size temporary behind. Every
 *   atomic write first removes, once per folder and process, the temporaries of processes that no
 *   longer exist (never another live process's, never anything but a regular file).
 * - `readRegularFile(path)`: opens without blocking and checks the opened descriptor is a regular
 *   file before reading, so a FIFO, socket or device (even one swapped in after a listing) is an
 *   error that names the file instead of a hang.
 * - `DECODER_FAIL_ON`: the one decoder policy of `imread`, the data pipeline and `check --decode`.
 *
 * Node only (node:fs); light enough for the decode workers.
 */
import { constants, closeSync, fstatSync, fsyncSync, lstatSync, mkdirSync, openSync, readdirSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { mkdir, open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';

/**
 * sharp's `failOn` for every image decode: 'error' decodes what Pillow (so Keras and scikit-image)
 * decodes, such as a JPEG missing its last bytes or with a garbled scan, and refuses what libvips
 * cannot read at all. imread, the data pipeline and `convnet check --decode` all use it.
 */
export const DECODER_FAIL_ON = 'error' as const;

/** A file that exists but is not a regular file (FIFO, socket, device, directory). */
export class NotARegularFileError extends Error {
  constructor(readonly path: string, readonly kind: string) {
    super(`'${path}' is ${kind}, not a regular file`);
    this.name = 'NotARegularFileError';
    (this as any).code = 'ENOTREG';
  }
}

function kindOf(st: import('node:fs').Stats): string {
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a FIFO (named pipe)';
  if (st.isSocket()) return 'a socket';
  if (st.isCharacterDevice() || st.isBlockDevice()) return 'a device';
  return 'not a regular file';
}

/**
 * Reads a whole regular file. Opened with O_NONBLOCK and checked with fstat on the open
 * descriptor, so a FIFO never blocks (not even one swapped in after a listing); `maxBytes`
 * refuses larger files before reading them.
 */
export async function readRegularFile(path: string, maxBytes = Infinity): Promise<Buffer> {
  let fh: import('node:fs/promises').FileHandle;
  try {
    fh = await open(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  } catch (e: any) {
    // A UNIX socket cannot be opened at all (ENXIO): say what it is.
    if (e?.code === 'ENXIO') { let k = 'not a regular file'; try { k = kindOf(lstatSync(path)); } catch { /* keep */ } throw new NotARegularFileError(path, k); }
    throw e;
  }
  try {
    const st = await fh.stat();
    if (!st.isFile()) throw new NotARegularFileError(path, kindOf(st));
    if (st.size > maxBytes) throw new RangeError(`'${path}' is ${st.size} bytes, more than the limit of ${maxBytes}`);
    return await fh.readFile();
  } finally {
    await fh.close();
  }
}

// ---- temporaries ----------------------------------------------------------------------------

/**
 * Temporary names convnet writers use, each with the writer's pid:
 * `.NAME.PID.HEX.tmp` (this module), `.NAME.PID.tmp` (older run-log writer),
 * `NAME.PID.HEX.tmp` (the decoded-image cache), `.NAME.tmp-PID.EXT` (ModelCheckpoint),
 * `.best-model.PID.keras` (the sweep's best model between its two renames).
 */
const TEMP_PATTERNS = [/^\..+\.(\d+)\.[0-9a-f]{8}\.tmp$/, /^\..+\.(\d+)\.tmp$/, /^.+\.(\d+)\.[0-9a-f]{8}\.tmp$/, /^\..+\.tmp-(\d+)(\.[A-Za-z0-9]+)?$/,
  /^\.best-model\.(\d+)\.keras$/];

/** The pid in a convnet temporary's name, or null when the name is not one. */
export function tempOwner(name: string): number | null {
  for (const re of TEMP_PATTERNS) {
    const m = re.exec(name);
    if (m) return Number(m[1]);
  }
  return null;
}

/** Whether a process with this pid exists (EPERM: it exists but belongs to someone else). */
export function processAlive(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e: any) {
    return e?.code === 'EPERM';
  }
}

const cleaned = new Map<string, number>();
/** A folder is scanned again after this long (other processes may have died meanwhile). */
const RESCAN_MS = 60_000;

/**
 * Removes the temporaries of dead processes from `dir` (regular files only, never this process's
 * or a live process's). Returns the names removed. Errors are ignored: cleaning is best effort.
 */
export function cleanStaleTemps(dir: string, opts: { force?: boolean } = {}): string[] {
  const key = resolve(dir);
  const now = Date.now();
  const last = cleaned.get(key);
  if (!opts.force && last !== undefined && now - last < RESCAN_MS) return [];
  cleaned.set(key, now);
  const removed: string[] = [];
  let names: string[];
  try { names = readdirSync(dir); } catch { return removed; }
  for (const name of names) {
    const pid = tempOwner(name);
    if (pid === null || processAlive(pid)) continue;
    const p = join(dir, name);
    try {
      if (!lstatSync(p).isFile()) continue;
      unlinkSync(p);
      removed.push(name);
    } catch { /* gone already, or not ours to remove */ }
  }
  return removed;
}

function tempName(path: string): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
}

/** Writes `data` to `path` atomically (temp file in the same folder, fsync, rename). */
export async function writeFileAtomic(path: string, data: Uint8Array | string): Promise<void> {
  const dir = dirname(path);
  await mkdir(dir, { recursive: true });
  cleanStaleTemps(dir);
  const tmp = tempName(path);
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

/** The synchronous twin of `writeFileAtomic` (run logs, sweep files: written between awaits). */
export function writeFileAtomicSync(path: string, data: Uint8Array | string): void {
  const dir = dirname(path);
  mkdirSync(dir, { recursive: true });
  cleanStaleTemps(dir);
  const tmp = tempName(path);
  const fd = openSync(tmp, 'wx');
  try {
    const buf = typeof data === 'string' ? Buffer.from(data) : data;
    let off = 0;
    while (off < buf.byteLength) off += writeSync(fd, buf, off, buf.byteLength - off);
    fsyncSync(fd);
    closeSync(fd);
  } catch (e) {
    try { closeSync(fd); } catch { /* already closed */ }
    try { unlinkSync(tmp); } catch { /* nothing to remove */ }
    throw e;
  }
  try {
    renameSync(tmp, path);
  } catch (e) {
    try { unlinkSync(tmp); } catch { /* nothing to remove */ }
    throw e;
  }
}

/** fstat of an open descriptor says regular file (for readers that open by hand). */
export function assertRegularFd(fd: number, path: string): void {
  const st = fstatSync(fd);
  if (!st.isFile()) throw new NotARegularFileError(path, kindOf(st));
}
