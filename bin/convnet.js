#!/usr/bin/env node
// The `convnet` command: runs the compiled CLI in ../dist. In a clone installed with
// `npm ci --ignore-scripts` (or before the first build) dist/ is missing: say how to build it in
// one line instead of Node's module-resolution stack.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const entry = new URL('../dist/cli/main.js', import.meta.url);
if (!existsSync(fileURLToPath(entry))) {
  console.error('convnet: this copy is not built (dist/cli/main.js is missing): run npm run build');
  process.exit(1);
}
const { main } = await import(entry.href);
main(process.argv.slice(2)).then((code) => { process.exitCode = code; }, (err) => {
  // main() reports command errors itself; this is for a failure outside any command.
  const message = String(err && err.message ? err.message : err).replace(/^(convnet( [\w-]+)?: )+/, '');
  console.error(`convnet: ${message}`);
  process.exitCode = 1;
});
