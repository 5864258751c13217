// The <tessera-login> widget end to end in Firefox: Debian's firefox-esr,
// driven over WebDriver BiDi by npm puppeteer-core (Playwright drives only
// its own patched Firefox, which cannot be installed on these machines). The
// Chromium suite (widget.test.mjs) checks everything; this one checks, in a
// second engine, what depends on the browser: the first view and the wasm
// under the printed CSP, the sign-in round trip (code + PKCE), and the
// integrity pin of the session module's glue (`import()` takes no integrity,
// so the loader relies on the browser filling its module map from a checked
// module script; a changed file must never run).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import puppeteer from 'puppeteer-core';
import { assertGluePinOutcome, personalDataIn, sessionGluePinCases, startShop, startTessera } from './support.mjs';

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
  shop = await startShop(tessera);
  shopOrigin = shop.origin;
  browser = await puppeteer.launch({ browser: 'firefox', executablePath: firefox, headless: true });
});

after(async () => {
  await browser?.close();
  await shop?.close();
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
    assert.equal(personalDataIn(login.detail), undefined, `personal data reached the page: ${serialized}`);
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

test('Firefox: the session module\'s glue runs only as pinned by its integrity value', async () => {
  const { path, cases } = sessionGluePinCases(widgetDir);
  for (const pinCase of cases) {
    const { name, answer, refusals } = pinCase;
    const asked = [];
    const { tab, context, errors } = await open((url) => {
      if (new URL(url).pathname !== path) return undefined;
      asked.push(url);
      return answer(asked.length);
    });
    try {
      const names = await signIn(tab);
      const changedRan = await tab.evaluate(() => globalThis.tesseraChanged);
      assertGluePinOutcome(pinCase, { names, asked, changedRan });
      // Firefox says why it refused a file, as a page error.
      const refused = (error) => /None of the .sha384. hashes in the integrity attribute match .*\/tessera-session-[0-9a-f]+\.js/.test(error);
      assert.deepEqual(errors.filter((error) => !refused(error)), [], name);
      const refusedCount = errors.filter(refused).length;
      if (refusals !== undefined) assert.equal(refusedCount, refusals, `${name}: ${errors.join(' ')}`);
      else assert.ok(refusedCount >= 1, `${name}: Firefox refused the changed glue`);
    } finally {
      await context.close();
    }
  }
});
