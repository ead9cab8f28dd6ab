/**
 * Fetching the notebook's data: a download that resumes where an interrupted one stopped (HTTP Range),
 * checks the size, shows progress, and a zip extraction that no entry can escape (no absolute paths,
 * no '..', no links) with limits on the total size and the number of entries (zip bombs).
 */
import { createReadStream, existsSync, mkdirSync, openSync, writeSync, closeSync, statSync, renameSync, rmSync } from 'node:fs';
import { dirname, isAbsolute, resolve, sep } from 'node:path';
import { Unzip, UnzipInflate, UnzipPassThrough } from 'fflate';

/** The notebook's files and where it fetches them. */
export const NOTEBOOK_BASE_URL = 'https://geo.ingeotec.mx/~lgruiz/MeIA/';
export const NOTEBOOK_FILES: { name: string; size: number | null; unzip: boolean }[] = [
  { name: 'PetImages_small.zip', size: 386_340_140, unzip: true },
  { name: 'house.jpg', size: null, unzip: false },
];

export interface Progress { received: number; total: number | null; bytesPerSecond: number }

export interface DownloadOptions {
  /** Expected size in bytes; the download fails unless the file ends up exactly this size. */
  expectedSize?: number | null;
  onProgress?: (p: Progress) => void;
  /** Attempts after a dropped connection, each resuming (default 5). */
  retries?: number;
  /** Milliseconds between attempts (default 1000). */
  retryDelayMs?: number;
  log?: (line: string) => void;
}

/**
 * Downloads `url` to `dest` through `dest + '.part'`, resuming a partial file with a Range request.
 * Resolves to the final size; the file appears under `dest` only once complete and the right size.
 */
export async function downloadFile(url: string, dest: string, opts: DownloadOptions = {}): Promise<number> {
  const part = `${dest}.part`;
  const expected = opts.expectedSize ?? null;
  if (existsSync(dest) && (expected === null || statSync(dest).size === expected)) return statSync(dest).size;
  mkdirSync(dirname(resolve(dest)), { recursive: true });
  const retries = opts.retries ?? 5;
  let lastError: unknown = null;
  for (let attempt = 0; attempt <= retries; attempt++) {
    if (attempt > 0) {
      // "Resuming" only when there is something to resume from; otherwise it is a plain retry.
      const have = existsSync(part) ? statSync(part).size : 0;
      const next = `(attempt ${attempt + 1} of ${retries + 1})`;
      opts.log?.(have > 0
        ? `connection lost after ${have} bytes (${(lastError as Error)?.message ?? lastError}); resuming ${next}`
        : `${(lastError as Error)?.message ?? lastError}; retrying ${next}`);
      await new Promise((r) => setTimeout(r, opts.retryDelayMs ?? 1000));
    }
    try {
      const total = await attemptDownload(url, part, expected, opts);
      if (expected !== null && total !== expected) {
        rmSync(part, { force: true });
        throw new Error(`size check failed for ${url}: got ${total} bytes, expected ${expected}`);
      }
      renameSync(part, dest);
      return total;
    } catch (e: any) {
      if (e instanceof DownloadError) throw e;
      if (/size check failed/.test(e?.message)) throw e;
      lastError = e?.cause && !(e instanceof DownloadError) ? networkError(url, e) : e; // a dropped transfer ("terminated")
    }
  }
  const kept = existsSync(part) ? statSync(part).size : 0;
  throw new Error(`download of ${url} failed after ${retries + 1} attempts: ${(lastError as Error)?.message ?? lastError}; ${kept > 0 ? `run the command again to resume from ${kept} bytes` : 'run the command again once the connection works'}`);
}

/** Errors that retrying will not fix (HTTP 404, a server that returns the wrong size, an unknown host). */
export class DownloadError extends Error {}

/**
 * What fetch's bare "fetch failed" means, from its cause: a host name that does not resolve (offline,
 * or a wrong --url) and a refused connection are not retried; a reset or a timeout is.
 */
export function networkError(url: string, e: unknown): Error {
  const cause = (e as { cause?: { code?: string; message?: string } })?.cause;
  const code = cause?.code ?? (e as { code?: string })?.code;
  let host = url;
  try { host = new URL(url).host; } catch { /* keep the url */ }
  switch (code) {
    case 'ENOTFOUND':
      return new DownloadError(`cannot resolve the host name '${host}' (DNS lookup failed: ${code}): check the network connection, or the address (--url)`);
    case 'EAI_AGAIN':
      return new Error(`the host name '${host}' could not be resolved right now (DNS: ${code})`);
    case 'ECONNREFUSED':
      return new DownloadError(`${host} refused the connection (${code}): the server is down or the address (--url) is wrong`);
    case 'ECONNRESET': case 'UND_ERR_SOCKET':
      return new Error(`the connection to ${host} was reset (${code})`);
    case 'ETIMEDOUT': case 'UND_ERR_CONNECT_TIMEOUT': case 'UND_ERR_HEADERS_TIMEOUT': case 'UND_ERR_BODY_TIMEOUT':
      return new Error(`the connection to ${host} timed out (${code})`);
    case 'ENETUNREACH': case 'EHOSTUNREACH':
      return new Error(`${host} is unreachable (${code}): check the network connection`);
    default:
      if (code && /CERT|SSL|TLS/.test(code)) return new DownloadError(`${host}: secure connection failed (${code}${cause?.message ? `: ${cause.message}` : ''})`);
      return new Error(`${host}: ${cause?.message ?? (e as Error)?.message ?? String(e)}${code ? ` (${code})` : ''}`);
  }
}

async function attemptDownload(url: string, part: string, expected: number | null, opts: DownloadOptions): Promise<number> {
  let have = existsSync(part) ? statSync(part).size : 0;
  if (expected !== null && have > expected) { rmSync(part); have = 0; }
  if (expected !== null && have === expected) return have;
  const headers: Record<string, string> = have > 0 ? { Range: `bytes=${have}-` } : {};
  let res: Response;
  try {
    res = await fetch(url, { headers, redirect: 'follow' });
  } catch (e) {
    throw networkError(url, e);
  }
  if (res.status === 416 && have > 0) {
    // Nothing left to fetch: the part file is already whole (the size check decides).
    await res.body?.cancel();
    return have;
  }
  if (!(res.status === 200 || res.status === 206)) {
    await res.body?.cancel();
    throw new DownloadError(`${url}: HTTP ${res.status} ${res.statusText}`);
  }
  let total: number | null = null;
  if (res.status === 206) {
    const m = /bytes (\d+)-\d+\/(\d+|\*)/.exec(res.headers.get('content-range') ?? '');
    if (!m || Number(m[1]) !== have) { await res.body?.cancel(); rmSync(part, { force: true }); throw new Error('server answered a different range; starting over'); }
    if (m[2] !== '*') total = Number(m[2]);
  } else {
    have = 0; // the server ignored the Range header: start over
    const len = res.headers.get('content-length');
    if (len !== null) total = Number(len);
  }
  if (expected !== null && total !== null && total !== expected) {
    await res.body?.cancel();
    throw new DownloadError(`size check failed for ${url}: the server offers ${total} bytes, expected ${expected} (use --url if the file moved)`);
  }
  const fd = openSync(part, have > 0 ? 'a' : 'w');
  let received = have;
  const started = Date.now();
  let lastReport = 0;
  try {
    const reader = res.body!.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      writeSync(fd, value);
      received += value.length;
      const now = Date.now();
      if (opts.onProgress && now - lastReport > 100) {
        lastReport = now;
        opts.onProgress({ received, total: total ?? expected, bytesPerSecond: ((received - have) * 1000) / Math.max(1, now - started) });
      }
    }
  } finally {
    closeSync(fd);
  }
  opts.onProgress?.({ received, total: total ?? expected, bytesPerSecond: ((received - have) * 1000) / Math.max(1, Date.now() - started) });
  if (total !== null && received < total) throw new Error(`transfer ended at ${received} of ${total} bytes`);
  return received;
}

export interface UnzipOptions {
  /** Refuse archives that expand beyond this many bytes (default 4 GiB). */
  maxBytes?: number;
  /** Refuse archives with more entries (default 100,000). */
  maxEntries?: number;
  onEntry?: (name: string) => void;
}

/** The path an entry would be written to, or null when it would escape `destDir` or is not a plain name. */
export function safeEntryPath(destDir: string, name: string): string | null {
  if (!name || name.includes('\0')) return null;
  const n = name.replace(/\\/g, '/');
  if (n.startsWith('/') || /^[A-Za-z]:/.test(n) || isAbsolute(n)) return null;
  const parts = n.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.some((p) => p === '..')) return null;
  if (!parts.length) return null;
  const root = resolve(destDir);
  const p = resolve(root, ...parts);
  return p.startsWith(root + sep) ? p : null;
}

/**
 * Extracts `zipPath` into `destDir`, streaming (memory stays small). Throws before writing anything
 * outside `destDir`; entries are written as plain files (zip 'symlinks' are not created as links).
 */
export async function unzipSafe(zipPath: string, destDir: string, opts: UnzipOptions = {}): Promise<{ files: number; bytes: number }> {
  const maxBytes = opts.maxBytes ?? 4 * 1024 ** 3;
  const maxEntries = opts.maxEntries ?? 100_000;
  mkdirSync(destDir, { recursive: true });
  let files = 0, bytes = 0, entries = 0;
  let failure: Error | null = null;
  const open = new Map<number, string>();
  const unzip = new Unzip((file) => {
    if (failure) return;
    if (++entries > maxEntries) { failure = new Error(`unsafe zip: more than ${maxEntries} entries`); return; }
    const target = safeEntryPath(destDir, file.name);
    if (!target) { failure = new Error(`unsafe zip: entry '${file.name}' would be written outside ${destDir}`); return; }
    if (file.name.endsWith('/') || file.name.endsWith('\\')) { mkdirSync(target, { recursive: true }); return; }
    if (file.originalSize !== undefined && bytes + file.originalSize > maxBytes) {
      failure = new Error(`unsafe zip: expands to more than ${maxBytes} bytes`); return;
    }
    mkdirSync(dirname(target), { recursive: true });
    const tmp = `${target}.convnet-part`;
    const fd = openSync(tmp, 'w');
    open.set(fd, tmp);
    file.ondata = (err, data, final) => {
      if (failure) return;
      if (err) { failure = new Error(`damaged zip entry '${file.name}': ${err.message}`); return; }
      bytes += data.length;
      if (bytes > maxBytes) { failure = new Error(`unsafe zip: expands to more than ${maxBytes} bytes`); file.terminate(); return; }
      writeSync(fd, data);
      if (final) {
        closeSync(fd); open.delete(fd);
        renameSync(tmp, target);
        files++;
        opts.onEntry?.(file.name);
      }
    };
    try { file.start(); } catch (e: any) { failure = new Error(`zip entry '${file.name}': ${e.message}`); }
  });
  unzip.register(UnzipInflate);
  unzip.register(UnzipPassThrough);
  await new Promise<void>((resolveP, reject) => {
    const rs = createReadStream(zipPath, { highWaterMark: 1 << 20 });
    rs.on('data', (chunk) => {
      try { unzip.push(chunk as Buffer); } catch (e: any) { failure ??= new Error(`damaged zip: ${e.message}`); }
      if (failure) rs.destroy();
    });
    rs.on('end', () => { try { unzip.push(new Uint8Array(0), true); } catch (e: any) { failure ??= new Error(`damaged zip: ${e.message}`); } resolveP(); });
    rs.on('close', () => resolveP());
    rs.on('error', reject);
  });
  for (const [fd, tmp] of open) { try { closeSync(fd); } catch { /* already closed */ } rmSync(tmp, { force: true }); }
  if (failure) throw failure;
  return { files, bytes };
}

/** A one-line progress bar: `[#####.....]  45%  170.2/386.3 MB  12.3 MB/s`. */
export function progressBar(p: Progress, width = 30): string {
  const mb = (n: number) => (n / 1e6).toFixed(1);
  const rate = `${mb(p.bytesPerSecond)} MB/s`;
  if (!p.total) return `${mb(p.received)} MB  ${rate}`;
  const f = Math.min(1, p.received / p.total);
  const fill = Math.round(f * width);
  return `[${'#'.repeat(fill)}${'.'.repeat(width - fill)}] ${(f * 100).toFixed(0).padStart(3)}%  ${mb(p.received)}/${mb(p.total)} MB  ${rate}`;
}

