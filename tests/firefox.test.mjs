// The <tessera-login> widget end to end in Firefox: Debian's firefox-esr,
// driven over WebDriver BiDi by npm puppeteer-core (Playwright drives only
// its own patched Firefox, which cannot be installed on these machines). The
// Chromium suite (widget.test.mjs) checks everything; this one checks, in a
// second engine, what depends on the browser: the first view and the wasm
// under the printed CSP, the sign-in round trip (code + PKCE), and the
// `modulepreload` pin of the session module's glue (`import()` takes no
// integrity, so the loader relies on the browser filling its module map from
// a checked `modulepreload`; a changed file must never run).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import puppeteer from 'puppeteer-core';
import { freePort, recorderScript, startTessera } from './support.mjs';

const root = new URL('../', import.meta.url);
const widgetDir = new URL('dist/widget', root).pathname;
const firefox = process.env.TESSERA_FIREFOX ?? '/usr/bin/firefox-esr';

let tessera;
let shop;
let browser;
let dataDir;
let shopOrigin;

before(async () => {
  assert.ok(existsSync(firefox), `${firefox} is missing: \`cargo xtask setup\` installs Debian's firefox-esr`);
  dataDir = mkdtempSync(join(tmpdir(), 'tessera-firefox-'));
  tessera = await startTessera({ dataDir });
  const headers = { authorization: `Bearer ${tessera.adminToken}` };
  const response = await fetch(`${tessera.server}/api/tenants/demo/snippet`, { headers });
  assert.equal(response.status, 200, 'the widget is built, so the snippet has an integrity value');
  const snippet = await response.json();

  const shopPort = await freePort();
  shopOrigin = `http://127.0.0.1:${shopPort}`;
  const directives = { ...snippet.content_security_policy };
  directives['script-src'] = `'self' ${directives['script-src']}`;
  directives['connect-src'] = `'self' ${directives['connect-src']}`;
  // Firefox asks the shop for its favicon under the page's CSP.
  directives['img-src'] = `'self' ${directives['img-src'] ?? ''}`.trim();
  const csp = ["default-src 'none'", ...Object.entries(directives).map(([name, value]) => `${name} ${value}`)].join('; ');
  shop = createServer((request, response) => {
    response.setHeader('content-security-policy', csp);
    const { pathname } = new URL(request.url, shopOrigin);
    if (pathname === '/page.js') {
      response.setHeader('content-type', 'text/javascript');
      return response.end(recorderScript);
    }
    if (pathname !== '/shop/') return response.writeHead(404).end();
    response.setHeader('content-type', 'text/html');
    response.end(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Shop</title>
<script src="/page.js"></script></head><body><main><h1>Shop</h1>${snippet.html}</main></body></html>`);
  });
  await new Promise((resolve) => shop.listen(shopPort, '127.0.0.1', resolve));

  const current = await fetch(`${tessera.server}/api/tenants/demo`, { headers });
  const { config } = await current.json();
  config.redirect_uris = [...new Set([...config.redirect_uris, `${shopOrigin}/shop/`])];
  config.allowed_origins = [shopOrigin];
  const updated = await fetch(`${tessera.server}/api/tenants/demo`, {
    method: 'PUT',
    headers: { ...headers, 'content-type': 'application/json', 'if-match': current.headers.get('etag') },
    body: JSON.stringify(config),
  });
  assert.equal(updated.status, 200, await updated.text());
  browser = await puppeteer.launch({ browser: 'firefox', executablePath: firefox, headless: true });
});

after(async () => {
  await browser?.close();
  shop?.close();
  await tessera?.stop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

/** A new tab on the shop page; `answer(url)` may replace what the server
 * answers for a request (a body), or leave it (undefined). */
async function open(answer = () => undefined) {
  const context = await browser.createBrowserContext();
  const tab = await context.newPage();
  const errors = [];
  const requested = [];
  tab.on('pageerror', (error) => {
    // Firefox reports its own favicon request, refused by a page's CSP (the
    // development issuer's page allows no images), as a page error.
    if (!/\(img-src\) at http:\/\/127\.0\.0\.1:\d+\/favicon\.ico /.test(String(error))) errors.push(String(error));
  });
  await tab.setRequestInterception(true);
  tab.on('request', (request) => {
    requested.push(request.url());
    const body = answer(request.url());
    if (body === undefined) return request.continue();
    return request.respond({
      status: 200,
      contentType: 'text/javascript',
      headers: { 'access-control-allow-origin': '*' },
      body,
    });
  });
  await tab.goto(`${shopOrigin}/shop/`);
  return { tab, context, errors, requested };
}

const inWidget = (selector) => `tessera-login >>> ${selector}`;

async function events(tab) {
  return tab.evaluate(() => window.events);
}

/** Signs in through the development issuer's page and waits until the
 * widget reports a login or an error; returns the event names. */
async function signIn(tab) {
  // A locator retries while the wasm takes the first view over.
  await Promise.all([
    tab.waitForNavigation({ timeout: 15_000 }),
    tab.locator(inWidget('button.primary')).setTimeout(15_000).click(),
  ]);
  assert.match(tab.url(), /\/dev\/oidc\/authorize/);
  await Promise.all([tab.waitForNavigation({ timeout: 15_000 }), tab.click('button.allow')]);
  assert.ok(tab.url().startsWith(`${shopOrigin}/shop/`), tab.url());
  await tab.waitForFunction(() => window.events.some((e) => e.name === 'tessera:login' || e.name === 'tessera:error'),
    { timeout: 15_000 });
  return (await events(tab)).map((event) => event.name);
}

test('Firefox: the widget signs in against the development issuer and out again, under the printed CSP', async () => {
  const { tab, context, errors } = await open();
  try {
    const names = await signIn(tab);
    assert.ok(names.includes('tessera:login'), names.join(' '));
    const login = (await events(tab)).find((event) => event.name === 'tessera:login');
    assert.ok(login.detail.sub.length >= 20, JSON.stringify(login.detail));
    const serialized = JSON.stringify(login.detail);
    for (const forbidden of ['Ada', '@example.test', 'email', 'nonce', 'eyJ']) {
      assert.ok(!serialized.includes(forbidden), `${forbidden} reached the page: ${serialized}`);
    }
    assert.ok(!tab.url().includes('code='), `the callback was not cleaned from ${tab.url()}`);
    const status = await tab.waitForSelector(inWidget('.status'), { timeout: 15_000 });
    assert.equal((await status.evaluate((node) => node.textContent)).trim(), 'You are signed in');
    assert.deepEqual(await tab.evaluate(() => window.violations), []);
    assert.deepEqual(errors, []);
    await Promise.all([
      tab.waitForNavigation({ timeout: 15_000 }),
      tab.locator(inWidget('button.secondary')).setTimeout(15_000).click(),
    ]);
    await tab.waitForSelector(inWidget('button.primary'), { visible: true, timeout: 15_000 });
  } finally {
    await context.close();
  }
});

test('Firefox: the session module\'s glue runs only as pinned by its modulepreload', async () => {
  const manifest = JSON.parse(readFileSync(join(widgetDir, 'manifest.json'), 'utf8'));
  const glue = Object.keys(manifest.files).find((name) => /^tessera-session-[0-9a-f]+\.js$/.test(name));
  const built = readFileSync(join(widgetDir, glue), 'utf8');
  const changed = `${built}\nglobalThis.tesseraChanged = true;`;
  // What the server answers for the glue, by request, and what must follow
  // (as in the Chromium suite): a refused first answer is retried at
  // another address (`?attempt=1`).
  const cases = [
    { name: 'built', answer: () => built, signedIn: true, requests: 1, refusals: 0 },
    { name: 'changed, then built', answer: (n) => (n === 1 ? changed : built), signedIn: true, requests: 2, refusals: 1 },
    { name: 'always changed', answer: () => changed, signedIn: false },
  ];
  for (const { name, answer, signedIn, requests, refusals } of cases) {
    const asked = [];
    const { tab, context, errors } = await open((url) => {
      if (new URL(url).pathname !== `/widget/v1/${glue}`) return undefined;
      asked.push(url);
      return answer(asked.length);
    });
    try {
      const names = await signIn(tab);
      assert.equal(await tab.evaluate(() => globalThis.tesseraChanged), undefined, `${name}: a changed glue never runs`);
      // Firefox says why it refused the file, as a page error.
      const refused = (error) => /None of the .sha384. hashes in the integrity attribute match .*\/tessera-session-[0-9a-f]+\.js/.test(error);
      assert.deepEqual(errors.filter((error) => !refused(error)), [], name);
      const refusedCount = errors.filter(refused).length;
      if (refusals !== undefined) assert.equal(refusedCount, refusals, `${name}: ${errors.join(' ')}`);
      else assert.ok(refusedCount >= 1, `${name}: Firefox refused the changed glue`);
      if (signedIn) {
        assert.ok(names.includes('tessera:login'), `${name}: ${names.join(' ')}`);
        assert.equal(asked.length, requests, `${name}: ${asked.join(' ')}`);
        if (requests > 1) assert.match(asked.at(-1), /\?attempt=1$/, `${name}: the retry asks for another address`);
      } else {
        assert.ok(names.includes('tessera:error') && !names.includes('tessera:login'), `${name}: ${names.join(' ')}`);
        assert.ok(asked.length >= 1, name);
      }
    } finally {
      await context.close();
    }
  }
});
