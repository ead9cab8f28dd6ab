// A module Web Worker running the checks. The handler is set before anything loads (a message sent
// while a module's top-level await runs would find no handler); import maps do not reach workers,
// so the path is direct.
self.onmessage = async (e) => {
  try {
    const [c, { run }] = await Promise.all([import('/src/browser.js'), import('./checks.mjs')]);
    self.postMessage({ ...(await run(c, e.data.backend)), inWorker: true });
  } catch (err) {
    self.postMessage({ error: String(err && err.stack || err) });
  }
};
