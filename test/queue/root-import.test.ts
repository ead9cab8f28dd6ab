/**
 * Importing convnet-ts must not load BullMQ (nor ioredis): the queue is reached only through dynamic
 * imports (the CLI's sweep --queue and worker). Walks the static import graph of the package root and
 * of the notebook's index, following `import ... from` / `export ... from` (not `import()`).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const SRC = fileURLToPath(new URL('../../src/', import.meta.url));

/** Static imports of a module: `import x from 'y'`, `import 'y'`, `export ... from 'y'` (type-only imports left out). */
function staticImports(file: string): string[] {
  const text = readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
  const out: string[] = [];
  for (const m of text.matchAll(/^\s*(import|export)\s+(type\s+)?([^'";]*?\bfrom\s+)?['"]([^'"]+)['"]/gm)) {
    if (m[2]) continue; // import type / export type: erased
    if (m[1] === 'export' && !m[3]) continue;
    out.push(m[4]);
  }
  return out;
}

/** Every package (not relative path) the root reaches through static imports, with the chain that reaches it. */
function reachedPackages(entry: string): Map<string, string[]> {
  const seen = new Set<string>();
  const packages = new Map<string, string[]>();
  const walk = (file: string, chain: string[]) => {
    if (seen.has(file)) return;
    seen.add(file);
    for (const spec of staticImports(file)) {
      if (spec.startsWith('.')) {
        const ts = join(dirname(file), spec.replace(/\.js$/, '.ts'));
        const target = existsSync(ts) ? ts : join(dirname(file), spec);
        if (existsSync(target) && target.endsWith('.ts')) walk(target, [...chain, relative(SRC, target)]);
      } else {
        const name = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0];
        if (!packages.has(name)) packages.set(name, chain);
      }
    }
  };
  walk(entry, [relative(SRC, entry)]);
  return packages;
}

test('importing convnet-ts (and its notebook/sweep API) does not load BullMQ or ioredis', () => {
  for (const entry of ['index.ts', 'notebook/index.ts']) {
    const packages = reachedPackages(join(SRC, entry));
    if (entry === 'index.ts') assert.ok(packages.has('node:fs') || packages.size > 3, `the walk found the root's packages: ${[...packages.keys()]}`);
    for (const banned of ['bullmq', 'ioredis']) {
      assert.ok(!packages.has(banned), `${entry} loads ${banned} through ${packages.get(banned)?.join(' -> ')}`);
    }
  }
  // The walk does see BullMQ where it is imported statically (so the check above can fail).
  assert.ok(reachedPackages(join(SRC, 'queue/index.ts')).has('bullmq'));
});
