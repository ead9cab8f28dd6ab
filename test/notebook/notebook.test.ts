import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { runNotebook } from '../../src/notebook/runner.js';
import { notebookSteps, formatMatrix } from '../../src/notebook/steps.js';
import type { HistoryFile, RunManifest } from '../../src/report/types.js';
import { ARTIFACTS, launchChromium } from '../report/helpers.js';

const tiny = { builtin: { perClass: 40, size: 32 }, targetSize: 16, epochs: 2, batchSize: 16 };

test('formatMatrix prints as NumPy does', () => {
  assert.equal(formatMatrix([[-4, 4, 0], [-10, 5, 3]]), '[[ -4   4   0]\n [-10   5   3]]');
});

test('the whole notebook on a tiny built-in set: every output, the model file and a report that renders', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'convnet-nb-'));
  const out = join(root, 'out');
  try {
    const printed: string[] = [];
    await runNotebook({ out, ...tiny }, notebookSteps(), (l) => printed.push(l));
    const text = printed.join('\n');
    assert.ok(text.includes('[[ -4   4   0   3   4]\n [ -9   3   1   7   8]\n [-10   5   3   3   7]\n [-10  -2   3   5   7]\n [ -5  -1   2   1   3]]'), 'the SciPy result of the 5x5 example');
    assert.match(text, /Original image: \(1, 306, 461, 1\)/);
    assert.match(text, /Max pooling \(1, 153, 230, 1\).*\n.*\(1, 76, 115, 1\).*\n.*Max pooling \(1, 38, 57, 1\)/);
    assert.match(text, /Found 64 images belonging to 2 classes\.\nFound 16 images belonging to 2 classes\./);
    assert.match(text, /Class indices: \{'horizontal': 0, 'vertical': 1\}/);
    assert.match(text, /Total params: /);
    assert.match(text, /Prediction: \d\.\d\d/);
    assert.match(text, /Loaded it back: predictions on a validation batch differ by at most 0\.00e\+0/);
    for (const f of ['filter-vertical-edges.png', 'filter-horizontal-edges.png', 'filter-laplacian.png', 'pooling.png', 'predictions.png']) {
      assert.ok(existsSync(join(out, 'figures', f)), f);
    }
    assert.ok(existsSync(join(out, 'cnn-dogs-cats.keras')));
    const h = JSON.parse(readFileSync(join(out, 'history.json'), 'utf8')) as HistoryFile;
    assert.equal(h.epochs, 2);
    assert.deepEqual(Object.keys(h.history).sort(), ['accuracy', 'loss', 'val_accuracy', 'val_loss']);
    const m = JSON.parse(readFileSync(join(out, 'run.json'), 'utf8')) as RunManifest;
    assert.equal(m.status, 'finished');
    const types = m.sections.map((s) => s.type).join(',');
    assert.match(types, /^text,figure,figure,figure,text,figure,text,text,text,curves,text,figure,confusion,text/);
    // "Training" (its epoch lines) comes before its curves; no heading repeats.
    const titles = m.sections.map((s) => s.title);
    assert.ok(titles.indexOf('Training') === titles.indexOf('Training curves') - 1);
    assert.match((m.sections[titles.indexOf('Training')] as { text: string }).text, /^Epoch 1\/2 - .*\nEpoch 2\/2 - .*\n\(\d+\.\d s\)$/);
    const headings = [...readFileSync(join(out, 'index.html'), 'utf8').matchAll(/<h2>\d+\. ([^<]*)<\/h2>/g)].map((h) => h[1]);
    assert.equal(new Set(headings).size, headings.length, `repeated headings: ${headings.join(' | ')}`);

    const browser = await launchChromium();
    if (!browser) { t.skip('chromium not found at /usr/bin/chromium: browser check skipped'); return; }
    try {
      const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
      await page.goto(pathToFileURL(join(out, 'index.html')).href);
      await page.waitForSelector('body[data-charts-rendered], body[data-chart-error]', { timeout: 30000 });
      assert.equal(await page.getAttribute('body', 'data-chart-error'), null);
      assert.equal(await page.getAttribute('body', 'data-charts-rendered'), '2');
      const widths = await page.$$eval('img', (els) => els.map((e) => (e as HTMLImageElement).naturalWidth));
      assert.ok(widths.length >= 5 && widths.every((w) => w > 0), `every figure loads: ${widths}`);
      const lines = await page.$$eval('.section-curves svg .mark-line.role-mark path', (els) => els.length);
      assert.equal(lines, 4);
      mkdirSync(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: join(ARTIFACTS, 'notebook-report.png'), fullPage: true });
    } finally {
      await browser.close();
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('--lang es: titles and messages in Spanish', async () => {
  const root = mkdtempSync(join(tmpdir(), 'convnet-nb-'));
  try {
    const printed: string[] = [];
    await runNotebook({ out: join(root, 'out'), lang: 'es', ...tiny, epochs: 1 }, notebookSteps(), (l) => printed.push(l));
    const text = printed.join('\n');
    assert.match(text, /Predicción: \d\.\d\d/);
    assert.match(text, /Imagen original: \(1, 306, 461, 1\)/);
    const m = JSON.parse(readFileSync(join(root, 'out', 'run.json'), 'utf8')) as RunManifest;
    assert.ok(m.sections.some((s) => s.title === 'Curvas de entrenamiento'));
    assert.match(readFileSync(join(root, 'out', 'index.html'), 'utf8'), /<html lang="es">/);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('the default built-in run (the README main job) reaches at least 0.90 validation accuracy', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'convnet-nb-'));
  try {
    const r = await runNotebook({ out: join(root, 'out') }, notebookSteps(), () => {});
    assert.ok(r.state.valAccuracy! >= 0.9, `validation accuracy ${r.state.valAccuracy}`);
    // Speed is measured, never asserted: the time is only reported.
    t.diagnostic(`built-in notebook: ${r.seconds.toFixed(1)} s, validation accuracy ${r.state.valAccuracy}`);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
