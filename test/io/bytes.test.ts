// model.save('blob://') returns the .keras file as a Blob; loadModel in Node reads a model file's bytes
// (Uint8Array, ArrayBuffer, Blob) as the browser one does.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Sequential } from '../../src/models/index.js';
import { loadModel } from '../../src/io/models/index.js';
import { buildChain, cnnLayers, forward, inputBatch, maxAbsDiff, CNN_INPUT } from './helpers.js';

function model(): Sequential {
  const layers = cnnLayers();
  buildChain(CNN_INPUT, layers);
  const m = new Sequential(layers);
  m.compile({ optimizer: 'adam', loss: 'categorical_crossentropy', metrics: ['accuracy'] });
  return m;
}

test("save('blob://') returns the bytes save('x.keras') writes, and loadModel reads them back from a Blob, ArrayBuffer or Uint8Array", async () => {
  const m = model();
  const blob = await m.save('blob://', { classNames: ['a', 'b', 'c'] });
  assert.ok(blob instanceof Blob);
  assert.equal(blob.type, 'application/x-keras');
  const dir = mkdtempSync(join(tmpdir(), 'convnet-bytes-'));
  try {
    const file = join(dir, 'm.keras');
    await m.save(file, { classNames: ['a', 'b', 'c'] });
    const bytes = new Uint8Array(await blob.arrayBuffer());
    assert.equal(bytes[0], 0x50); // a zip
    const x = inputBatch(CNN_INPUT, 2, 3, 1);
    const want = forward(m.layers, x);
    const offset = new Uint8Array(bytes.length + 8);
    offset.set(bytes, 8);
    for (const src of [blob, bytes.buffer as ArrayBuffer, offset.subarray(8), readFileSync(file)]) {
      const back = await loadModel(src, { warn: (w) => assert.fail(w) });
      assert.equal(back.className, 'Sequential');
      assert.ok(maxAbsDiff(forward(back.layers, x), want) === 0, 'same weights');
      assert.equal(back.optimizer?.constructor.name, 'Adam');
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('bad sources are refused with a message naming what to give', async () => {
  const m = model();
  await assert.rejects(m.save('blob://m.keras'), /'blob:\/\/' takes no name/);
  await assert.rejects(m.save('blob://', { format: 'onnx' } as any), /saved as \.keras only/);
  await assert.rejects(loadModel(new Uint8Array([1, 2, 3, 4])), /model bytes: not a model file/);
  await assert.rejects(loadModel({} as any), /loadModel: give a file path, or a model file's bytes/);
  await assert.rejects(loadModel(new URL('file:///x.keras') as any), /loadModel: give a file path/);
});
