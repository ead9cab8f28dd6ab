import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { layers } from '../../src/layers/index.js';
import { Sequential } from '../../src/models/index.js';
import { notebookModel } from './helpers.js';

const fixture = (name: string) => readFileSync(new URL(`../fixtures/models/${name}`, import.meta.url), 'utf8');

test("summary() prints Keras 3's table for the notebook model, exactly (76 and 88 columns)", () => {
  const model = notebookModel();
  for (const L of [76, 88]) {
    const lines: string[] = [];
    const text = model.summary({ lineLength: L, printFn: (l) => lines.push(l) });
    assert.equal(text, fixture(`notebook_summary_${L}.txt`));
    assert.equal(lines.join('\n') + '\n', text);
  }
  assert.equal(model.countParams(), 830849);
  assert.match(model.summary({ lineLength: 76, printFn: () => {} }), / Total params: 830,849 \(3\.17 MB\)/);
});

test('summary: non-trainable weights, optimizer params after training, long names wrapped and cut', async () => {
  const m = new Sequential([
    new layers.Dense(4, { inputShape: [3], name: 'a_very_long_layer_name_that_will_not_fit_in_the_column' }),
    new layers.BatchNormalization(),
  ]);
  const text = m.summary({ lineLength: 76, printFn: () => {} });
  assert.match(text, /│ a_very_long_layer_name_that_wi… │ \(None, 4\)              │            16 │\n│ \(Dense\)                         │/);
  assert.match(text, / Trainable params: 24 \(96\.00 B\)\n Non-trainable params: 8 \(32\.00 B\)\n$/);
});

test('summary() of a model without an input shape is a clear error', () => {
  const m = new Sequential([new layers.Dense(2)]);
  assert.throws(() => m.summary(() => {}), /has no input shape yet.*inputShape/);
  assert.throws(() => m.countParams(), /has no input shape yet/);
});
