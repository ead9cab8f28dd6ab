/** `convnet bench`: runs every benchmark section and prints a table, or one JSON object. */
import type { Command } from '../main.js';
import { parseArgs, UsageError } from '../args.js';
import { sectionNames, loadSection, type Figures } from '../../bench/index.js';

const HELP = `Usage: convnet bench [options]

Runs the benchmark sections (${'engine, then every other src/bench/<area>'}) and prints their
figures with the peers measured in the same run (TF.js, PyTorch, SciPy, ...).

Options:
  --quick            short runs: the whole benchmark finishes in under a minute
  --json             print one JSON object { section: { figure: value } } instead of a table
  --only <names>     comma-separated sections to run (e.g. engine,filters)
  --threads <n>      kernel threads (default: every core)
  --backend <name>   native, wasm or reference (default: native when built, else wasm);
                     the engine section also measures wasm training in the same run;
                     webgpu runs the webgpu section (needs an adapter: npm i webgpu)
  -h, --help         this help

Figures are never pass/fail; timings on a shared machine are noisy, run it twice.`;

function fmt(v: number | string | null): string {
  if (v === null) return '-';
  return typeof v === 'number' ? String(v) : v;
}

export const command: Command = {
  name: 'bench',
  summary: 'benchmark the engine (GEMM, conv layers, training, prediction) and each area, beside TF.js and PyTorch',
  help: HELP,
  async run(argv: string[]): Promise<number> {
    let options: Record<string, any>;
    try {
      ({ options } = parseArgs(argv, {
        quick: { type: 'boolean', default: false },
        json: { type: 'boolean', default: false },
        only: { type: 'string' },
        threads: { type: 'number' },
        backend: { type: 'string' },
      }, 'bench'));
    } catch (e) {
      if (e instanceof UsageError) { console.error(e.message); return 2; }
      throw e;
    }
    const available = sectionNames();
    let names = available;
    if (options.only !== undefined) {
      names = String(options.only).split(',').map((s) => s.trim()).filter(Boolean);
      const unknown = names.filter((n) => !available.includes(n));
      if (unknown.length) {
        console.error(`convnet bench: unknown section(s) ${unknown.join(', ')} (available: ${available.join(', ')})`);
        return 2;
      }
    }
    if (options.backend === 'webgpu') {
      // The webgpu section selects it per run (tensors read asynchronously there); others stay on the default.
      if (options.only === undefined) names = ['webgpu'];
    } else if (options.backend !== undefined) {
      const { useBackendOption } = await import('../../backend/index.js');
      try { useBackendOption(String(options.backend), 'bench'); } catch (e) { console.error(e instanceof Error ? e.message : String(e)); return 2; }
    }
    if (options.threads !== undefined) {
      const { setThreads } = await import('../../backend/index.js');
      if (!Number.isInteger(options.threads) || options.threads < 1) { console.error('convnet bench: --threads expects a positive integer'); return 2; }
      setThreads(options.threads);
    }
    const json = options.json as boolean;
    const log = (line: string): void => { (json ? process.stderr : process.stdout).write(`  ${line}\n`); };
    const result: Record<string, Figures> = {};
    let failed = false;
    const started = performance.now();
    for (const name of names) {
      if (!json) console.log(`[${name}]`);
      const t0 = performance.now();
      try {
        const section = await loadSection(name);
        result[name] = await section.run({ quick: options.quick, log });
      } catch (e) {
        failed = true;
        const msg = e instanceof Error ? e.message : String(e);
        result[name] = { error: msg };
        (json ? process.stderr : process.stdout).write(`  ${name}: failed: ${msg}\n`);
      }
      result[name].seconds = Math.round((performance.now() - t0) / 100) / 10;
    }
    if (json) {
      console.log(JSON.stringify({ quick: options.quick, seconds: Math.round((performance.now() - started) / 100) / 10, ...result }, null, 2));
    } else {
      const rows: [string, string][] = [];
      for (const [sec, figs] of Object.entries(result)) for (const [k, v] of Object.entries(figs)) rows.push([`${sec}.${k}`, fmt(v)]);
      const w = Math.max(...rows.map((r) => r[0].length));
      console.log('');
      console.log(`${'figure'.padEnd(w)}  value`);
      console.log(`${'-'.repeat(w)}  -----`);
      for (const [k, v] of rows) console.log(`${k.padEnd(w)}  ${v}`);
    }
    return failed ? 1 : 0;
  },
};
