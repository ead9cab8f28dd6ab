/** `convnet export <in> <out>`: converts a model between .keras, TF.js and ONNX. */
import type { Command } from '../main.js';
import { existsSync } from 'node:fs';
import { parseArgs, UsageError } from '../args.js';

const HELP = `Usage: convnet export <in> <out> [--format keras|tfjs|onnx] [--no-optimizer]

Reads any model file convnet reads (.keras, legacy Keras .h5, TF.js folder) and writes it as:
  out.keras        Keras 3 archive (opens in Python with keras.models.load_model)
  out.onnx         ONNX graph for ONNX Runtime (input NHWC, as convnet and Keras take it)
  out_dir/ or tfjs://out_dir   TF.js layers model (tf.loadLayersModel('file://out_dir/model.json'))

Options:
  --format F       keras, tfjs or onnx (default: from the output path)
  --no-optimizer   leave the optimizer state out of a .keras file

Examples:
  convnet export cnn-dogs-cats.keras cnn-dogs-cats.onnx
  convnet export my_model.h5 my_model.keras
  convnet export cnn-dogs-cats.keras web_model/`;

export const command: Command = {
  name: 'export',
  summary: 'convert a model between .keras, TF.js and ONNX',
  help: HELP,
  async run(argv) {
    let parsed;
    try {
      parsed = parseArgs(argv, { format: { type: 'string' }, noOptimizer: { type: 'boolean', default: false } }, 'export');
    } catch (e) {
      if (e instanceof UsageError) { console.error(e.message); return 2; }
      throw e;
    }
    const [input, output, extra] = parsed.positionals;
    if (!input || !output || extra) { console.error(`convnet export: expected an input and an output path.\n\n${HELP}`); return 2; }
    const format = parsed.options.format as string | undefined;
    if (format !== undefined && !['keras', 'tfjs', 'onnx'].includes(format)) {
      console.error(`convnet export: --format must be keras, tfjs or onnx, got '${format}'`);
      return 2;
    }
    if (!existsSync(input.replace(/^tfjs:\/\//, ''))) { console.error(`convnet export: '${input}' does not exist: give the path of a .keras or .h5 file, or of a TF.js folder (model.json and its shards)`); return 1; }
    const io = await import('../../io/models/index.js');
    const data = await io.readModelData(input);
    const model = await io.buildModel(data, input, {}, (m) => console.error(`convnet: ${m}`));
    try {
      // Class names kept in the input (convnet's metadata) go on into the output.
      await io.saveModel(model, output, { format: format as 'keras' | 'tfjs' | 'onnx' | undefined, includeOptimizer: !parsed.options.noOptimizer, classNames: data.classNames });
    } catch (e) {
      // The library names its option ({ format }); on the command line it is --format.
      const m = (e as Error).message;
      if (/\{ ?format ?\}|cannot tell the format/.test(m)) throw new UsageError(m.replace(/(pass )?\{ ?format ?\}/, 'pass --format keras, tfjs or onnx'));
      throw e;
    }
    console.log(`wrote ${output}`);
    return 0;
  },
};
