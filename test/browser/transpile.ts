// The page tests' TypeScript loader: a source file transpiled alone (what tsc writes to dist/,
// without the type check), cached per file for the life of the test process.
import { readFileSync } from 'node:fs';
import ts from 'typescript';

const transpiled = new Map<string, string>();

/** The JavaScript of one TypeScript source file, as an ES2022 module. */
export function transpile(file: string): string {
  let js = transpiled.get(file);
  if (js === undefined) {
    js = ts.transpileModule(readFileSync(file, 'utf8'), {
      compilerOptions: { module: ts.ModuleKind.ES2022, target: ts.ScriptTarget.ES2022 }, fileName: file,
    }).outputText;
    transpiled.set(file, js);
  }
  return js;
}
