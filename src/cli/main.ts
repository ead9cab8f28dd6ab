import { readFileSync } from 'node:fs';
import { closest, errorLine, exitCode, EXIT_USAGE } from './args.js';

/**
 * The `convnet` command. Each sub-command lives in its own file under ./commands and exports
 * `command: Command`. Unknown commands and bad arguments exit non-zero with a message.
 */
export interface Command {
  name: string;
  /** One line for the command list. */
  summary: string;
  /** Full help text printed by `convnet <name> --help`. */
  help: string;
  /** Runs the command; resolves to the exit code. */
  run(argv: string[]): Promise<number>;
}

/** Sub-commands, loaded lazily so that `convnet --help` starts fast. */
const COMMANDS: Record<string, () => Promise<{ command: Command }>> = {
  bench: () => import('./commands/bench.js'),
  filter: () => import('./commands/filter.js'),
  pool: () => import('./commands/pool.js'),
  check: () => import('./commands/check.js'),
  download: () => import('./commands/download.js'),
  summary: () => import('./commands/summary.js'),
  export: () => import('./commands/export.js'),
  notebook: () => import('./commands/notebook.js'),
  sweep: () => import('./commands/sweep.js'),
  report: () => import('./commands/report.js'),
  worker: () => import('./commands/worker.js'),
  predict: () => import('./commands/predict.js'),
  app: () => import('./commands/app.js'),
};

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    const lines = ['Usage: convnet <command> [options]', '', 'Commands:'];
    for (const n of Object.keys(COMMANDS)) {
      try {
        const { command } = await COMMANDS[n]();
        lines.push(`  ${n.padEnd(10)} ${command.summary}`);
      } catch {
        lines.push(`  ${n.padEnd(10)} (not available in this build)`);
      }
    }
    lines.push('', 'Run `convnet <command> --help` for the options of a command.');
    // `convnet` alone is a usage error (nothing to run); asking for help is not.
    (name ? console.log : console.error)(lines.join('\n'));
    return name ? 0 : EXIT_USAGE;
  }
  if (name === '--version' || name === '-v') {
    console.log(packageVersion());
    return 0;
  }
  const load = COMMANDS[name];
  if (!load) {
    const near = closest(name, Object.keys(COMMANDS));
    console.error(`convnet: unknown command '${name}'.${near ? ` Did you mean '${near}'?` : ''} Run 'convnet --help' for the list of commands.`);
    return EXIT_USAGE;
  }
  try {
    const { command } = await load();
    if (rest.includes('--help') || rest.includes('-h')) {
      console.log(command.help);
      return 0;
    }
    return await command.run(rest);
  } catch (e) {
    // Errors a command did not report itself: one line, prefixed once; usage errors exit 2, failures 1.
    console.error(errorLine(name, e));
    return exitCode(e);
  }
}

/** The version in package.json (two folders up from src/cli/ and from dist/cli/). */
function packageVersion(): string {
  try {
    return JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')).version;
  } catch {
    return 'unknown';
  }
}
