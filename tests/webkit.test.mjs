// The <tessera-login> widget end to end in WebKit, Safari's engine: Debian's
// WebKitGTK (its MiniBrowser, under Xvfb), driven over W3C WebDriver by
// WebKitWebDriver and npm selenium-webdriver. Like firefox.test.mjs, it
// checks what depends on the browser engine: the sign-in round trip (code +
// PKCE) under the printed CSP, and the integrity pin of the session
// module's glue (which failed here while the loader pinned it with a
// `modulepreload` link, whose integrity WebKit ignores: a changed glue
// ran). WebDriver cannot rewrite responses, so the page loads the widget
// through a small proxy in front of `tessera dev` that answers the glue
// itself, case by case.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, request as forward } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Builder, By, until } from 'selenium-webdriver';
import { assertGluePinOutcome, freePort, personalDataIn, recorderScript, sessionGluePinCases, startShop, startTessera } from './support.mjs';

const root = new URL('../', import.meta.url);
const widgetDir = new URL('dist/widget', root).pathname;
const miniBrowser = process.env.TESSERA_WEBKIT ?? '/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser';

let tessera;
let dataDir;
let shop;
let proxy;
let webDriver;
let webDriverUrl;
let shopOrigin;
// What the proxy answers for the session glue (undefined: tessera's file),
// and the glue URLs it was asked for.
let glueAnswer;
let glueAsked = [];
// How long the proxy holds the first module's wasm.
let wasmDelayMs = 0;
// How many times the start document was asked for.
let startAsked = 0;
const pin = sessionGluePinCases(widgetDir);

// The shop's page script: Tessera's events and CSP violations, and the
// page's uncaught errors (WebDriver reports none of its own).
const pageScript = `${recorderScript}
window.pageErrors = [];
window.addEventListener('error', (e) => window.pageErrors.push(String(e.message)));
window.addEventListener('unhandledrejection', (e) => window.pageErrors.push(String(e.reason)));`;

before(async () => {
  for (const program of ['/usr/bin/WebKitWebDriver', '/usr/bin/xvfb-run', miniBrowser]) {
    assert.ok(existsSync(program), `${program} is missing: \`cargo xtask setup\` installs Debian's webkit2gtk-driver and xvfb`);
  }
  dataDir = mkdtempSync(join(tmpdir(), 'tessera-webkit-'));
  tessera = await startTessera({ dataDir });
  const tesseraUrl = new URL(tessera.server);

  const proxyPort = await freePort();
  const proxyOrigin = `http://127.0.0.1:${proxyPort}`;
  proxy = createServer((incoming, outgoing) => {
    const { pathname } = new URL(incoming.url, proxyOrigin);
    if (pathname === pin.path) glueAsked.push(incoming.url);
    if (/^\/t\/demo\/start\//.test(pathname)) startAsked += 1;
    if (pathname === pin.path && glueAnswer !== undefined) {
      // Never from a cache: every use must come from the module map.
      outgoing.writeHead(200, {
        'content-type': 'text/javascript', 'access-control-allow-origin': '*', 'cache-control': 'no-store',
      });
      return outgoing.end(glueAnswer(glueAsked.length));
    }
    if (wasmDelayMs > 0 && /\/widget\/v1\/tessera-[0-9a-f]+\.wasm$/.test(pathname)) {
      const delay = wasmDelayMs;
      return setTimeout(() => pass(incoming, outgoing), delay);
    }
    return pass(incoming, outgoing);
  });
  const pass = (incoming, outgoing) => {
    const upstream = forward({
      host: tesseraUrl.hostname, port: tesseraUrl.port, method: incoming.method, path: incoming.url,
      headers: { ...incoming.headers, host: tesseraUrl.host },
    }, (answer) => {
      outgoing.writeHead(answer.statusCode, answer.headers);
      answer.pipe(outgoing);
    });
    upstream.on('error', () => outgoing.writeHead(502).end());
    incoming.pipe(upstream);
  };
  await new Promise((resolve) => proxy.listen(proxyPort, '127.0.0.1', resolve));

  shop = await startShop(tessera, { pageScript, widgetOrigin: proxyOrigin });
  shopOrigin = shop.origin;

  const driverPort = await freePort();
  webDriverUrl = `http://127.0.0.1:${driverPort}`;
  // `-a` picks a free display number; the driver starts one MiniBrowser per
  // session on it.
  webDriver = spawn('xvfb-run', ['-a', '/usr/bin/WebKitWebDriver', `--port=${driverPort}`, '--host=127.0.0.1'], {
    stdio: 'ignore',
    detached: true,
  });
  for (let waited = 0; ; waited += 100) {
    const ready = await fetch(`${webDriverUrl}/status`).then((r) => r.ok, () => false);
    if (ready) break;
    assert.ok(waited < 15_000, 'WebKitWebDriver did not start');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
});

after(async () => {
  // The driver's whole process group: xvfb-run, Xvfb and the driver.
  if (webDriver) process.kill(-webDriver.pid, 'SIGTERM');
  await shop?.close();
  proxy?.closeAllConnections();
  proxy?.close();
  await tessera?.stop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

/** A new browser (a new MiniBrowser, so nothing is cached) on the shop. */
async function open() {
  const driver = await new Builder()
    .usingServer(webDriverUrl)
    .withCapabilities({
      browserName: 'MiniBrowser',
      'webkitgtk:browserOptions': { binary: miniBrowser, args: ['--automation'] },
    })
    .build();
  await driver.get(`${shopOrigin}/shop/`);
  return driver;
}

/** The element inside the widget's shadow root, once it is there. */
async function inWidget(driver, selector) {
  return driver.wait(async () => {
    try {
      const host = await driver.findElement(By.css('tessera-login'));
      const found = await (await host.getShadowRoot()).findElements(By.css(selector));
      return found.length > 0 && (await found[0].isDisplayed()) ? found[0] : null;
    } catch {
      return null;
    }
  }, 15_000, `${selector} in the widget`);
}

/** Clicks, retrying while the wasm takes the first view over. */
async function clickInWidget(driver, selector) {
  await driver.wait(async () => {
    try {
      await (await inWidget(driver, selector)).click();
      return true;
    } catch {
      return false;
    }
  }, 15_000, `a click on ${selector}`);
}

async function signIn(driver) {
  await clickInWidget(driver, 'button.primary');
  try {
    await driver.wait(until.urlMatches(/\/dev\/oidc\/authorize/), 30_000);
  } catch (error) {
    // Say what the page showed, for a failure that does not reproduce.
    const state = await driver.executeScript(() => ({
      url: location.href,
      events: window.events.map((event) => event.name),
      errors: window.pageErrors,
      view: document.querySelector('tessera-login')?.shadowRoot?.innerHTML.slice(0, 800),
    }));
    throw new Error(`the sign-in did not leave the shop: ${JSON.stringify(state)}`, { cause: error });
  }
  await (await driver.wait(until.elementLocated(By.css('button.allow')), 15_000)).click();
  await driver.wait(until.urlContains(`${shopOrigin}/shop/`), 15_000);
  await driver.wait(() => driver.executeScript(
    () => window.events.some((e) => e.name === 'tessera:login' || e.name === 'tessera:error'),
  ), 15_000, 'a login or an error');
  return (await driver.executeScript(() => window.events)).map((event) => event.name);
}

test('WebKit: the widget signs in against the development issuer and out again, under the printed CSP', async () => {
  glueAnswer = undefined;
  glueAsked = [];
  const driver = await open();
  try {
    const names = await signIn(driver);
    assert.ok(names.includes('tessera:login'), names.join(' '));
    const login = (await driver.executeScript(() => window.events)).find((event) => event.name === 'tessera:login');
    assert.ok(login.detail.sub.length >= 20, JSON.stringify(login.detail));
    const serialized = JSON.stringify(login.detail);
    assert.equal(personalDataIn(login.detail), undefined, `personal data reached the page: ${serialized}`);
    assert.ok(!(await driver.getCurrentUrl()).includes('code='), 'the callback was cleaned from the URL');
    const status = await inWidget(driver, '.status');
    assert.equal((await status.getText()).trim(), 'You are signed in');
    assert.equal(glueAsked.length, 1, 'the glue was fetched once');
    assert.deepEqual(await driver.executeScript(() => window.violations), []);
    assert.deepEqual(await driver.executeScript(() => window.pageErrors), []);
    await clickInWidget(driver, 'button.secondary');
    await driver.wait(until.urlContains(`${shopOrigin}/shop/`), 15_000);
    await inWidget(driver, 'button.primary');
  } finally {
    await driver.quit();
  }
});

test('WebKit: the session module\'s glue runs only as pinned by its integrity value', async () => {
  for (const pinCase of pin.cases) {
    glueAnswer = pinCase.answer;
    glueAsked = [];
    const driver = await open();
    try {
      const names = await signIn(driver);
      const changedRan = await driver.executeScript(() => globalThis.tesseraChanged ?? undefined);
      assertGluePinOutcome(pinCase, { names, asked: glueAsked, changedRan: changedRan ?? undefined });
      assert.deepEqual(await driver.executeScript(() => window.pageErrors), [], pinCase.name);
    } finally {
      await driver.quit();
    }
  }
});

test('WebKit: a click before the wasm is ready is shown busy and starts the sign-in when it is', async () => {
  glueAnswer = undefined;
  glueAsked = [];
  wasmDelayMs = 2000;
  const driver = await open();
  try {
    await clickInWidget(driver, 'button.primary');
    const button = await inWidget(driver, 'button.primary');
    assert.equal(await button.getAttribute('aria-busy'), 'true', 'the first view shows the kept click');
    await driver.wait(until.urlMatches(/\/dev\/oidc\/authorize/), 30_000);
  } finally {
    wasmDelayMs = 0;
    await driver.quit();
  }
});

// The snippet preloads the start document; the loader's XMLHttpRequest for
// it takes that response rather than asking again.
test('WebKit: the loader takes the snippet\'s preload of the start document', async () => {
  glueAnswer = undefined;
  startAsked = 0;
  const driver = await open();
  try {
    await inWidget(driver, 'button.primary');
    await driver.sleep(500);
    assert.equal(startAsked, 1);
  } finally {
    await driver.quit();
  }
});
