/** The output-folder rule of `notebook` and `sweep`: never reuse a folder silently, never delete a user's files. */
import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';

/** Creates `dir`, or accepts an existing one only with `force`. Returns whether it existed. */
export function prepareOutDir(dir: string, force: boolean): boolean {
  if (existsSync(dir)) {
    if (!statSync(dir).isDirectory()) throw new Error(`output path '${dir}' is a file; choose another --out`);
    if (readdirSync(dir).length > 0 && !force) {
      throw new Error(`output folder '${dir}' already exists; pass --force to write into it (convnet only overwrites the files it writes itself and deletes nothing) or choose another --out`);
    }
    return true;
  }
  mkdirSync(dir, { recursive: true });
  return false;
}
