// The widget's first paint comes from the server (issue 18): the loader puts
// the signed-out view of `/t/{tenant}/start/{locale}.json` into the shadow
// root before the WebAssembly arrives, and the wasm's Leptos view takes it
// over. Against the real `tessera dev` in Chromium, with the wasm held back
// by the test until it lets it through:
// - for every base locale and every theme preset, the server's view and the
//   Leptos view have the same elements, attributes and texts (comment nodes,
//   which Leptos uses as markers, aside) and the same layout, and taking over
//   shifts nothing (no layout-shift entry);
// - a click on the sign-in button before the wasm is ready is shown busy and
//   starts the sign-in once it is; a press in progress holds the takeover
//   until it ends, and keyboard focus stays on the same button;
// - the snippet's CSP holds throughout.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, launchChromium, recorderScript, startTessera } from './support.mjs';

const root = new URL('../', import.meta.url);
const LOCALES = [...readdirSync(new URL('i18n/', root)).filter((file) => file.endsWith('.ftl')).map((file) => file.slice(0, -4)), 'en-XA'];

let tessera;
let shop;
let shopOrigin;
let browser;
let dataDir;
let presets;
let csp;
const admin = () => ({ authorization: `Bearer ${tessera.adminToken}` });

before(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'tessera-first-view-'));
  tessera = await startTessera({ dataDir });
  const snippet = await (await fetch(`${tessera.server}/api/tenants/demo/snippet`, { headers: admin() })).json();
  const directives = { ...snippet.content_security_policy };
  directives['script-src'] = `'self' ${directives['script-src']}`;
  csp = ["default-src 'none'", ...Object.entries(directives).map(([name, value]) => `${name} ${value}`)].join('; ');
  const loader = snippet.html.split('\n').find((line) => line.startsWith('<script'));

  const shopPort = await freePort();
  shopOrigin = `http://127.0.0.1:${shopPort}`;
  shop = createServer((request, response) => {
    const url = new URL(request.url, shopOrigin);
    response.setHeader('content-security-policy', csp);
    if (url.pathname === '/page.js') return response.writeHead(200, { 'content-type': 'text/javascript' }).end(recorderScript);
    // The snippet as the console prints it: the script, the element and the
    // preloads.
    if (url.pathname === '/snippet') {
      return response.writeHead(200, { 'content-type': 'text/html' }).end(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Shop</title>
<script src="/page.js"></script></head><body><main><h1>Shop</h1>${snippet.html}</main></body></html>`);
    }
    // One widget per locale of one tenant, stacked: a change in any one's
    // size would move the ones below it too.
    const tenant = url.searchParams.get('tenant') ?? 'demo';
    const locales = url.searchParams.get('locales')?.split(',') ?? [];
    const widgets = locales.length
      ? locales.map((locale) => `<tessera-login tenant="${tenant}" server="${tessera.server}" locale="${locale}"></tessera-login>`).join('\n')
      : `<tessera-login tenant="${tenant}" server="${tessera.server}"></tessera-login>`;
    response.writeHead(200, { 'content-type': 'text/html' }).end(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Shop</title>
<script src="/page.js"></script></head><body><main><h1>Shop</h1>${loader}\n${widgets}</main></body></html>`);
  });
  await new Promise((done) => shop.listen(shopPort, '127.0.0.1', done));

  // A tenant per theme preset, with every base locale, a provider button
  // whose label has a `$` (the widget's String.replace treats `$` specially)
  // and the demo's issuer, so that discovery succeeds and the view stays
  // signed out.
  presets = await (await fetch(`${tessera.server}/api/themes`, { headers: admin() })).json();
  const demo = await (await fetch(`${tessera.server}/api/tenants/demo`, { headers: admin() })).json();
  for (const [name, theme] of Object.entries(presets)) {
    const created = await fetch(`${tessera.server}/api/tenants`, {
      method: 'POST',
      headers: { ...admin(), 'content-type': 'application/json' },
      body: JSON.stringify({
        slug: `fv-${name}`,
        config: {
          ...demo.config,
          client_id: `fv-${name}`, audience: `fv-${name}-api`,
          allowed_origins: [shopOrigin], redirect_uris: [`${shopOrigin}/`],
          default_locale: 'en', enabled_locales: LOCALES,
          providers: [
            { label: 'Acme $& Co', icon: 'building', hint_parameter: 'kc_idp_hint', hint_value: 'acme' },
            { label: 'Passkey', icon: 'passkey', hint_parameter: 'kc_idp_hint', hint_value: 'passkey' },
          ],
        },
      }),
    });
    assert.equal(created.status, 201, await created.text());
    const current = await fetch(`${tessera.server}/api/tenants/fv-${name}/theme`, { headers: admin() });
    const updated = await fetch(`${tessera.server}/api/tenants/fv-${name}/theme`, {
      method: 'PUT',
      headers: { ...admin(), 'content-type': 'application/json', 'if-match': current.headers.get('etag') },
      body: JSON.stringify(theme),
    });
    assert.equal(updated.status, 200, await updated.text());
  }
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  shop?.close();
  await tessera?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

/** A tab whose wasm requests wait until `release()`. */
async function heldBack() {
  const context = await browser.newContext({ locale: 'en-US' });
  const held = [];
  let released = false;
  await context.route(/\.wasm$/, (route) => (released ? route.continue() : held.push(route)));
  const tab = await context.newPage();
  const errors = [];
  tab.on('pageerror', (error) => errors.push(String(error)));
  await tab.addInitScript(() => {
    window.ready = 0;
    // How many wasm modules were instantiated (the widget's own module
    // comes first; the session module only with a sign-in).
    window.instantiated = 0;
    for (const name of ['instantiate', 'instantiateStreaming']) {
      const original = WebAssembly[name];
      WebAssembly[name] = (...args) => original.apply(WebAssembly, args).then((result) => {
        window.instantiated += 1;
        return result;
      });
    }
    window.shifts = [];
    document.addEventListener('tessera:ready', () => { window.ready += 1; });
    new PerformanceObserver((list) => window.shifts.push(...list.getEntries().map((entry) => entry.value)))
      .observe({ type: 'layout-shift', buffered: true });
  });
  return {
    tab,
    errors,
    held: () => held.length,
    release: async () => {
      released = true;
      for (const route of held.splice(0)) await route.continue();
    },
    close: () => context.close(),
  };
}

/** Every widget's container: its elements (comments left out), attributes,
 * texts, and each element's box. */
function snapshot(tab) {
  return tab.evaluate(() => {
    const describe = (node) => {
      if (node.nodeType === Node.TEXT_NODE) return { text: node.data };
      const box = node.getBoundingClientRect();
      return {
        tag: node.localName,
        attributes: Object.fromEntries([...node.attributes].map((a) => [a.name, a.value]).sort()),
        box: [box.x, box.y, box.width, box.height].map((n) => Math.round(n * 10) / 10),
        children: [...node.childNodes].filter((child) => child.nodeType !== Node.COMMENT_NODE).map(describe),
      };
    };
    return [...document.querySelectorAll('tessera-login')].map((host) => {
      const container = host.shadowRoot?.querySelector('[part=container]');
      return container ? [...container.childNodes].filter((c) => c.nodeType !== Node.COMMENT_NODE).map(describe) : null;
    });
  });
}

for (const preset of ['light', 'dark', 'auto', 'high-contrast', 'forest', 'mono']) {
  test(`theme ${preset}: the server's first view is the Leptos view, in every locale, and the takeover shifts nothing`, async (t) => {
    assert.ok(presets[preset], `the preset ${preset} exists`);
    const page = await heldBack();
    try {
      await page.tab.goto(`${shopOrigin}/?tenant=fv-${preset}&locales=${LOCALES.join(',')}`);
      await page.tab.waitForFunction((count) => [...document.querySelectorAll('tessera-login')]
        .filter((host) => host.shadowRoot?.querySelector('section[part=root] button')).length === count, LOCALES.length, { timeout: 20_000 });
      // Both stylesheets in, and a frame painted with them.
      await page.tab.waitForFunction(() => [...document.querySelectorAll('tessera-login')].every((host) =>
        [...host.shadowRoot.querySelectorAll('link')].every((link) => link.sheet)));
      await page.tab.evaluate(() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done))));
      assert.equal(await page.tab.evaluate(() => window.ready), 0, 'no wasm yet: this is the server view');
      assert.ok(page.held() >= 1, 'the wasm was asked for, and held back');
      const server = await snapshot(page.tab);
      const shiftsBefore = await page.tab.evaluate(() => window.shifts.length);

      await page.release();
      await page.tab.waitForFunction((count) => window.ready === count, LOCALES.length, { timeout: 30_000 });
      await page.tab.evaluate(() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done))));
      const leptos = await snapshot(page.tab);

      for (const [index, locale] of LOCALES.entries()) {
        assert.deepEqual(server[index], leptos[index], `${preset} ${locale}: server view and Leptos view differ`);
      }
      const shifts = (await page.tab.evaluate(() => window.shifts)).slice(shiftsBefore);
      assert.deepEqual(shifts, [], 'layout shifts when the wasm took over');
      assert.deepEqual(await page.tab.evaluate(() => window.violations), [], 'CSP violations');
      assert.deepEqual(page.errors, []);
      t.diagnostic(`${LOCALES.length} locales: same DOM and boxes, no layout shift`);
    } finally {
      await page.close();
    }
  });
}

/** The demo shop in a held-back tab, once the first view's sign-in button
 * shows. */
async function firstViewButton(page) {
  await page.tab.goto(`${shopOrigin}/?tenant=demo`);
  const button = page.tab.locator('tessera-login >> button.primary');
  await button.waitFor({ state: 'visible', timeout: 20_000 });
  return button;
}

/** Does `act`, then waits for the tab to leave the shop for the IdP's
 * authorization endpoint. */
async function leavesForSignIn(page, act) {
  const leaving = page.tab.waitForURL((url) => !url.href.startsWith(shopOrigin), { timeout: 30_000 });
  await act();
  await leaving;
  assert.match(page.tab.url(), /authorize/, 'the IdP was asked to sign in');
}

test('a click before the wasm is ready is shown busy and starts the sign-in when it is', async () => {
  const page = await heldBack();
  try {
    const button = await firstViewButton(page);
    assert.equal(await page.tab.evaluate(() => window.ready), 0);
    await button.click();
    assert.equal(await button.getAttribute('aria-busy'), 'true');
    assert.match(await button.textContent(), /Signing you in/);
    await leavesForSignIn(page, () => page.release());
  } finally {
    await page.close();
  }
});

test('keyboard focus on the first view stays on its button when the wasm takes over', async () => {
  const page = await heldBack();
  try {
    const button = await firstViewButton(page);
    await button.focus();
    await page.release();
    await page.tab.waitForFunction(() => window.ready === 1, null, { timeout: 20_000 });
    const focus = await page.tab.evaluate(() => {
      const shadow = document.querySelector('tessera-login').shadowRoot;
      return { className: shadow.activeElement?.className, connected: shadow.activeElement?.isConnected };
    });
    assert.deepEqual(focus, { className: 'primary', connected: true });
    assert.deepEqual(page.errors, []);
  } finally {
    await page.close();
  }
});

test('a press on the first view holds the takeover until it ends, and its click starts the sign-in', async () => {
  const page = await heldBack();
  try {
    const button = await firstViewButton(page);
    const box = await button.boundingBox();
    await page.tab.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await page.tab.mouse.down();
    await page.release();
    // The wasm is instantiated, and has had time to mount (its texts and
    // configuration are in already).
    await page.tab.waitForFunction(() => window.instantiated >= 1, null, { timeout: 20_000 });
    await page.tab.waitForTimeout(500);
    assert.equal(await page.tab.evaluate(() => window.ready), 0, 'the wasm waits while the button is held down');
    await leavesForSignIn(page, () => page.tab.mouse.up());
  } finally {
    await page.close();
  }
});

test('a page returning from a sign-in gets no first view: it waits for the wasm', async () => {
  const page = await heldBack();
  try {
    await page.tab.goto(`${shopOrigin}/?tenant=demo&code=abc&state=xyz`);
    await page.tab.waitForFunction(() => document.querySelector('tessera-login')?.shadowRoot?.querySelector('[part=container]'));
    await page.tab.waitForTimeout(500);
    assert.equal(await page.tab.evaluate(() => document.querySelector('tessera-login').shadowRoot.querySelector('[part=container]').childNodes.length), 0);
    await page.release();
    await page.tab.locator('tessera-login >> button.primary').waitFor({ state: 'visible', timeout: 20_000 });
  } finally {
    await page.close();
  }
});

// The start document is the one request the first view needs. However it
// fails (refused, unreachable, or not JSON), the widget says so itself, as
// an alert with a `tessera:error`, rather than staying an empty box.
test('a start document that fails ends in the widget\'s own error, not an empty box', async () => {
  const cors = { 'access-control-allow-origin': shopOrigin };
  const failures = {
    refused: (route) => route.fulfill({ status: 404, headers: cors, body: '' }),
    unreachable: (route) => route.abort('connectionrefused'),
    'not JSON': (route) => route.fulfill({ status: 200, headers: { ...cors, 'content-type': 'application/json' }, body: '{"texts":' }),
  };
  for (const [name, answer] of Object.entries(failures)) {
    const context = await browser.newContext({ locale: 'en-US' });
    try {
      await context.route(/\/start\/[^/]+\.json$/, answer);
      const tab = await context.newPage();
      const errors = [];
      tab.on('pageerror', (error) => errors.push(String(error)));
      await tab.goto(`${shopOrigin}/?tenant=demo`);
      const alert = tab.locator('tessera-login >> [part=container][role=alert]');
      await alert.waitFor({ timeout: 20_000 });
      assert.equal(await alert.textContent(), 'Sign-in is unavailable right now.', name);
      assert.equal(await tab.locator('tessera-login >> button').count(), 0, name);
      const seen = await tab.evaluate(() => ({ events: window.events, violations: window.violations }));
      assert.deepEqual(seen.events.map((event) => [event.name, event.detail.code]), [['tessera:error', 'idp_unavailable']], name);
      assert.deepEqual(seen.violations, [], name);
      assert.deepEqual(errors, [], name);
    } finally {
      await context.close();
    }
  }
});

// The snippet preloads the start document and both stylesheets; the loader's
// own requests for them must take those responses rather than ask again.
test('with the whole snippet, the start document and the stylesheets are each requested once', async () => {
  const context = await browser.newContext({ locale: 'en-US' });
  try {
    const asked = [];
    context.on('request', (request) => asked.push(new URL(request.url()).pathname));
    const tab = await context.newPage();
    await tab.goto(`${shopOrigin}/snippet`);
    await tab.locator('tessera-login >> section[part=root] button').first().waitFor({ timeout: 20_000 });
    await tab.waitForFunction(() => window.events !== undefined && document.querySelector('tessera-login').shadowRoot.querySelectorAll('link').length === 2);
    const count = (pattern) => asked.filter((path) => pattern.test(path)).length;
    assert.equal(count(/^\/t\/demo\/start\/auto\.json$/), 1, asked.join(' '));
    assert.equal(count(/^\/t\/demo\/theme\.css$/), 1, asked.join(' '));
    assert.equal(count(/^\/widget\/v1\/tessera-[0-9a-f]+\.css$/), 1, asked.join(' '));
    assert.deepEqual(await tab.evaluate(() => window.violations), []);
  } finally {
    await context.close();
  }
});
