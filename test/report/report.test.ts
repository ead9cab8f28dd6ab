import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, existsSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { buildReport, serveReport, renderReport, loadRun, rankingTable, readJsonLines, appendJsonLine } from '../../src/report/index.js';
import { ARTIFACTS, fakeRun, history, launchChromium, trial } from './helpers.js';

test('the page lists every section in order, escaped, with the charting scripts beside it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'convnet-report-'));
  try {
    await fakeRun(dir);
    const page = readFileSync(buildReport(dir), 'utf8');
    const titles = ['Correlate', 'Predictions', 'Classes', 'Training curves', 'Confusion matrix', 'Sweep'];
    let at = 0;
    for (const t of titles) {
      const i = page.indexOf(`. ${t}</h2>`, at);
      assert.ok(i > at, `section '${t}' in order`);
      at = i;
    }
    assert.ok(!page.includes('<script>alert(1)'), 'text is escaped');
    assert.ok(page.includes('Test run &lt;b&gt;'));
    for (const f of ['vega.min.js', 'vega-lite.min.js', 'vega-embed.min.js']) assert.ok(existsSync(join(dir, 'report-assets', f)), f);
    assert.ok(!/https?:\/\/(?!vega\.github\.io\/schema)/.test(page.replace(/<script src="report-assets[^"]*"><\/script>/g, '')), 'no network address besides the schema id');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('outputs that share a title share one numbered heading and one contents entry', () => {
  const page = renderReport({
    manifest: {
      kind: 'notebook', title: 't', lang: 'en', createdAt: '', status: 'finished', sections: [
        { type: 'text', title: 'Pooling', text: 'shapes' },
        { type: 'figure', title: 'Pooling', src: 'p.png' },
        { type: 'text', title: 'Training', text: 'Epoch 1/1' },
        { type: 'confusion', title: 'Confusion', labels: ['a', 'b'], matrix: [[1, 0], [0, 1]] },
        { type: 'text', title: 'Confusion', text: 'Validation accuracy: 1.0000' },
        { type: 'text', title: 'Pooling', text: 'again, after another title: its own heading' },
      ],
    },
    histories: {}, trials: {}, existing: new Set(['p.png']),
  });
  const headings = [...page.matchAll(/<h2>([^<]*)<\/h2>/g)].map((m) => m[1]);
  assert.deepEqual(headings, ['1. Pooling', '2. Training', '3. Confusion', '4. Pooling']);
  assert.equal([...page.matchAll(/<li><a href="#/g)].length, 4);
  // Both outputs are still there, under the one heading.
  assert.match(page, /<section id="s1" class="section-text section-figure"><h2>1\. Pooling<\/h2>\n<pre>shapes<\/pre>\n<figure><img src="p\.png"/);
  assert.match(page, /<section id="s4" class="section-confusion section-text">/);
});

test('Spanish pages name the curves\' metrics and axis in Spanish', () => {
  const page = renderReport({
    manifest: { kind: 'notebook', title: 't', lang: 'es', createdAt: '', status: 'finished', sections: [{ type: 'curves', title: 'Curvas', src: 'h.json' }] },
    histories: { 'h.json': { epochs: 2, history: history(2) } }, trials: {}, existing: new Set(),
  });
  const data = JSON.parse(page.slice(page.indexOf('id="convnet-data">') + 18, page.indexOf('</script>', page.indexOf('id="convnet-data">'))));
  const spec = data.charts['chart-s1'];
  assert.equal(spec.spec.encoding.x.title, 'época');
  assert.deepEqual(spec.facet.column.sort.slice(0, 2), ['pérdida', 'exactitud']);
  const rows = spec.datasets.history as { metric: string; split: string }[];
  assert.deepEqual([...new Set(rows.map((r) => r.metric))].sort(), ['exactitud', 'pérdida']);
  assert.deepEqual([...new Set(rows.map((r) => r.split))].sort(), ['entrenamiento', 'validación']);
  assert.ok(!/"(loss|accuracy)"/.test(JSON.stringify(spec)), 'no English metric name left');
});

test('a missing figure is shown as missing; a folder without a run is a clear error', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'convnet-report-'));
  try {
    await fakeRun(dir);
    rmSync(join(dir, 'figures', 'grid.png'));
    assert.match(renderReport(loadRun(dir)), /missing file: figures\/grid.png/);
    const empty = join(dir, 'empty');
    mkdirSync(empty);
    assert.throws(() => buildReport(empty), /holds no run/);
    assert.throws(() => buildReport(join(dir, 'nope')), /does not exist/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('ranking puts the best trial first; torn lines in results.jsonl are skipped with a warning', () => {
  const dir = mkdtempSync(join(tmpdir(), 'convnet-report-'));
  try {
    const p = join(dir, 'results.jsonl');
    appendJsonLine(p, trial(0, { a: 1 }, 0.7));
    appendJsonLine(p, trial(1, { a: 2 }, 0.9));
    writeFileSync(p, readFileSync(p, 'utf8') + '{"id": "tor');
    const warnings: string[] = [];
    const recs = readJsonLines<ReturnType<typeof trial>>(p, (w) => warnings.push(w));
    assert.equal(recs.length, 2);
    assert.equal(warnings.length, 1);
    const t = rankingTable(recs);
    assert.deepEqual(t.rows.map((r) => r[1]), [2, 1]);
    assert.equal(t.columns[2], 'a');
    // A sweep folder with only results.jsonl still gets a report.
    assert.match(readFileSync(buildReport(dir), 'utf8'), /Ranking/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('headless Chromium: figures load and every chart renders (file://, offline)', async (t) => {
  const browser = await launchChromium();
  if (!browser) { t.skip('chromium not found at /usr/bin/chromium: browser check skipped'); return; }
  const dir = mkdtempSync(join(tmpdir(), 'convnet-report-'));
  try {
    await fakeRun(dir);
    const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    const requests: string[] = [];
    page.on('request', (r) => { if (!r.url().startsWith('file:')) requests.push(r.url()); });
    await page.goto(pathToFileURL(buildReport(dir)).href);
    await page.waitForSelector('body[data-charts-rendered], body[data-chart-error]', { timeout: 30000 });
    assert.equal(await page.getAttribute('body', 'data-chart-error'), null);
    assert.equal(await page.getAttribute('body', 'data-charts-rendered'), '3');
    const imgs = await page.$$eval('img', (els) => els.map((e) => (e as HTMLImageElement).naturalWidth));
    assert.deepEqual(imgs, [120]);
    // The curves: 2 facets (loss, accuracy) x 2 splits = 4 lines, 4 epochs each.
    const lines = await page.$$eval('[data-chart="chart-s4"] svg .mark-line.role-mark path', (els) => els.length);
    assert.equal(lines, 4);
    const points = await page.$$eval('[data-chart="chart-s4"] svg .mark-symbol.role-mark path', (els) => els.length);
    assert.equal(points, 16);
    const cells = await page.$$eval('[data-chart="chart-s5"] svg .mark-rect.role-mark path', (els) => els.length);
    assert.equal(cells, 4);
    const sweepPoints = await page.$$eval('[data-chart="chart-s6"] svg .mark-symbol.role-mark path', (els) => els.length);
    assert.equal(sweepPoints, 3 * 3, 'one point per trial in each of the 3 varying parameters');
    assert.deepEqual(requests, [], 'the page fetches nothing from the network');
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'report.png'), fullPage: true });
  } finally {
    await browser.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('served report follows the run: the curves grow as epochs are written', async (t) => {
  const browser = await launchChromium();
  if (!browser) { t.skip('chromium not found at /usr/bin/chromium: browser check skipped'); return; }
  const dir = mkdtempSync(join(tmpdir(), 'convnet-report-'));
  const server = await serveReport(dir, { port: 0 }).catch((e) => { throw e; });
  try {
    assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
    const page = await browser.newPage();
    // Started before the run: the page waits, then shows the run once it begins.
    await page.goto(server.url);
    assert.match(await page.content(), /Waiting for a run/);
    const log = await fakeRun(dir, { epochs: 0, status: 'running' });
    await page.waitForSelector('body[data-charts-rendered]', { timeout: 30000 });
    const count = () => page.$$eval('[data-chart="chart-s4"] svg .mark-symbol.role-mark path', (els) => els.length);
    assert.equal(await count(), 0);
    log.writeHistory('history.json', history(2));
    await page.waitForFunction(() => document.querySelectorAll('[data-chart="chart-s4"] svg .mark-symbol.role-mark path').length === 8, undefined, { timeout: 10000 });
    log.writeHistory('history.json', history(5));
    await page.waitForFunction(() => document.querySelectorAll('[data-chart="chart-s4"] svg .mark-symbol.role-mark path').length === 20, undefined, { timeout: 10000 });
    // Finishing the run reloads the page without the "running" banner.
    log.finish('finished');
    await page.waitForFunction(() => !document.querySelector('.status.running'), undefined, { timeout: 10000 });
    const res = await fetch(server.url + '../../etc/passwd');
    assert.notEqual(res.status, 200);
    const res2 = await fetch(server.url + '%2e%2e/%2e%2e/etc/passwd');
    assert.notEqual(res2.status, 200);
  } finally {
    await browser.close();
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
