// A fresh clone installs with the README's commands alone: no environment variable, nothing fetched from
// outside the npm registry, heavy benchmark peers optional, and a clear line when the build is missing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8'));

/** The lines of .ci/run that run something (comments and blank lines dropped). */
function ciLines(): string[] {
  return readFileSync(join(root, '.ci/run'), 'utf8').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
}

test('.ci/run sets no environment variable and runs only npm ci, npm test and the documented Debian prerequisites', () => {
  const lines = ciLines();
  for (const l of lines) {
    assert.doesNotMatch(l, /^(export|declare -x|env)\b/, `.ci/run exports a variable: ${l}`);
    // VAR=value before a command (e.g. ONNXRUNTIME_NODE_INSTALL=skip npm ci) or a shell assignment of an upper-case name.
    assert.doesNotMatch(l, /(^|[;&|(]\s*)[A-Z][A-Z0-9_]*=/, `.ci/run sets an environment variable: ${l}`);
  }
  const npm = lines.flatMap((l) => l.match(/\bnpm [a-z-]+/g) ?? []);
  assert.deepEqual(npm, ['npm ci', 'npm test'], 'the README documents exactly these two npm commands');
  // apt-get installs only the listed prerequisites, and each one is documented in the README.
  for (const l of lines.filter((x) => /apt-get install/.test(x))) assert.match(l, /apt-get install -y -qq "\$\{prereqs\[@\]\}"/, l);
  const listed = lines.flatMap((l) => [...l.matchAll(/prereqs\+=\(([^)]+)\)/g)].flatMap((m) => m[1].split(/\s+/)));
  assert.ok(listed.includes('chromium'), 'chromium (browser tests) is not among the prerequisites');
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const prereqSection = readme.slice(readme.indexOf('## The two commands'), readme.indexOf('## ', readme.indexOf('## The two commands') + 3));
  for (const p of listed) assert.match(prereqSection, new RegExp(`\\b${p}\\b`), `${p} is installed by .ci/run but not documented beside the README's two commands`);
});

test('no dependency runs an install script that downloads from outside the npm registry', () => {
  const all = { ...pkg.dependencies, ...pkg.devDependencies };
  for (const heavy of ['onnxruntime-node', '@tensorflow/tfjs', '@tensorflow/tfjs-node']) {
    assert.ok(!(heavy in all), `${heavy} is a benchmark peer: install it with npm run bench:peers, not as a dependency`);
  }
  // Every package in the lockfile whose install script runs, and what that script does.
  const reviewed: Record<string, string> = {
    esbuild: 'postinstall checks its platform binary (an optional dependency from the npm registry)',
    protobufjs: 'postinstall compares version schemes in package.json files; no network',
    'msgpackr-extract': 'optional; node-gyp-build-optional-packages uses the prebuilt optional package from the registry',
  };
  const scripted = Object.entries<any>(lock.packages)
    .filter(([k, v]) => k !== '' && v.hasInstallScript)
    .map(([k]) => k.replace(/^.*node_modules\//, ''));
  const unknown = scripted.filter((name) => !(name in reviewed));
  assert.deepEqual(unknown, [], `packages with install scripts nobody reviewed: ${unknown.join(', ')} (add them here once checked)`);
});

test('npm run bench:peers installs the heavy benchmark peers without saving them and without the CUDA download', () => {
  const script: string = pkg.scripts['bench:peers'];
  assert.ok(script, 'package.json has no bench:peers script');
  assert.match(script, /^npm install --no-save /);
  assert.match(script, /--onnxruntime-node-install-cuda=skip/);
  for (const peer of ['@tensorflow/tfjs', 'onnxruntime-node']) assert.match(script, new RegExp(`${peer.replace('/', '\\/')}@`));
  assert.match(readFileSync(join(root, 'README.md'), 'utf8'), /npm run bench:peers/);
});

test('bin/convnet.js without dist/ says "run npm run build" in one line (npm ci --ignore-scripts)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'convnet-bin-'));
  try {
    mkdirSync(join(dir, 'bin'));
    copyFileSync(join(root, 'bin/convnet.js'), join(dir, 'bin/convnet.js'));
    copyFileSync(join(root, 'package.json'), join(dir, 'package.json'));
    const r = spawnSync(process.execPath, [join(dir, 'bin/convnet.js'), 'notebook'], { encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } });
    assert.equal(r.status, 1);
    assert.equal(r.stdout, '');
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0], /run npm run build$/);
    assert.doesNotMatch(r.stderr, /ERR_MODULE_NOT_FOUND|at /);
  } finally { rmSync(dir, { recursive: true, force: true }); }
});
