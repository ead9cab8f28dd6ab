/**
 * Listing a `flow_from_directory` folder exactly as Keras's DirectoryIterator does
 * (keras_preprocessing/image/utils.py `_iter_valid_files`, `_list_valid_filenames_in_directory`):
 * classes are the sorted sub-folders, each class folder is walked recursively, the walk's folders
 * are sorted by full path and the files of each folder by name (code-point order), files are kept
 * by a case-insensitive extension white list, and the validation split takes the first
 * floor(split * n) files of each class.
 */
import { promises as fsp, Dirent } from 'node:fs';
import { join, relative, sep } from 'node:path';

/** Keras's `Iterator.white_list_formats`. */
export const WHITE_LIST_FORMATS = ['png', 'jpg', 'jpeg', 'bmp', 'ppm', 'tif', 'tiff'] as const;

/** Python's string order (code points), not JavaScript's UTF-16 order. */
export function compareCodePoints(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i), y = b.charCodeAt(i);
    if (x === y) continue;
    // A surrogate (astral code point) sorts above every BMP character.
    const sx = x >= 0xd800 && x <= 0xdfff, sy = y >= 0xd800 && y <= 0xdfff;
    if (sx !== sy) return sx ? 1 : -1;
    return x - y;
  }
  return a.length - b.length;
}

/** `os.path.splitext(name)[1].strip('.').lower()`. */
export function extensionOf(name: string): string {
  const dot = name.lastIndexOf('.');
  if (dot <= 0 || /^\.*$/.test(name.slice(0, dot))) return '';
  return name.slice(dot + 1).toLowerCase();
}

export interface ListedFile {
  /** Keras's filename: '<class folder>/<path inside it>'. */
  filename: string;
  /** Full path. */
  path: string;
  classIndex: number;
}

export interface ListingNote { path: string; message: string }

export interface Listing {
  classNames: string[];
  /** Class folders in class order, with every white-listed file (before the split). */
  perClass: ListedFile[][];
  /** Folders the walk could not enter, links not followed, loops. */
  notes: ListingNote[];
  /** Hidden folders left out of the class list. */
  hiddenClassDirs: string[];
}

async function isDir(p: string): Promise<boolean> {
  try { return (await fsp.stat(p)).isDirectory(); } catch { return false; }
}

/** The class folders: sorted sub-directories (following links, as os.path.isdir does), hidden ones left out. */
export async function discoverClasses(directory: string): Promise<{ classes: string[]; hidden: string[] }> {
  let names: string[];
  try {
    names = await fsp.readdir(directory);
  } catch (e: any) {
    throw new Error(`convnet: flowFromDirectory: cannot read folder '${directory}': ${e.code === 'ENOENT' ? 'no such folder' : e.code === 'ENOTDIR' ? 'not a folder' : e.message}`);
  }
  names.sort(compareCodePoints);
  const classes: string[] = [];
  const hidden: string[] = [];
  for (const n of names) {
    if (!(await isDir(join(directory, n)))) continue;
    // Keras would count '.ipynb_checkpoints' as a class; nobody wants that.
    if (n.startsWith('.')) hidden.push(n); else classes.push(n);
  }
  return { classes, hidden };
}

/**
 * Walks one class folder like `sorted(os.walk(dir, followlinks), key=root)`: returns [root, sorted files]
 * for every folder reached. Links to folders are entered only with followLinks, and never twice
 * (a link loop would make os.walk run until the path is too long).
 */
export async function walkSorted(dir: string, followLinks: boolean, notes: ListingNote[]): Promise<Array<[string, string[]]>> {
  const out: Array<[string, string[]]> = [];
  const seen = new Set<string>();
  const stack = [dir];
  while (stack.length) {
    const root = stack.pop()!;
    try {
      const real = await fsp.realpath(root);
      if (seen.has(real)) { notes.push({ path: root, message: 'symbolic link loop: folder already visited, not entered again' }); continue; }
      seen.add(real);
    } catch { /* unreadable: readdir below reports it */ }
    let entries: Dirent[];
    try {
      entries = await fsp.readdir(root, { withFileTypes: true });
    } catch (e: any) {
      notes.push({ path: root, message: `cannot list folder (${e.code ?? e.message})` });
      continue;
    }
    const files: string[] = [];
    for (const e of entries) {
      const p = join(root, e.name);
      if (e.isDirectory()) { stack.push(p); continue; }
      if (e.isSymbolicLink()) {
        // os.walk: a link to a folder is a folder (entered only with followlinks); anything else is a file.
        if (await isDir(p)) {
          if (followLinks) stack.push(p);
          else notes.push({ path: p, message: 'link to a folder, not followed (followLinks: true to enter it)' });
          continue;
        }
      }
      files.push(e.name);
    }
    files.sort(compareCodePoints);
    out.push([root, files]);
  }
  out.sort((a, b) => compareCodePoints(a[0], b[0]));
  return out;
}

/** Lists every class folder's white-listed files in Keras's order. */
export async function listDirectory(directory: string, opts: { classes?: string[] | null; followLinks?: boolean; formats?: readonly string[] } = {}): Promise<Listing> {
  const notes: ListingNote[] = [];
  let classNames: string[];
  let hiddenClassDirs: string[] = [];
  if (opts.classes && opts.classes.length) {
    classNames = opts.classes.slice();
    for (const c of classNames) if (!(await isDir(join(directory, c)))) notes.push({ path: join(directory, c), message: `class folder '${c}' does not exist` });
  } else {
    const d = await discoverClasses(directory);
    classNames = d.classes;
    hiddenClassDirs = d.hidden;
  }
  const formats = new Set(opts.formats ?? WHITE_LIST_FORMATS);
  const perClass: ListedFile[][] = [];
  for (let ci = 0; ci < classNames.length; ci++) {
    const classDir = join(directory, classNames[ci]);
    const list: ListedFile[] = [];
    if (await isDir(classDir)) {
      for (const [root, files] of await walkSorted(classDir, opts.followLinks ?? false, notes)) {
        for (const f of files) {
          if (!formats.has(extensionOf(f))) continue;
          const path = join(root, f);
          list.push({ path, filename: join(classNames[ci], relative(classDir, path)).split(sep).join('/'), classIndex: ci });
        }
      }
    }
    perClass.push(list);
  }
  return { classNames, perClass, notes, hiddenClassDirs };
}

/** Keras's subset of one class's files: validation is [0, int(split*n)), training [int(split*n), n). */
export function splitRange(n: number, validationSplit: number, subset: 'training' | 'validation' | null | undefined): [number, number] {
  if (!subset) return [0, n];
  const cut = Math.trunc(validationSplit * n);
  return subset === 'validation' ? [0, cut] : [cut, Math.trunc(1 * n)];
}
