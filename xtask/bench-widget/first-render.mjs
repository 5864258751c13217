// The widget's first paint in headless Chromium, beside Hanko Elements
// painted the same way: each page is served from a local origin and opened
// in a fresh browser context (cold cache), timed from the moment the browser
// starts fetching the widget's script. For Tessera, first paint is the first
// frame whose shadow root shows the sign-in button (the server's first view,
// before the wasm), and interactive is the wasm's `tessera:ready`; for Hanko
// both are its login form's email field, after its flow API answered. That
// API is a stand-in served here, on the page's origin, answering the two
// requests Hanko makes before its form (the `login` flow's `preflight` state,
// then `login_init`) at once, as a fast local server would. Hanko's first
// content of any kind (its loading state) is timed too.
//
// Each widget is loaded ten times on loopback and five times under Chromium's
// network emulation (1.6 Mbit/s down, 750 kbit/s up, 150 ms round trip).
// Also reported: the bytes (brotli, as each file compresses at quality 11)
// of what the browser had fetched at first paint, and the cumulative layout
// shift from first paint until a second after interactive.
//
// Tessera is measured once per loader given: the shipped one, and the
// benchmark's variants of when the loader fetches the wasm, each served by
// its own server from its own widget folder.
//
// Usage: node first-render.mjs <hanko bundle file> <name>=<tessera server origin>=<widget folder>...
// Prints one JSON line: {"<widget>": {"loopback"|"throttled": {"paint": [ms],
// "interactive": [ms], "first_content": [ms], "shift": [cls], "bytes": [n]}}},
// where <widget> is each tessera <name>, and "hanko".
import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { brotliCompressSync, constants } from 'node:zlib';
import { freePort, launchChromium } from '../../tests/support.mjs';

const [hankoBundle, ...loaders] = process.argv.slice(2);

// Polls every animation frame, from before any script runs, for the first
// frame in which the element's shadow root holds any content
// (window.firstContent), then the control that makes it usable
// (window.firstPaint, with the resources fetched by then), then for its
// being interactive (window.interactive: Tessera's tessera:ready, else the
// same frame); layout shifts are summed from first paint on.
const probe = (selector, usable, readyEvent) => `
(() => {
  const start = () => {
    const entry = performance.getEntriesByType('resource').find((e) => e.initiatorType === 'script');
    return entry ? entry.startTime : 0;
  };
  window.shift = 0;
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) if (window.firstPaint !== undefined && !entry.hadRecentInput) window.shift += entry.value;
  }).observe({ type: 'layout-shift', buffered: true });
  ${readyEvent ? `document.addEventListener('${readyEvent}', () => { window.readyAt = performance.now(); });` : ''}
  const tick = () => {
    const host = document.querySelector('${selector}');
    const root = host && host.shadowRoot;
    const now = performance.now();
    if (root && window.firstContent === undefined && root.querySelector('*:not(link):not(style)')) window.firstContent = now - start();
    if (root && window.firstPaint === undefined && root.querySelector('${usable}')) {
      window.firstPaint = now - start();
      window.fetchedAtPaint = performance.getEntriesByType('resource').filter((e) => e.responseEnd > 0 && e.responseEnd <= now).map((e) => e.name);
      ${readyEvent ? '' : 'window.interactive = window.firstPaint;'}
    }
    ${readyEvent ? "if (window.firstPaint !== undefined && window.readyAt !== undefined && window.interactive === undefined) window.interactive = Math.max(window.readyAt - start(), window.firstPaint);" : ''}
    if (window.interactive === undefined) requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
})();`;

// The page as the snippet makes it (GET /api/tenants/demo/snippet), for
// the loader in `folder` served by `server`.
const tesseraPage = (server, folder) => {
  const integrity = `sha384-${createHash('sha384').update(readFileSync(join(folder, 'tessera.js'))).digest('base64')}`;
  const stylesheet = readdirSync(folder).find((name) => /^tessera-[0-9a-f]+\.css$/.test(name));
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>t</title></head><body>
<script type="module" src="${server}/widget/v1/tessera.js" integrity="${integrity}" crossorigin="anonymous"></script>
<tessera-login tenant="demo" server="${server}"></tessera-login>
<link rel="preload" href="${server}/t/demo/start/auto.json" as="fetch" crossorigin="anonymous">
<link rel="preload" href="${server}/t/demo/theme.css" as="style">
<link rel="preload" href="${server}/widget/v1/${stylesheet}" as="style"></body></html>`;
};
const pages = {
  '/hanko.html': `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>h</title></head><body>
<script type="module" src="/hanko.js"></script><hanko-auth></hanko-auth></body></html>`,
};
const widgets = loaders.map((argument, index) => {
  const [name, server, folder] = argument.split('=');
  pages[`/tessera-${index}.html`] = tesseraPage(server, folder);
  return [name, `/tessera-${index}.html`, 'tessera-login', 'section[part=root] button', 'tessera:ready'];
});
// The Hanko flow API stand-in: the states its SDK expects, with only the
// actions the login form needs.
const action = (name, inputs) => ({ action: name, href: `/login?action=${name}`, inputs, description: '' });
const hankoStates = {
  preflight: {
    name: 'preflight', status: 200, payload: null, csrf_token: 'bench',
    actions: {
      register_client_capabilities: action('register_client_capabilities', {
        webauthn_available: { name: 'webauthn_available', type: 'boolean', required: true, hidden: true },
        webauthn_conditional_mediation_available: { name: 'webauthn_conditional_mediation_available', type: 'boolean', hidden: true },
        webauthn_platform_authenticator_available: { name: 'webauthn_platform_authenticator_available', type: 'boolean', hidden: true },
      }),
    },
  },
  login_init: {
    name: 'login_init', status: 200, payload: {}, csrf_token: 'bench',
    actions: {
      continue_with_login_identifier: action('continue_with_login_identifier', {
        email: { name: 'email', type: 'email', max_length: 100, required: true },
      }),
    },
  },
};
const hankoApi = (request, response) => {
  const url = new URL(request.url, 'http://local');
  const state = url.pathname === '/hanko-api/login'
    ? (url.searchParams.get('action') === 'register_client_capabilities' ? hankoStates.login_init : hankoStates.preflight)
    : url.pathname === '/hanko-api/sessions/validate' ? { is_valid: false } : null;
  request.resume();
  if (!state) return response.writeHead(404).end();
  response.setHeader('content-type', 'application/json');
  response.end(JSON.stringify(state));
};

const port = await freePort();
const local = createServer((request, response) => {
  if (request.url.startsWith('/hanko-api/')) return hankoApi(request, response);
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

// What a URL's body weighs as brotli at quality 11, fetched here once.
const brotliSizes = new Map();
async function brotliSize(url) {
  if (!brotliSizes.has(url)) {
    const body = Buffer.from(await (await fetch(url)).arrayBuffer());
    brotliSizes.set(url, brotliCompressSync(body, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).length);
  }
  return brotliSizes.get(url);
}

const THROTTLED = { offline: false, latency: 150, downloadThroughput: 1_600_000 / 8, uploadThroughput: 750_000 / 8 };
const browser = await launchChromium();
// One cold load of one widget's page; its figures are added to `times`.
const measureOnce = async ([, path, selector, usable, readyEvent], network, times) => {
  const context = await browser.newContext();
  await context.addInitScript(probe(selector, usable, readyEvent));
  const tab = await context.newPage();
  if (network) {
    const cdp = await context.newCDPSession(tab);
    await cdp.send('Network.enable');
    await cdp.send('Network.emulateNetworkConditions', network);
  }
  await tab.goto(`http://127.0.0.1:${port}${path}`);
  await tab.waitForFunction(() => window.interactive !== undefined, null, { timeout: 60_000 });
  await tab.waitForTimeout(1000);
  const seen = await tab.evaluate(() => ({
    paint: window.firstPaint, interactive: window.interactive, firstContent: window.firstContent,
    shift: window.shift, fetched: window.fetchedAtPaint,
  }));
  times.paint.push(seen.paint);
  times.interactive.push(seen.interactive);
  times.first_content.push(seen.firstContent);
  times.shift.push(seen.shift);
  // The widget's own files and documents, not the shop's page.
  let bytes = 0;
  for (const url of seen.fetched) if (!Object.keys(pages).some((page) => url.endsWith(page))) bytes += await brotliSize(url);
  times.bytes.push(bytes);
  await context.close();
};
// The widgets take turns, load by load, so that a slower moment of the
// machine falls on all of them alike; each round starts one widget further
// on, so that none always loads first (after the last round's Hanko) or
// last.
const result = {};
const everyWidget = [...widgets, ['hanko', '/hanko.html', 'hanko-auth', 'input[type=email]', undefined]];
for (const [network, conditions, runs] of [['loopback', undefined, 10], ['throttled', THROTTLED, 5]]) {
  for (let run = 0; run < runs; run++) {
    const turn = everyWidget.map((_, index) => everyWidget[(index + run) % everyWidget.length]);
    for (const widget of turn) {
      result[widget[0]] ??= {};
      result[widget[0]][network] ??= { paint: [], interactive: [], first_content: [], shift: [], bytes: [] };
      await measureOnce(widget, conditions, result[widget[0]][network]);
    }
  }
}
await browser.close();
local.close();
console.log(JSON.stringify(result));
