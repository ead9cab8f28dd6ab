import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { layers, Input, clearSession } from '../../src/layers/index.js';
import { Sequential, Model } from '../../src/models/index.js';
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

/** A small residual CNN: Conv, BN, ReLU, Conv, Add (skip from the first conv), pooling, Dense. */
function residualModel(): Model {
  clearSession();
  const inputs = Input({ shape: [32, 32, 3] });
  const c1 = new layers.Conv2D(16, 3, { padding: 'same' }).apply(inputs);
  const r1 = new layers.ReLU().apply(new layers.BatchNormalization().apply(c1));
  const c2 = new layers.Conv2D(16, 3, { padding: 'same' }).apply(r1);
  const g = new layers.GlobalAveragePooling2D().apply(new layers.Add().apply([c2, c1]));
  return new Model({ inputs, outputs: new layers.Dense(10, { activation: 'softmax' }).apply(g) });
}

test("summary() of a functional graph: Keras 3's four columns with \"Connected to\" (108 columns)", () => {
  // Keras is not installed here: the fixture follows keras/src/utils/summary_utils.py (Keras 3.x):
  // a graph that is not a chain gets header ["Layer (type)", "Output Shape", "Param #", "Connected to"],
  // positions [0.3, 0.56, 0.74, 1.0] of min(108, columns - 4), the layers in model._operations order
  // (InputLayer first, "-" for it), and "name[node_index][tensor_index]" per input tensor joined by ", ";
  // rich lays the table out as for Sequential (checked against Keras-printed fixtures above): cell padding 1,
  // ratio_reduce of the 13 extra columns to content widths 29/25/15/26, words wrapped, a long word cut with "…".
  const m = residualModel();
  assert.equal(m.summary({ lineLength: 108, printFn: () => {} }), fixture('functional_summary_108.txt'));
});

test('summary(): a chain built with the functional API prints the Sequential table with its InputLayer; shared layers and nested models show their node indices', () => {
  clearSession();
  const i = Input({ shape: [4] });
  const chain = new Model({ inputs: i, outputs: new layers.Dense(2).apply(new layers.Dense(3).apply(i)) });
  const text = chain.summary({ lineLength: 76, printFn: () => {} });
  assert.doesNotMatch(text, /Connected to/);
  assert.match(text, /│ input_layer \(InputLayer\)        │ \(None, 4\)              │             0 │/);
  clearSession();
  const a = Input({ shape: [4] }), b = Input({ shape: [4] });
  const shared = new layers.Dense(3, { name: 'shared' });
  const inner = (() => { const x = Input({ shape: [3] }); return new Model({ inputs: x, outputs: new layers.Dense(2).apply(x), name: 'inner' }); })();
  const out = new layers.Add().apply([inner.apply(shared.apply(a)), inner.apply(shared.apply(b))]);
  const m = new Model({ inputs: [a, b], outputs: out });
  const t2 = m.summary({ lineLength: 180, printFn: () => {} });
  assert.match(t2, /│ shared \(Dense\) +│ \(None, 3\) +│ +15 │ input_layer\[0\]\[0\], input_layer_1\[0\]\[0\] +│/);
  // The nested model's calls are its nodes 1 and 2 (node 0 is its own, inputs to outputs).
  assert.match(t2, /│ inner \(Functional\) +│ \(None, 2\) +│ +8 │ shared\[0\]\[0\], shared\[1\]\[0\] +│/);
  assert.match(t2, /│ add \(Add\) +│ \(None, 2\) +│ +0 │ inner\[1\]\[0\], inner\[2\]\[0\] +│/);
});
