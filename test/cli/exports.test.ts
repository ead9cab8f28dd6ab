// The package root exports what users call (everything the README imports from it) and keeps the
// helpers shared by the CLI, the report and the tests out.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as root from '../../src/index.js';

const README = readFileSync(fileURLToPath(new URL('../../README.md', import.meta.url)), 'utf8');

/** Internals that were once at the root; each lives on in its own module for the code that needs it. */
const INTERNAL = [
  // tensor, autograd, ops plumbing
  'heap', 'fmtBytes', 'fmtShape', 'sizeOf', 'isRecording', 'record', 'conv2dParams', 'pool2dParams', 'convOutput',
  'setNdimageWasm', 'setNdimageParts', 'ndimageWasmCalls', 'ndimageWasmAvailable', 'initNdimageWasm', 'parseKernelJson',
  'FILTERS', 'MAX_FILTER_SIZE', 'MAX_GAUSSIAN_SIGMA',
  // data pipeline and downloads
  'listDirectory', 'WHITE_LIST_FORMATS', 'readHeader', 'decodeImage', 'NumpyRandomState', 'downloadFile', 'unzipSafe',
  'DEFAULT_MAX_PIXELS',
  // model files
  'onnxBytes', 'modelData', 'buildModel', 'exportOnnx', 'onnxSupportedLayers',
  // figures, report, notebook, sweep
  'niceTicks', 'escapeHtml', 'renderReport', 'rankingTable', 'rankTrials', 'curvesSpec', 'confusionSpec', 'sweepSpec',
  'historyRows', 'varyingParams', 'writeFileAtomic', 'appendJsonLine', 'readJsonLines', 'readJson', 'loadRun',
  'readManifest', 'liveState', 'RunLog', 'RUN_FILE', 'SWEEP_FILE', 'RESULTS_FILE', 'REPORT_FILE',
  'renderHouse', 'renderSample', 'encodeJpeg', 'BUILTIN_CLASSES', 'formatMatrix', 'fmtTuple', 'EXAMPLE_MATRIX',
  'EXAMPLE_FILTER', 'NOTEBOOK_FILTERS', 'MODEL_FILE', 'BEST_MODEL_FILE', 'DEFAULT_OUT', 'BUILTIN_DEFAULTS',
  'NOTEBOOK_DEFAULTS', 'prepareNotebook', 'notebookSteps', 'modelFromConfig', 'optimizerFromConfig',
  'compiledModelFromConfig', 'checkSweepOptions', 'summarizeHistory', 'textTable', 'TrialInterrupted', 'NOTEBOOK_CONFIG',
  'SPACE_KEYS', 'OPTIMIZERS', 'planTrials', 'gridSize', 'trialId', 'filtersPerBlock', 'configDiff', 'inspectDataDir',
  'makeSubset', 'prepareOutDir', 'notebookStrings',
  // layers and models plumbing
  'shift2d', 'upsampleNearest2d', 'toSnakeCase', 'camelToSnake', 'snakeToCamel', 'formatFilepath', 'summaryLines',
  'readableMemorySize', 'aspectCrop', 'conv2dTransposeParams', 'convTransposeLength', 'depthwiseConv2dParams', 'fans',
];

test('the package root keeps internals out', () => {
  const leaked = INTERNAL.filter((name) => name in root);
  assert.deepEqual(leaked, [], `internal helpers exported from src/index.ts: ${leaked.join(', ')}`);
});

test('convnet-ts/browser keeps the same internals out and adds only its own names to the root\'s engine', async () => {
  const browser = await import('../../src/browser.js');
  const leaked = INTERNAL.filter((name) => name in browser);
  assert.deepEqual(leaked, [], `internal helpers exported from src/browser.ts: ${leaked.join(', ')}`);
  const own = Object.keys(browser).filter((name) => !(name in root)).sort();
  assert.deepEqual(own, ['defaultThreads', 'downloadModel', 'initWasm', 'readClassNames', 'ready', 'saveModelBlob', 'wasmAvailable', 'wasmLoadError']);
});

test("every name the README imports from 'convnet-ts' is exported by the root", () => {
  const names = new Set<string>();
  for (const m of README.matchAll(/import\s*\{([^}]+)\}\s*from\s*'convnet-ts'/g)) {
    for (const part of m[1].split(',')) {
      const name = part.trim().replace(/^type\s+/, '').split(/\s+as\s+/)[0];
      if (/^[A-Za-z_$][\w$]*$/.test(name)) names.add(name); // not the prose's `{ ... }`
    }
  }
  assert.ok(names.size >= 10, `found only ${names.size} imported names in README.md`);
  const missing = [...names].filter((n) => !(n in root));
  assert.deepEqual(missing, [], `README imports names the root does not export: ${missing.join(', ')}`);
  // No README example imports the whole root as if it were the ops.
  assert.doesNotMatch(README, /import \* as \w+ from 'convnet-ts'/);
});

test('ops is a namespace of ops only, as in the README', () => {
  assert.equal(typeof root.ops, 'object');
  for (const op of ['add', 'mul', 'matmul', 'conv2d', 'maxPool2d', 'softmax', 'correlate']) {
    assert.equal(typeof (root.ops as any)[op], 'function', `ops.${op}`);
    assert.equal((root.ops as any)[op], (root as any)[op], `ops.${op} is the root's ${op}`);
  }
  for (const name of ['renderHouse', 'escapeHtml', 'Sequential', 'imread', 'loadModel']) assert.ok(!(name in root.ops), `ops.${name}`);
});

test("examples/ import the package by its name, and only names the root exports", () => {
  const src = readFileSync(fileURLToPath(new URL('../../examples/notebook.ts', import.meta.url)), 'utf8');
  assert.doesNotMatch(src, /from '\.\.?\//, 'examples/notebook.ts imports a relative path: a copy in a user project would break');
  const m = /import\s*\{([^}]+)\}\s*from\s*'convnet-ts'/.exec(src);
  assert.ok(m, "examples/notebook.ts does not import from 'convnet-ts'");
  const missing = m[1].split(',').map((s) => s.trim()).filter((n) => n && !(n in root));
  assert.deepEqual(missing, []);
});
