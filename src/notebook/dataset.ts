/** Checks on an image folder made before anything long starts, and the sweep's `--subset` copy. */
import { copyFileSync, existsSync, linkSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { join, relative, dirname } from 'node:path';
import { Rng } from '../tensor/random.js';

/** Keras's white list of image extensions. */
const IMAGE_EXT = /\.(png|jpe?g|bmp|ppm|tiff?)$/i;

export interface DataDirInfo {
  dir: string;
  classes: string[];
  /** Image files per class (relative to the class folder), sorted by code point. */
  files: Record<string, string[]>;
}

function listImages(root: string): string[] {
  const out: string[] = [];
  const stack = [root];
  while (stack.length) {
    const d = stack.pop()!;
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.name.startsWith('.')) continue;
      const p = join(d, e.name);
      if (e.isDirectory()) stack.push(p);
      else if (e.isFile() && IMAGE_EXT.test(e.name)) out.push(relative(root, p));
    }
  }
  return out.sort();
}

/**
 * Lists a `flowFromDirectory` folder: one sub-folder per class. Errors, each saying what to do, for
 * a missing folder, a file instead of a folder, fewer than two classes, or a class without images.
 */
export function inspectDataDir(dir: string): DataDirInfo {
  if (!existsSync(dir)) throw new Error(`data folder '${dir}' does not exist`);
  if (!statSync(dir).isDirectory()) throw new Error(`'${dir}' is a file; --data wants a folder with one sub-folder of images per class`);
  const classes = readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory() && !e.name.startsWith('.')).map((e) => e.name).sort();
  if (classes.length === 0) throw new Error(`data folder '${dir}' has no class sub-folders; put each class's images in its own sub-folder (e.g. ${dir}/Cat, ${dir}/Dog)`);
  if (classes.length === 1) throw new Error(`data folder '${dir}' has a single class ('${classes[0]}'); a binary classifier needs two class sub-folders`);
  const files: Record<string, string[]> = {};
  for (const c of classes) {
    files[c] = listImages(join(dir, c));
    if (files[c].length === 0) throw new Error(`class folder '${join(dir, c)}' holds no images (png, jpg, jpeg, bmp, ppm, tif, tiff)`);
  }
  return { dir, classes, files };
}

/**
 * Writes a smaller copy of a data folder: `fraction` of each class's files (at least 2), drawn with the
 * seed, hard-linked (copied across file systems). Reuses the folder when it already holds the same files.
 */
export function makeSubset(info: DataDirInfo, fraction: number, dest: string, seed = 42): DataDirInfo {
  const files: Record<string, string[]> = {};
  for (const c of info.classes) {
    const all = info.files[c];
    const n = Math.max(2, Math.ceil(all.length * fraction));
    const idx = Array.from(all.keys());
    new Rng(seed).shuffle(idx);
    files[c] = idx.slice(0, n).map((i) => all[i]).sort();
    for (const f of files[c]) {
      const to = join(dest, c, f);
      if (existsSync(to)) continue;
      mkdirSync(dirname(to), { recursive: true });
      try {
        linkSync(join(info.dir, c, f), to);
      } catch {
        copyFileSync(join(info.dir, c, f), to);
      }
    }
  }
  return { dir: dest, classes: info.classes, files };
}
