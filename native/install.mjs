#!/usr/bin/env node
// The package's `install` script (npm ci / npm install): builds the native backend's addon with
// node-gyp unless a built or prebuilt binary already loads (the packed tarball carries
// native/prebuilds/linux-x64/node.napi.node). It never fails the install: when the build fails
// (no compiler, no Node headers, another platform) it prints one line saying so and why, and
// convnet uses the WebAssembly backend.
import { createRequire } from 'node:module';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join, resolve } from 'node:path';

const dir = fileURLToPath(new URL('.', import.meta.url));
const require = createRequire(import.meta.url);
const say = (line) => console.log(`convnet-ts: ${line}`);

function loads() {
  try { require('node-gyp-build')(dir); return true; } catch { return false; }
}

/** A folder holding include/node/{node_api.h,common.gypi} for the running Node, or null. */
function headersDir() {
  const configured = process.env.npm_config_nodedir;
  const candidates = [configured, resolve(dirname(process.execPath), '..'), '/usr', '/usr/local'].filter(Boolean);
  for (const c of candidates) {
    if (existsSync(join(c, 'include/node/node_api.h')) && existsSync(join(c, 'include/node/common.gypi'))) return c;
  }
  return null;
}

/** native/src/params.h (and src/backend/native/layout.ts) from src/kernels/params.ts, the parameter slots both sides
 * name; both are committed, so when this fails (no src/, an unreadable enum) the build goes on with the committed
 * header. Writes only what differs. */
async function regenerateParams() {
  if (!existsSync(join(dir, '../src/kernels/params.ts'))) return;
  try {
    const { writeOutputs } = await import('./gen-params.mjs');
    writeOutputs();
  } catch (e) {
    say(`native/src/params.h was not regenerated (${e instanceof Error ? e.message : e}); building with the committed one`);
  }
}

async function main() {
  if (process.env.CONVNET_SKIP_NATIVE_BUILD) return say('the native backend was not built (CONVNET_SKIP_NATIVE_BUILD is set); the WebAssembly backend will be used');
  if (loads()) return; // a prebuilt binary for this platform, or an earlier build
  if (!existsSync(`${dir}/binding.gyp`)) return say('the native backend was not built (native/binding.gyp is missing); the WebAssembly backend will be used');
  await regenerateParams();
  // node-gyp downloads Node's headers from nodejs.org unless told where they are: use the running
  // Node's own (official builds ship include/node; Debian's are in /usr/include/node), or skip the
  // build. An install never downloads anything from outside the npm registry.
  const nodedir = headersDir();
  if (!nodedir) return say(`the native backend was not built (Node's headers (include/node/node_api.h) were not found beside ${process.execPath}; set npm's nodedir to build it); the WebAssembly backend will be used`);
  // npm hands its bundled node-gyp to install scripts (npm_config_node_gyp); else one on PATH.
  const gyp = process.env.npm_config_node_gyp;
  const gypArgs = ['rebuild', '--directory', dir, `--nodedir=${nodedir}`];
  const [cmd, args] = gyp && existsSync(gyp) ? [process.execPath, [gyp, ...gypArgs]] : ['node-gyp', gypArgs];
  const r = spawnSync(cmd, args, { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 15 * 60 * 1000, shell: process.platform === 'win32' });
  if (r.status === 0 && loads()) return say('built the native backend (native/build/Release/convnet_native.node)');
  let why;
  if (r.error) why = r.error.code === 'ENOENT' ? 'node-gyp was not found' : r.error.message;
  else if (r.signal) why = `node-gyp was stopped by ${r.signal}`;
  else {
    const lines = `${r.stderr}\n${r.stdout}`.split('\n').map((l) => l.trim()).filter(Boolean);
    const err = lines.find((l) => /error:|not found|No such file|command not found|gyp ERR! stack Error/i.test(l) && !/^gyp ERR! (cwd|node|System|command|node-gyp)/.test(l));
    why = r.status === 0 ? 'the built addon does not load' : (err ?? lines.pop() ?? `node-gyp exited with ${r.status}`).replace(/^gyp ERR! (stack )?/, '').slice(0, 200);
  }
  say(`the native backend was not built (${why}); the WebAssembly backend will be used`);
}

try { await main(); } catch (e) {
  say(`the native backend was not built (${e instanceof Error ? e.message : e}); the WebAssembly backend will be used`);
}
process.exit(0);
