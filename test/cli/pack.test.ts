// What the published package holds: a LICENSE, the sources its source maps point at, the compiled
// wasm (not the .wat text), no PyTorch benchmark script, and a package.json that runs no prepare.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

function packList(): string[] {
  const r = spawnSync(npm, ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: root, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout)[0].files.map((f: { path: string }) => f.path);
}

test('npm pack ships LICENSE, README, bin, the wasm and the sources the maps name; no .wat, no bench-torch.py', () => {
  const files = packList();
  for (const f of ['LICENSE', 'README.md', 'package.json', 'bin/convnet.js', 'lib/wasm-worker.mjs', 'src/index.ts']) {
    assert.ok(files.includes(f), `${f} is not in the package`);
  }
  assert.deepEqual(files.filter((f) => f.endsWith('.wat')), []);
  assert.deepEqual(files.filter((f) => /bench-torch\.py$/.test(f)), []);
  assert.deepEqual(files.filter((f) => /^(test|scripts|\.ci)\//.test(f)), [], 'tests and dev scripts are not shipped');
  if (existsSync(join(root, 'build/kernels.wasm'))) assert.ok(files.includes('build/kernels.wasm'));
  // Every source a shipped map points at is shipped too.
  const maps = files.filter((f) => f.endsWith('.js.map'));
  for (const m of maps.slice(0, 40)) {
    const map = JSON.parse(readFileSync(join(root, m), 'utf8'));
    for (const s of map.sources) {
      const target = join(m, '..', s).replace(/\\/g, '/');
      assert.ok(files.includes(target), `${m} points at ${target}, which the package does not ship`);
    }
  }
  assert.match(readFileSync(join(root, 'LICENSE'), 'utf8'), /^MIT License[\s\S]*convnet-ts contributors/);
});

test('npm run pack:release makes a tarball whose package.json runs no prepare (only the addon install, if any)', () => {
  const out = mkdtempSync(join(tmpdir(), 'convnet-packed-'));
  try {
    const r = spawnSync(process.execPath, [join(root, 'scripts/pack.mjs'), '--no-build', '--out', out], { cwd: root, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const tgz = r.stdout.trim().split('\n').pop()!;
    assert.ok(existsSync(tgz), tgz);
    const x = spawnSync('tar', ['-xzOf', tgz, 'package/package.json'], { encoding: 'utf8' });
    assert.equal(x.status, 0, x.stderr);
    const published = JSON.parse(x.stdout);
    const repo = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
    assert.equal(published.name, 'convnet-ts');
    assert.deepEqual(published.bin, { convnet: './bin/convnet.js' });
    assert.ok(repo.scripts.prepare, 'the clone still builds on npm ci');
    for (const s of ['prepare', 'prepack', 'postpack', 'preinstall', 'postinstall', 'prepublishOnly']) {
      assert.equal(published.scripts?.[s], undefined, `the published package.json has a ${s} script`);
    }
    assert.equal(published.scripts?.install, repo.scripts.install, 'the native addon install script is kept as it is');
    assert.equal(published.devDependencies, undefined);
    const list = spawnSync('tar', ['-tzf', tgz], { encoding: 'utf8' }).stdout.split('\n');
    // The scripts an installed package runs find their files in it.
    for (const script of Object.values<string>(published.scripts ?? {})) {
      for (const m of script.matchAll(/\bnode ([\w./-]+\.m?js)\b/g)) assert.ok(list.includes(`package/${m[1]}`), `${m[1]} (run by '${script}') is not in the tarball`);
    }
    assert.ok(list.includes('package/LICENSE'));
    assert.deepEqual(list.filter((f) => f.endsWith('.wat') || f.endsWith('bench-torch.py')), []);
  } finally { rmSync(out, { recursive: true, force: true }); }
});
