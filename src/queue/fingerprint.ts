/**
 * A data set's fingerprint: its file list, the sizes, and a hash of a sample of the bytes. Every
 * worker reads the images from its own path; the sweep records the fingerprint, and a worker whose
 * folder differs refuses to train on it (results from different data would be ranked together).
 */
import { createHash } from 'node:crypto';
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { DataDirInfo } from '../notebook/dataset.js';

export interface DataFingerprint {
  /** Files, classes and total bytes, for messages. */
  files: number;
  classes: string[];
  bytes: number;
  /** sha256 (16 hex digits) of every `class/file<TAB>size` line. */
  list: string;
  /** sha256 (16 hex digits) of the first 64 KiB of up to 64 files spread evenly over the list. */
  sample: string;
}

const SAMPLE_FILES = 64;
const SAMPLE_BYTES = 64 * 1024;

/** Fingerprint of a folder listed by `inspectDataDir`. */
export function fingerprintData(info: DataDirInfo): DataFingerprint {
  const entries: { path: string; rel: string; size: number }[] = [];
  for (const c of info.classes) {
    for (const f of info.files[c]) {
      const path = join(info.dir, c, f);
      entries.push({ path, rel: `${c}/${f.split('\\').join('/')}`, size: statSync(path).size });
    }
  }
  const list = createHash('sha256');
  let bytes = 0;
  for (const e of entries) { list.update(`${e.rel}\t${e.size}\n`); bytes += e.size; }
  const sample = createHash('sha256');
  const step = Math.max(1, entries.length / SAMPLE_FILES);
  const buf = Buffer.alloc(SAMPLE_BYTES);
  for (let k = 0; k < entries.length && k < SAMPLE_FILES; k++) {
    const e = entries[Math.floor(k * step)];
    const fd = openSync(e.path, 'r');
    try {
      const n = readSync(fd, buf, 0, SAMPLE_BYTES, 0);
      sample.update(e.rel).update(buf.subarray(0, n));
    } finally { closeSync(fd); }
  }
  return { files: entries.length, classes: info.classes, bytes, list: list.digest('hex').slice(0, 16), sample: sample.digest('hex').slice(0, 16) };
}

/** Why two fingerprints differ, in a few words; undefined when they match. */
export function fingerprintDifference(want: DataFingerprint, got: DataFingerprint): string | undefined {
  if (want.list === got.list && want.sample === got.sample) return undefined;
  if (want.classes.join(',') !== got.classes.join(',')) return `classes ${got.classes.join(', ')} instead of ${want.classes.join(', ')}`;
  if (want.files !== got.files) return `${got.files} files instead of ${want.files}`;
  if (want.list !== got.list) return `${got.files} files, but other names or sizes (${got.bytes} bytes instead of ${want.bytes})`;
  return 'the same names and sizes, but other contents';
}
