/** `convnet check <dir>`: every file of an image folder that flowFromDirectory would leave out, and why. */
import type { Command } from '../main.js';
import { parseArgs, UsageError } from '../args.js';

const HELP = `Usage: convnet check <dir> [--decode] [--max-pixels N] [--follow-links] [--json]

Checks a folder laid out for flowFromDirectory (one sub-folder per class) and prints every
problem file with its reason: empty, truncated, not an image, too many pixels, unreadable,
broken links. Files ignored for their extension (Thumbs.db, .DS_Store) are listed apart.

Options:
  --decode        also decode every image (slower) to find files damaged after their header
  --max-pixels N  pixel limit per image (default 89478485, Pillow's)
  --follow-links  enter symbolic links to folders
  --json          print the report as JSON

Exit status: 0 when every image is usable, 1 when some files have problems.

Examples:
  convnet check PetImages/
  convnet check PetImages/ --decode`;

export const command: Command = {
  name: 'check',
  summary: 'list the broken or unusable images in a flowFromDirectory folder',
  help: HELP,
  async run(argv) {
    let parsed;
    try {
      parsed = parseArgs(argv, {
        decode: { type: 'boolean', default: false }, maxPixels: { type: 'number' },
        followLinks: { type: 'boolean', default: false }, json: { type: 'boolean', default: false },
      }, 'check');
    } catch (e) {
      if (e instanceof UsageError) { console.error(e.message); return 2; }
      throw e;
    }
    const [dir, extra] = parsed.positionals;
    if (!dir || extra) { console.error(`convnet check: expected one folder.\n\n${HELP}`); return 2; }
    const { checkDirectory } = await import('../../data/check.js');
    const tty = process.stderr.isTTY && !parsed.options.json;
    const report = await checkDirectory(dir, {
      decode: parsed.options.decode, maxPixels: parsed.options.maxPixels, followLinks: parsed.options.followLinks,
      onProgress: tty ? (d, t) => { if (d % 200 === 0 || d === t) process.stderr.write(`\rchecked ${d} of ${t} files`); } : undefined,
    });
    if (tty) process.stderr.write('\n');
    if (parsed.options.json) {
      console.log(JSON.stringify(report, null, 2));
      return report.problems.length ? 1 : 0;
    }
    for (const n of report.notes) console.log(`note: ${n.path}: ${n.message}`);
    for (const p of report.problems) console.log(`${p.path}: ${p.reason}`);
    for (const p of report.ignored) console.log(`ignored: ${p.path}: ${p.reason}`);
    const per = report.classes.map((c) => `${c}: ${report.counts[c]}`).join(', ');
    console.log(`${report.images} usable images in ${report.classes.length} classes (${per}); ${report.problems.length} problem file${report.problems.length === 1 ? '' : 's'}, ${report.ignored.length} ignored.`);
    return report.problems.length ? 1 : 0;
  },
};
