/** Real configs written by Keras 3 (../shared/fixtures/models, read-only) build the same architecture here. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { unzipSync, strFromU8 } from 'fflate';
import { Sequential } from '../../src/models/index.js';

const DIR = fileURLToPath(new URL('../../../shared/fixtures/models/', import.meta.url));

for (const [file, params] of [['akshat_mnist.keras', 225034], ['aslaskin_digit.keras', 34826], ['edwin_mnist_cnn.keras', null]] as const) {
  test(`Sequential.fromConfig reads ${file}'s config.json and writes the same layer configs back`, (t) => {
    const path = DIR + file;
    if (!existsSync(path)) { t.skip(`${path} is absent`); return; }
    const cfg = JSON.parse(strFromU8(unzipSync(readFileSync(path))['config.json']));
    const model = Sequential.fromConfig(cfg);
    const mine = model.getConfig() as any;
    const theirs = cfg.config.layers;
    assert.equal(mine.layers.length, theirs.length);
    mine.layers.forEach((l: any, i: number) => {
      assert.equal(l.class_name, theirs[i].class_name);
      for (const [k, v] of Object.entries(l.config)) {
        if (k in theirs[i].config && k !== 'dtype' && k !== 'kernel_initializer') assert.deepEqual(v, theirs[i].config[k], `${l.config.name}.${k}`);
      }
    });
    if (params !== null) assert.equal(model.countParams(), params);
  });
}
