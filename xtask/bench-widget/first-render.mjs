// The widget's first render in headless Chromium, beside Hanko Elements
// rendered the same way: each page is served from a local origin, opened in a
// fresh browser context (cold cache) ten times, and timed from the moment the
// browser starts fetching the widget's script to the first frame in which
// the widget has rendered something into its shadow root. For Tessera that
// is the sign-in button (after the wasm, the tenant's texts, config and the
// IdP's discovery document); for Hanko it is whatever it renders first,
// usually its loading state, since its API is not there: a definition that
// favours Hanko.
//
// Usage: node first-render.mjs <tessera server origin> <hanko bundle file>
// Prints one JSON line: {"tessera": [ms...], "hanko": [ms...]}.
import { createServer } from 'node:http';
import { readFileSync } from 'node:fs';
import { freePort, launchChromium } from '../../tests/support.mjs';

const [server, hankoBundle] = process.argv.slice(2);
const integrity = JSON.parse(readFileSync(new URL('../../dist/widget/manifest.json', import.meta.url))).files['tessera.js'].integrity;

// Polls every animation frame, from before any script runs, for the first
// frame in which the element's shadow root holds rendered content.
const probe = (selector, inside) => `
(() => {
  const tick = () => {
    const host = document.querySelector('${selector}');
    const root = host && host.shadowRoot;
    if (root && root.querySelector('${inside}')) {
      const entry = performance.getEntriesByType('resource').find((e) => e.initiatorType === 'script');
      window.firstRender = performance.now() - (entry ? entry.startTime : 0);
      return;
    }
    requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
})();`;

const pages = {
  '/tessera.html': `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>t</title></head><body>
<script type="module" src="${server}/widget/v1/tessera.js" integrity="${integrity}" crossorigin="anonymous"></script>
<tessera-login tenant="demo" server="${server}"></tessera-login></body></html>`,
  '/hanko.html': `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>h</title></head><body>
<script type="module" src="/hanko.js"></script><hanko-auth></hanko-auth></body></html>`,
};
const port = await freePort();
const local = createServer((request, response) => {
  if (pages[request.url]) {
    response.setHeader('content-type', 'text/html');
    return response.end(pages[request.url]);
  }
  if (request.url === '/hanko.js') {
    response.setHeader('content-type', 'text/javascript');
    return response.end(readFileSync(hankoBundle));
  }
  response.writeHead(404).end();
});
await new Promise((resolve) => local.listen(port, '127.0.0.1', resolve));

const browser = await launchChromium();
const measure = async (path, selector, inside) => {
  const times = [];
  for (let run = 0; run < 10; run++) {
    const context = await browser.newContext();
    await context.addInitScript(probe(selector, inside));
    const tab = await context.newPage();
    await tab.goto(`http://127.0.0.1:${port}${path}`);
    await tab.waitForFunction(() => window.firstRender !== undefined, null, { timeout: 20_000 });
    times.push(await tab.evaluate(() => window.firstRender));
    await context.close();
  }
  return times;
};
const result = {
  tessera: await measure('/tessera.html', 'tessera-login', 'button'),
  hanko: await measure('/hanko.html', 'hanko-auth', '*'),
};
await browser.close();
local.close();
console.log(JSON.stringify(result));
