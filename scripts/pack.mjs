#!/usr/bin/env node
// Builds the tarball to publish: `npm run pack:release` (then `npm publish convnet-ts-<version>.tgz`).
//
// The repository's package.json has a `prepare` script so that `npm ci` in a clone builds dist/ and
// build/; a published package must not carry it (npm warns about install-time scripts, and users would
// need the dev tools). So the tarball is packed from a staging folder holding the files `npm pack`
// would ship, with a package.json whose scripts are only what an installed package runs: the
// native addon's `install` (it builds from source only when no prebuilt binary fits), if there is one.
//
// Usage: node scripts/pack.mjs [--no-build] [--out DIR]
//   --no-build  pack the dist/ and build/ already there (default: a clean build first)
//   --out DIR   where the .tgz goes (default: the repository root)
// Prints the tarball's path.
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const argv = process.argv.slice(2);
const build = !argv.includes('--no-build');
const outIdx = argv.indexOf('--out');
const out = resolve(outIdx >= 0 ? argv[outIdx + 1] ?? '' : root);
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

/** Scripts an installed package may run; everything else is for developing in a clone. */
const PUBLISHED_SCRIPTS = ['install'];

function run(args, cwd) {
  const r = spawnSync(npm, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  if (r.status !== 0) {
    console.error(`pack: npm ${args.join(' ')} failed (exit ${r.status})`);
    process.exit(1);
  }
  return r.stdout;
}

if (build) {
  rmSync(join(root, 'dist'), { recursive: true, force: true }); // no stale modules from deleted sources
  run(['run', 'build'], root);
}
// The native addon built here goes in as native/prebuilds/<platform>-<arch>/ (installs need no compiler
// there); packing fails when it was not built, rather than shipping a package without it.
run(['run', 'prebuild:native', '--', '--strict'], root);
// The files `npm pack` would ship (the `files` field), without running any script.
const [listing] = JSON.parse(run(['pack', '--dry-run', '--json', '--ignore-scripts'], root));
const stage = mkdtempSync(join(tmpdir(), 'convnet-pack-'));
try {
  for (const { path } of listing.files) {
    if (path === 'package.json') continue;
    mkdirSync(dirname(join(stage, path)), { recursive: true });
    cpSync(join(root, path), join(stage, path));
  }
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  const scripts = Object.fromEntries(Object.entries(pkg.scripts ?? {}).filter(([k]) => PUBLISHED_SCRIPTS.includes(k)));
  if (Object.keys(scripts).length) pkg.scripts = scripts;
  else delete pkg.scripts;
  delete pkg.devDependencies;
  writeFileSync(join(stage, 'package.json'), JSON.stringify(pkg, null, 2) + '\n');
  mkdirSync(out, { recursive: true });
  const [packed] = JSON.parse(run(['pack', '--json', '--ignore-scripts', '--pack-destination', out], stage));
  console.log(join(out, packed.filename));
} finally {
  rmSync(stage, { recursive: true, force: true });
}
