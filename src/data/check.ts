/**
 * `checkDirectory`: every problem in a flow_from_directory folder, file by file, with its reason:
 * what the scan leaves out (empty, truncated, not an image, too many pixels, unreadable, broken
 * links), files ignored for their extension (Thumbs.db, .DS_Store), and optionally files whose
 * header is fine but whose data fails to decode.
 */
import { join } from 'node:path';
import { discoverClasses, walkSorted, extensionOf, WHITE_LIST_FORMATS, type ListingNote } from './listing.js';
import { readHeader, mapLimit, DEFAULT_MAX_PIXELS, firstLine } from './header.js';
import { decodeImage } from './decode.js';

export interface CheckProblem { path: string; reason: string }
export interface CheckReport {
  classes: string[];
  /** Usable images per class. */
  counts: Record<string, number>;
  images: number;
  problems: CheckProblem[];
  /** Files left out for their extension (not problems). */
  ignored: CheckProblem[];
  notes: ListingNote[];
}

export async function checkDirectory(directory: string, opts: { decode?: boolean; maxPixels?: number; followLinks?: boolean; onProgress?: (done: number, total: number) => void } = {}): Promise<CheckReport> {
  const { classes, hidden } = await discoverClasses(directory);
  const notes: ListingNote[] = hidden.map((h) => ({ path: join(directory, h), message: 'hidden folder, not a class' }));
  const formats = new Set<string>(WHITE_LIST_FORMATS);
  const files: { path: string; cls: string }[] = [];
  const ignored: CheckProblem[] = [];
  for (const c of classes) {
    for (const [root, names] of await walkSorted(join(directory, c), opts.followLinks ?? false, notes)) {
      for (const n of names) {
        const p = join(root, n);
        if (formats.has(extensionOf(n))) files.push({ path: p, cls: c });
        else ignored.push({ path: p, reason: n === 'Thumbs.db' ? 'Windows thumbnail cache, not an image' : n === '.DS_Store' ? 'macOS folder metadata, not an image' : `extension '${extensionOf(n)}' is not one of ${WHITE_LIST_FORMATS.join(', ')}` });
      }
    }
  }
  const counts: Record<string, number> = Object.fromEntries(classes.map((c) => [c, 0]));
  const problems: CheckProblem[] = [];
  let done = 0;
  const maxPixels = opts.maxPixels ?? DEFAULT_MAX_PIXELS;
  await mapLimit(files, opts.decode ? 4 : 32, async (f) => {
    const h = await readHeader(f.path, maxPixels);
    let reason = h.ok ? null : h.reason;
    if (!reason && opts.decode) {
      try {
        await decodeImage(f.path, { targetSize: null, colorMode: 'rgb', interpolation: 'nearest', keepAspectRatio: false, maxPixels });
      } catch (e: any) {
        reason = `cannot decode (${firstLine(e?.message ?? String(e))})`;
      }
    }
    if (reason) problems.push({ path: f.path, reason });
    else counts[f.cls]++;
    opts.onProgress?.(++done, files.length);
  });
  problems.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  for (const c of classes) if (counts[c] === 0) notes.push({ path: join(directory, c), message: 'class folder has no usable images' });
  return { classes, counts, images: files.length - problems.length, problems, ignored, notes };
}
