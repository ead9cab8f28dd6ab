/** `convnet summary <model>`: the Keras-style summary of any model file convnet reads. */
import type { Command } from '../main.js';
import { existsSync } from 'node:fs';
import { parseArgs, UsageError } from '../args.js';

const HELP = `Usage: convnet summary <model> [--json]

Prints the layers, output shapes and parameter counts of a model file:
  .keras (Keras 3 and 2.13-2.15), a legacy Keras .h5, or a TF.js folder (model.json + shards).

Options:
  --json    print the file's format, writer, layers and compile settings as JSON instead

Examples:
  convnet summary cnn-dogs-cats.keras
  convnet summary web_model/`;

export const command: Command = {
  name: 'summary',
  summary: 'print the summary of a .keras, .h5 or TF.js model file',
  help: HELP,
  async run(argv) {
    let parsed;
    try {
      parsed = parseArgs(argv, { json: { type: 'boolean', default: false } }, 'summary');
    } catch (e) {
      if (e instanceof UsageError) { console.error(e.message); return 2; }
      throw e;
    }
    const [path, extra] = parsed.positionals;
    if (!path || extra) { console.error(`convnet summary: expected one model path.\n\n${HELP}`); return 2; }
    if (!existsSync(path.replace(/^tfjs:\/\//, ''))) { console.error(`convnet summary: '${path}' does not exist: give the path of a .keras or .h5 file, or of a TF.js folder (model.json and its shards)`); return 1; }
    const io = await import('../../io/models/index.js');
    if (parsed.options.json) {
      const d = await io.readModelData(path);
      console.log(JSON.stringify({
        format: d.format, written_by: d.writtenBy, name: d.spec.name, batch_input_shape: d.spec.batchInputShape,
        layers: d.spec.layers.map((l, i) => ({ class_name: l.class_name, name: l.config.name ?? null, weights: d.weights[i].map((w) => w.shape) })),
        compile: d.spec.compile, optimizer_variables: d.optimizerVariables?.length ?? 0,
      }, null, 2));
      return 0;
    }
    const model = await io.loadModel(path, { warn: (m) => console.error(`convnet: ${m}`) });
    model.summary((line: string) => console.log(line));
    return 0;
  },
};
