/** Small file helpers shared by the run log, the sweep and the report. */
import { existsSync, readFileSync } from 'node:fs';

/** Writes to a temporary name beside `path`, flushes, then renames: readers see the old file or the new one, never half of one (the one helper in src/io/files.ts, which also removes dead processes' temporaries). */
export { writeFileAtomicSync as writeFileAtomic } from '../io/files.js';
import { writeFileAtomicSync as writeFileAtomic } from '../io/files.js';

/** Appends one JSON line atomically: the whole file is rewritten under a temporary name and renamed. */
export function appendJsonLine(path: string, value: unknown): void {
  const before = existsSync(path) ? readFileSync(path, 'utf8') : '';
  const sep = before.length && !before.endsWith('\n') ? '\n' : '';
  writeFileAtomic(path, before + sep + JSON.stringify(value) + '\n');
}

/** Reads a JSON-lines file; lines that do not parse (a foreign edit, a torn write by another tool) are reported and skipped. */
export function readJsonLines<T>(path: string, warn: (msg: string) => void = () => {}): T[] {
  if (!existsSync(path)) return [];
  const out: T[] = [];
  readFileSync(path, 'utf8').split('\n').forEach((line, i) => {
    if (!line.trim()) return;
    try {
      out.push(JSON.parse(line) as T);
    } catch {
      warn(`${path}:${i + 1}: not valid JSON, skipped`);
    }
  });
  return out;
}

/** Reads a JSON file, or returns undefined when it is absent. */
export function readJson<T>(path: string): T | undefined {
  if (!existsSync(path)) return undefined;
  return JSON.parse(readFileSync(path, 'utf8')) as T;
}
