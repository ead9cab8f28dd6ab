#!/usr/bin/env node
// `npm run prebuild:native` (run by scripts/pack.mjs): copies the built addon (native/build/Release/convnet_native.node) to
// native/prebuilds/<platform>-<arch>/node.napi.node, the name node-gyp-build loads for a Node-API
// addon, so the packed tarball installs without a compiler. `--strict` fails when nothing is built
// (for packing); without it, it says so and exits 0.
import { copyFileSync, existsSync, mkdirSync, renameSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const dir = fileURLToPath(new URL('.', import.meta.url));
const src = `${dir}build/Release/convnet_native.node`;
const outDir = `${dir}prebuilds/${process.platform}-${process.arch}`;
if (!existsSync(src)) {
  console.error(`convnet-ts prebuild: ${src} is missing (run 'npm run build:native' first)`);
  process.exit(process.argv.includes('--strict') ? 1 : 0);
}
mkdirSync(outDir, { recursive: true });
const tmp = `${outDir}/.node.napi.node.${process.pid}`;
copyFileSync(src, tmp);
renameSync(tmp, `${outDir}/node.napi.node`);
console.log(`convnet-ts prebuild: ${outDir}/node.napi.node`);
