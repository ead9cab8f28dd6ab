/** `convnet report`: rebuild a run's index.html, or serve it live. */
import type { Command } from '../main.js';
import { errorLine, parseArgs, UsageError } from '../args.js';

const HELP = `Usage: convnet report DIR [--serve] [--port 8765]

Rebuilds DIR/index.html from the files of a 'convnet notebook' or 'convnet sweep' run (run.json,
history.json, figures/, results.jsonl). The page opens offline: the charting scripts are copied
into DIR/report-assets/.

  --serve      serve the report on http://127.0.0.1:PORT instead; while a run writes into DIR, the page
               follows it (curves redraw after every epoch, new sections appear); it may be started
               before the run (the page waits for it). Ctrl-C stops.
  --port N     port for --serve (default 8765; 0 picks a free one)
`;

export const command: Command = {
  name: 'report',
  summary: 'rebuild (or serve live) the HTML report of a notebook or sweep run',
  help: HELP,
  async run(argv) {
    let o: Record<string, any>, dir: string;
    try {
      const p = parseArgs(argv, { serve: { type: 'boolean' }, port: { type: 'number', default: 8765 } }, 'report');
      if (p.positionals.length !== 1) throw new UsageError(`convnet report: give one run folder. Run 'convnet report --help'.`);
      o = p.options; dir = p.positionals[0];
    } catch (e) {
      console.error((e as Error).message);
      return 2;
    }
    const { buildReport, serveReport } = await import('../../report/index.js');
    try {
      if (!o.serve) {
        console.log(buildReport(dir, (w) => console.warn(`warning: ${w}`)));
        return 0;
      }
      const server = await serveReport(dir, { port: o.port });
      console.log(`Serving ${dir} on ${server.url} (Ctrl-C to stop)`);
      await new Promise<void>((resolve) => process.once('SIGINT', () => resolve()));
      await server.close();
      return 0;
    } catch (e) {
      console.error(errorLine('report', e));
      return 1;
    }
  },
};
