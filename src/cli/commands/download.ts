/** `convnet download`: the notebook's data (PetImages_small.zip, house.jpg), resumable, size-checked, safely unzipped. */
import { join } from 'node:path';
import { existsSync, writeFileSync } from 'node:fs';
import type { Command } from '../main.js';
import { errorLine, parseArgs, UsageError } from '../args.js';

const HELP = `Usage: convnet download [--dest DIR] [--url BASE] [--no-unzip]

Fetches the notebook's two files, PetImages_small.zip (386,340,140 bytes) and house.jpg, from
the address the notebook uses, with a progress bar. An interrupted download resumes where it
stopped (run the command again). From the default address each file's size is checked against
the notebook's; with --url it is not (a mirror may hold other versions), so only the extraction
limits below guard it. The zip is extracted into DIR with no entry allowed outside it and the
total size limited.

Options:
  --dest DIR        where to put the files (default: the current folder)
  --url BASE        another address holding the files (default https://geo.ingeotec.mx/~lgruiz/MeIA/);
                    sizes are not checked against the notebook's with it
  --no-unzip        keep the zip without extracting it
  --max-bytes N     refuse a zip that expands beyond N bytes (default 4 GiB)

Examples:
  convnet download --dest data/
  convnet download --url http://mirror.example.org/MeIA/`;

export const command: Command = {
  name: 'download',
  summary: "fetch the notebook's data (PetImages_small.zip, house.jpg)",
  help: HELP,
  async run(argv) {
    let parsed;
    try {
      parsed = parseArgs(argv, {
        dest: { type: 'string', default: '.' }, url: { type: 'string' }, noUnzip: { type: 'boolean', default: false },
        maxBytes: { type: 'number' },
      }, 'download');
    } catch (e) {
      if (e instanceof UsageError) { console.error(e.message); return 2; }
      throw e;
    }
    if (parsed.positionals.length) { console.error(`convnet download: unexpected argument '${parsed.positionals[0]}'.\n\n${HELP}`); return 2; }
    const dl = await import('../../data/download.js');
    const dest: string = parsed.options.dest;
    let base: string = parsed.options.url ?? dl.NOTEBOOK_BASE_URL;
    if (!base.endsWith('/')) base += '/';
    const tty = !!process.stderr.isTTY;
    for (const f of dl.NOTEBOOK_FILES) {
      const url = base + f.name;
      const path = join(dest, f.name);
      console.log(`${f.name}: ${url}`);
      let lastLine = 0;
      try {
        const size = await dl.downloadFile(url, path, {
          // A custom address may hold other versions of the files: check sizes only against the notebook's own.
          expectedSize: parsed.options.url ? null : f.size,
          log: (l) => console.error(`\n${l}`),
          onProgress: (p) => {
            const line = dl.progressBar(p);
            if (tty) process.stderr.write(`\r${line}`);
            else if (p.total && Math.floor((10 * p.received) / p.total) > lastLine) { lastLine = Math.floor((10 * p.received) / p.total); console.error(line); }
          },
        });
        if (tty) process.stderr.write('\n');
        console.log(`${f.name}: ${size} bytes`);
      } catch (e: any) {
        if (tty) process.stderr.write('\n');
        console.error(errorLine('download', e));
        return 1;
      }
      if (f.unzip && !parsed.options.noUnzip) {
        const marker = join(dest, `.${f.name}.extracted`);
        if (existsSync(marker)) { console.log(`${f.name}: already extracted`); continue; }
        try {
          const r = await dl.unzipSafe(path, dest, { maxBytes: parsed.options.maxBytes });
          writeFileSync(marker, new Date().toISOString() + '\n');
          console.log(`${f.name}: extracted ${r.files} files (${(r.bytes / 1e6).toFixed(1)} MB) into ${dest}`);
        } catch (e: any) {
          console.error(errorLine('download', e));
          return 1;
        }
      }
    }
    return 0;
  },
};
