// The course page's sources (app/*.ts) are bundled by esbuild, which strips types without checking
// them, and the root tsconfig covers src/ only: this runs `tsc -p app --noEmit` (app/ plus the
// src/ files it imports, with the DOM library) so a type error in the page fails the tests.
// About 11 s on two busy cores.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

test('app/ type-checks (tsc -p app --noEmit)', () => {
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  const r = spawnSync(process.execPath, [tsc, '-p', 'app', '--noEmit', '--pretty', 'false'], { cwd: ROOT, encoding: 'utf8', timeout: 180_000 });
  assert.equal(r.error, undefined, String(r.error));
  assert.equal(r.status, 0, `tsc -p app --noEmit failed:\n${r.stdout}${r.stderr}`);
});
