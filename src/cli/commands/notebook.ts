/** `convnet notebook`: the whole notebook, on your photos or on built-in data. */
import type { Command } from '../main.js';
import { errorLine, parseArgs, UsageError } from '../args.js';

const HELP = `Usage: convnet notebook [--data DIR] [--image house.jpg] [--out DIR] [--epochs N] [--batch-size N]
                        [--target-size S] [--lang en|es] [--force] [--serve] [--port N]

Runs every step of the notebook in order and writes its outputs and an index.html report to --out:
  1. a 5x5 matrix correlated with the vertical-edge filter (printed)
  2. the photo in gray beside each of the three filters' activation maps (three figures)
  3. max and average pooling of the Laplacian map, three times, with the shapes
  4. "Found N images belonging to 2 classes." for the training and validation subsets
  5. the model's summary, training with Keras's progress display, cnn-dogs-cats.keras saved and loaded back
  6. a 2x4 grid of validation images titled "Prediction: 0.34"
  7. loss and accuracy curves, the confusion matrix and the most confidently wrong images

Options:
  --data DIR          a folder with one sub-folder of images per class (e.g. PetImages/ from 'convnet download').
                      Two classes train as the notebook (sigmoid, binary cross-entropy); three or more as
                      categorical (softmax over the classes, categorical cross-entropy). Without it, convnet generates a small built-in set (2,000 images of bars, lying or
                      standing) and runs in a few minutes: target size 32, 6 epochs, batch size 32.
  --image FILE        the photo for the filter demos (default: a generated house picture)
  --out DIR           output folder (default notebook-out); an existing one needs --force
  --epochs N          training epochs (default 10; 6 on the built-in set)
  --batch-size N      batch size (default 128; 32 on the built-in set)
  --target-size S     images are resized to S x S: 150, 150x150 or 150,150 (square; default 150;
                      32 on the built-in set)
  --lang en|es        language of titles and messages ("Prediction" / "Predicción")
  --force             write into an existing output folder (convnet deletes nothing)
  --serve             also serve the report on http://127.0.0.1:PORT while it runs (curves update live)
  --port N            port for --serve (default 8765)
  --backend NAME      compute backend: native, wasm or reference (default: native when built, else wasm)
`;

export const command: Command = {
  name: 'notebook',
  summary: 'run the whole notebook (built-in data when no --data) and write a report',
  help: HELP,
  async run(argv) {
    let parsed;
    try {
      parsed = parseArgs(argv, {
        data: { type: 'string' }, image: { type: 'string' }, out: { type: 'string' }, epochs: { type: 'number' },
        batchSize: { type: 'number' }, targetSize: { type: 'number' }, lang: { type: 'string' }, force: { type: 'boolean' },
        seed: { type: 'number' }, serve: { type: 'boolean' }, port: { type: 'number', default: 8765 },
        backend: { type: 'string' },
      }, 'notebook');
      if (parsed.positionals.length) throw new UsageError(`convnet notebook: unexpected argument '${parsed.positionals[0]}'. Run 'convnet notebook --help'.`);
    } catch (e) {
      console.error((e as Error).message);
      return 2;
    }
    const o = parsed.options;
    try {
      const { useBackendOption } = await import('../../backend/index.js');
      useBackendOption(o.backend as string | undefined, 'notebook');
    } catch (e) {
      console.error((e as Error).message);
      return 2;
    }
    const { runNotebook, DEFAULT_OUT } = await import('../../notebook/runner.js');
    const { notebookSteps } = await import('../../notebook/steps.js');
    let server: { url: string; close(): Promise<void> } | undefined;
    const steps = notebookSteps();
    if (o.serve) {
      // Start serving once the output folder is prepared (the runner's first step runs after that).
      const { serveReport } = await import('../../report/serve.js');
      steps.unshift({
        name: 'serve',
        async run(ctx) {
          server = await serveReport(ctx.o.out, { port: o.port });
          console.log(`Serving the report on ${server.url} (Ctrl-C to stop)`);
        },
      });
    }
    // Ctrl-C stops training after the current batch (the notebook goes on with the model so far);
    // a second one ends the process.
    const { RunLog } = await import('../../report/run-log.js');
    const stop = new AbortController();
    const outDir = o.out ?? DEFAULT_OUT;
    const onSigint = () => {
      if (stop.signal.aborted) {
        // Record the run as interrupted before leaving: run.json must not stay 'running'.
        try { RunLog.markInterrupted(outDir, 'stopped by a second Ctrl-C'); } catch { /* exit anyway */ }
        console.error('\nconvnet: interrupted twice; exiting now');
        process.exit(130);
      }
      console.error('\nconvnet: Ctrl-C: stopping after the current batch (press Ctrl-C again to quit at once)');
      stop.abort();
    };
    process.on('SIGINT', onSigint);
    let interrupted = false;
    try {
      interrupted = (await runNotebook({
        data: o.data, image: o.image, out: o.out ?? DEFAULT_OUT, epochs: o.epochs, batchSize: o.batchSize,
        targetSize: o.targetSize, lang: o.lang, force: o.force, seed: o.seed, signal: stop.signal,
      }, steps)).interrupted;
    } catch (e) {
      await server?.close();
      console.error(errorLine('notebook', e));
      return stop.signal.aborted ? 130 : 1;
    } finally {
      process.removeListener('SIGINT', onSigint);
    }
    if (interrupted) {
      // 128 + SIGINT, as a shell reports a command stopped by Ctrl-C; run.json says 'interrupted'.
      await server?.close();
      console.error('convnet notebook: interrupted (Ctrl-C); run.json and the report say so');
      return 130;
    }
    if (server) {
      console.log(`The run is over; still serving ${server.url} until Ctrl-C.`);
      await new Promise<void>((resolve) => process.once('SIGINT', () => resolve()));
      await server.close();
    }
    return 0;
  },
};
