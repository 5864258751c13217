// The <tessera-login> widget end to end in Chromium: the real `tessera dev`
// serves the built widget (dist/widget); a shop page on another origin pastes
// the snippet exactly as the admin API prints it, under exactly the CSP it
// prints, next to a hostile stylesheet. Checks: the widget renders in its
// shadow root in the negotiated language, host CSS cannot reach it, clicks
// and keys work through Leptos's event delegation inside the shadow root,
// `ar` renders right to left, and the page reports no CSP violation.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  accessibilityViolations, assertGluePinOutcome, freePort, launchChromium, personalDataIn, recorderScript, sessionGluePinCases, startTessera,
} from './support.mjs';


const root = new URL('../', import.meta.url);
const widgetDir = new URL('dist/widget', root).pathname;

let tessera;
let shop;
let browser;
let dataDir;
let server;
let shopOrigin;
let snippet;
let adminToken;

const hostile = `button { display: none !important; color: red !important; }
h2 { visibility: hidden !important; }
* { font-family: "Comic Sans MS" !important; letter-spacing: 9px !important; }
tessera-login { color: red !important; visibility: hidden !important; text-transform: uppercase !important; }`;

const pageScript = recorderScript;

before(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'tessera-widget-'));
  tessera = await startTessera({ dataDir });
  server = tessera.server;
  const token = tessera.adminToken;
  adminToken = token;
  const response = await fetch(`${server}/api/tenants/demo/snippet`, { headers: { authorization: `Bearer ${token}` } });
  assert.equal(response.status, 200, 'the widget is built, so the snippet has an integrity value');
  snippet = await response.json();

  const shopPort = await freePort();
  shopOrigin = `http://127.0.0.1:${shopPort}`;
  // The shop adds its own sources ('self') beside the ones Tessera printed.
  const directives = { ...snippet.content_security_policy };
  directives['script-src'] = `'self' ${directives['script-src']}`;
  directives['style-src'] = `'self' ${directives['style-src']}`;
  directives['connect-src'] = `'self' ${directives['connect-src']}`;
  const csp = ["default-src 'none'", ...Object.entries(directives).map(([name, value]) => `${name} ${value}`)].join('; ');
  const page = (extra) => `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Shop</title>
<link rel="stylesheet" href="/hostile.css"><script src="/page.js"></script></head>
<body><main><h1>Shop</h1>${snippet.html}${extra}</main></body></html>`;
  shop = createServer((request, response) => {
    response.setHeader('content-security-policy', csp);
    const send = (type, body) => {
      response.setHeader('content-type', type);
      response.end(body);
    };
    const url = new URL(request.url, shopOrigin);
    if (url.pathname === '/') return send('text/html', page(''));
    if (url.pathname === '/arabic') {
      return send('text/html', page(snippet.html.split('\n')[1].replace('<tessera-login ', '<tessera-login locale="ar" id="ar" ')));
    }
    if (url.pathname === '/hostile.css') return send('text/css', hostile);
    if (url.pathname === '/down') return send('text/html', page('').replace('tenant="demo"', 'tenant="idp-down"'));
    // The single-file variant, hosted by the shop itself.
    if (url.pathname === '/tessera.single.js') return send('text/javascript', readFileSync(join(widgetDir, 'tessera.single.js')));
    if (url.pathname === '/single') {
      const manifest = JSON.parse(readFileSync(join(widgetDir, 'manifest.json'), 'utf8'));
      return send('text/html', `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Shop</title>
<link rel="stylesheet" href="/hostile.css"><script src="/page.js"></script></head><body><main><h1>Shop</h1>
<script type="module" src="/tessera.single.js" integrity="${manifest.files['tessera.single.js'].integrity}" crossorigin="anonymous"></script>
<tessera-login tenant="demo" server="${server}"></tessera-login></main></body></html>`);
    }
    if (url.pathname === '/page.js') return send('text/javascript', pageScript);
    if (url.pathname === '/shop/') return send('text/html', page(''));
    // A shop that requires Trusted Types for every script URL and markup.
    if (url.pathname === '/trusted/') {
      response.setHeader('content-security-policy', `${csp}; require-trusted-types-for 'script'`);
      return send('text/html', page(''));
    }
    // An API that refuses one given passport and accepts any other.
    if (url.pathname === '/refuse') {
      response.setHeader('access-control-allow-origin', '*');
      const refused = request.headers.authorization === `Bearer ${url.searchParams.get('token')}`;
      return refused ? response.writeHead(401).end() : send('application/json', '{}');
    }
    // An API that is down for a moment: not a refusal of the passport.
    if (url.pathname === '/unavailable') {
      response.setHeader('access-control-allow-origin', '*');
      return response.writeHead(503).end();
    }
    if (url.pathname === '/echo') {
      response.setHeader('access-control-allow-origin', '*');
      return send('application/json', JSON.stringify({ authorization: request.headers.authorization ?? null }));
    }
    response.writeHead(404).end();
  });
  await new Promise((resolve) => shop.listen(shopPort, '127.0.0.1', resolve));
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  shop?.close();
  await tessera?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

async function open(path, locale = 'en-US') {
  const context = await browser.newContext({ locale });
  const tab = await context.newPage();
  const errors = [];
  const requested = [];
  tab.on('pageerror', (error) => errors.push(String(error)));
  tab.on('request', (request) => requested.push(new URL(request.url()).pathname));
  await tab.goto(shopOrigin + path);
  return { tab, errors, requested };
}

// The session module's files: its glue (`.js`) and its wasm.
const sessionModule = (path) => /\/tessera-session-[0-9a-f]+\.(js|wasm)$/.test(path);

test('the loader pins the wasm with the integrity the manifest publishes', () => {
  const manifest = JSON.parse(readFileSync(join(widgetDir, 'manifest.json'), 'utf8'));
  const loader = readFileSync(join(widgetDir, 'tessera.js'), 'utf8');
  const modules = Object.keys(manifest.files).filter((name) => name.endsWith('.wasm') || /^tessera-session-.*\.js$/.test(name));
  assert.equal(modules.length, 3, 'the first module, the session module and its glue');
  for (const file of modules) {
    assert.ok(loader.includes(manifest.files[file].integrity), `the integrity of ${file} is in the loader`);
  }
  assert.ok(snippet.html.includes(manifest.files['tessera.js'].integrity), 'the snippet pins the loader');
});

test('renders in its shadow root, immune to the host page CSS, clickable', async () => {
  const { tab, errors, requested } = await open('/');
  const button = tab.locator('tessera-login >> button.primary');
  await button.waitFor({ state: 'visible', timeout: 15_000 });
  assert.equal((await button.textContent()).trim(), 'Sign in');
  const style = await button.evaluate((el) => {
    const computed = getComputedStyle(el);
    return { display: computed.display, color: computed.color, font: computed.fontFamily,
      spacing: computed.letterSpacing, transform: computed.textTransform };
  });
  assert.notEqual(style.display, 'none');
  assert.equal(style.spacing, 'normal');
  assert.equal(style.transform, 'none');
  assert.notEqual(style.color, 'rgb(255, 0, 0)');
  assert.ok(!style.font.includes('Comic'), style.font);
  assert.ok(await tab.locator('tessera-login >> h2').isVisible());
  assert.deepEqual(await tab.evaluate(() => window.violations), []);
  assert.deepEqual(errors, []);
  assert.ok(requested.some((path) => /\/tessera-[0-9a-f]+\.wasm$/.test(path)), requested.join(' '));
  assert.ok(!requested.some(sessionModule), 'a signed-out page does not fetch the session module');
  // The click reaches the widget through Leptos's delegated events: it starts
  // the sign-in, which leaves for the IdP with PKCE S256.
  await button.click();
  await tab.waitForURL(/\/dev\/oidc\/authorize\?/, { timeout: 15_000 });
  const url = new URL(tab.url());
  assert.equal(url.searchParams.get('code_challenge_method'), 'S256');
  assert.equal(url.searchParams.get('code_challenge').length, 43);
  assert.equal(url.searchParams.get('scope'), 'openid');
});

test('the single-file variant runs from the shop\'s own origin, pinned by one integrity value', async () => {
  await registerShop();
  const context = await browser.newContext({ locale: 'en-US' });
  const tab = await context.newPage();
  const errors = [];
  const fromServer = [];
  tab.on('pageerror', (error) => errors.push(String(error)));
  tab.on('request', (request) => {
    if (request.url().startsWith(server)) fromServer.push(new URL(request.url()).pathname);
  });
  await tab.goto(`${shopOrigin}/single`);
  const button = tab.locator('tessera-login >> button.primary');
  await button.waitFor({ state: 'visible', timeout: 15_000 });
  // The inlined stylesheet applies (a constructed sheet, no <style> element).
  const padding = await tab.locator('tessera-login >> section').evaluate((el) => getComputedStyle(el).paddingTop);
  assert.notEqual(padding, '0px');
  assert.deepEqual(await tab.evaluate(() => window.violations), []);
  assert.deepEqual(errors, []);
  assert.deepEqual(fromServer.filter((path) => path.startsWith('/widget/')), [], 'no widget file from the server');
  assert.ok(fromServer.includes('/t/demo/theme.css'), `the tenant's theme still comes from the server: ${fromServer}`);
  await button.click();
  await tab.waitForURL(/\/dev\/oidc\/authorize\?/, { timeout: 15_000 });
  // The sign-in completes with the inlined session module: still no widget
  // file from the server.
  await tab.locator('button.allow').click();
  await tab.waitForURL(`${shopOrigin}/single**`, { timeout: 15_000 });
  await tab.waitForFunction(() => window.events.some((e) => e.name === 'tessera:login'), null, { timeout: 15_000 });
  assert.deepEqual(fromServer.filter((path) => path.startsWith('/widget/')), [], 'no widget file from the server');
  assert.deepEqual(await tab.evaluate(() => window.violations), []);
  assert.deepEqual(errors, []);
  await context.close();
});

test('keyboard only, right to left for ar', async () => {
  const { tab, errors } = await open('/arabic');
  const arabic = tab.locator('#ar >> section');
  const button = tab.locator('#ar >> button.primary');
  await arabic.waitFor({ state: 'visible', timeout: 15_000 });
  assert.equal(await arabic.getAttribute('dir'), 'rtl');
  assert.equal(await arabic.getAttribute('lang'), 'ar');
  assert.equal((await button.textContent()).trim(), 'تسجيل الدخول');
  assert.deepEqual(await tab.evaluate(() => window.violations), []);
  assert.deepEqual(errors, []);
  await button.focus();
  await tab.keyboard.press('Enter');
  await tab.waitForURL(/\/dev\/oidc\/authorize\?/, { timeout: 15_000 });
  assert.equal(new URL(tab.url()).searchParams.get('ui_locales'), 'ar', 'the IdP is asked for the same language');
});

test('the browser language picks the texts when no locale is set', async () => {
  const { tab } = await open('/', 'de-DE');
  const button = tab.locator('tessera-login >> button.primary');
  await button.waitFor({ state: 'visible', timeout: 15_000 });
  assert.equal((await button.textContent()).trim(), 'Anmelden');
});

/** Registers the shop page as a redirect URI and origin of the demo tenant. */
async function registerShop(tokenStorage = 'memory', scopes = ['openid']) {
  const headers = { authorization: `Bearer ${adminToken}` };
  const current = await fetch(`${server}/api/tenants/demo`, { headers });
  const { config } = await current.json();
  config.redirect_uris = [...new Set([...config.redirect_uris, `${shopOrigin}/shop/`, `${shopOrigin}/single`, `${shopOrigin}/trusted/`])];
  // Only the shop: the Tessera server's origin is then reachable under the
  // page's CSP but not allowlisted, which is what Tessera.fetch must refuse.
  config.allowed_origins = [shopOrigin];
  config.token_storage = tokenStorage;
  config.scopes = scopes;
  const updated = await fetch(`${server}/api/tenants/demo`, {
    method: 'PUT',
    headers: { ...headers, 'content-type': 'application/json', 'if-match': current.headers.get('etag') },
    body: JSON.stringify(config),
  });
  assert.equal(updated.status, 200, await updated.text());
}

test('signs in against the development issuer and hands the page a passport without personal data', async () => {
  await registerShop();
  const { tab, errors, requested } = await open('/shop/');
  const signIn = tab.locator('tessera-login >> button.primary');
  await signIn.waitFor({ state: 'visible', timeout: 15_000 });
  await signIn.click();
  // The development issuer's page: the default demo user, Allow.
  await tab.waitForURL(/\/dev\/oidc\/authorize/, { timeout: 15_000 });
  assert.match(await tab.content(), /Ada Lovelace/);
  assert.ok(!requested.some(sessionModule), 'the session module waits for the return');
  await tab.locator('button.allow').click();
  await tab.waitForURL(`${shopOrigin}/shop/**`, { timeout: 15_000 });
  await tab.waitForFunction(() => window.events.some((e) => e.name === 'tessera:login'), null, { timeout: 15_000 });
  assert.equal(requested.filter(sessionModule).length, 2, 'the return fetches the session module (glue and wasm) once');
  const login = (await tab.evaluate(() => window.events)).find((e) => e.name === 'tessera:login');
  assert.ok(login.detail.sub.length >= 20, JSON.stringify(login.detail));
  assert.ok(login.detail.expiresAt > Date.now() / 1000);
  const serialized = JSON.stringify(login.detail);
  assert.equal(personalDataIn(login.detail), undefined, `personal data reached the page: ${serialized}`);
  assert.equal(await tab.evaluate(() => document.querySelector('tessera-login').passport.sub), login.detail.sub);
  assert.ok(!tab.url().includes('code='), `the callback was not cleaned from ${tab.url()}`);
  const status = tab.locator('tessera-login >> .status');
  assert.equal((await status.textContent()).trim(), 'You are signed in');
  // Tessera.fetch: the token goes to the page's own origin only.
  const own = await tab.evaluate(async () => (await (await window.Tessera.fetch('/echo')).json()).authorization);
  assert.match(own ?? '', /^Bearer eyJ/, 'the access token is attached on the same origin');
  let sentElsewhere = 'not sent';
  await tab.route(`${server}/healthz`, async (route) => {
    sentElsewhere = route.request().headers().authorization ?? null;
    await route.fulfill({ status: 200, body: 'ok', headers: { 'access-control-allow-origin': '*' } });
  });
  await tab.evaluate(async (url) => (await window.Tessera.fetch(url)).text(), `${server}/healthz`);
  assert.equal(sentElsewhere, null, 'no token to an origin the tenant does not allowlist');
  // CSP first: axe-core inserts a <style> of its own while it checks.
  assert.deepEqual(await tab.evaluate(() => window.violations), []);
  assert.deepEqual(await accessibilityViolations(tab), [], 'signed in');
  assert.deepEqual(errors, []);
  // Sign out ends the session at the issuer and comes back.
  await tab.locator('tessera-login >> button.secondary').click();
  await tab.waitForURL(`${shopOrigin}/shop/**`, { timeout: 15_000 });
  await tab.locator('tessera-login >> button.primary').waitFor({ state: 'visible', timeout: 15_000 });
});

/** Signs in from the shop page at `path` through the development issuer's
 * page, and waits until the widget reports a login or an error; returns the
 * names of the events the page saw. */
async function signInFrom(tab, path) {
  const signIn = tab.locator('tessera-login >> button.primary');
  await signIn.waitFor({ state: 'visible', timeout: 15_000 });
  await signIn.click();
  await tab.waitForURL(/\/dev\/oidc\/authorize/, { timeout: 15_000 });
  await tab.locator('button.allow').click();
  await tab.waitForURL(`${shopOrigin}${path}**`, { timeout: 15_000 });
  await tab.waitForFunction(() => window.events.some((e) => e.name === 'tessera:login' || e.name === 'tessera:error'),
    null, { timeout: 15_000 });
  return (await tab.evaluate(() => window.events)).map((e) => e.name);
}

test('the session module\'s glue runs only as pinned: a changed file is refused, a checked one never fetched again', async () => {
  await registerShop();
  const { path, cases } = sessionGluePinCases(widgetDir);
  for (const pinCase of cases) {
    const { name, answer } = pinCase;
    const { tab, errors } = await open('/shop/');
    const asked = [];
    await tab.route((url) => url.pathname === path, (route) => {
      asked.push(route.request().url());
      return route.fulfill({
        status: 200,
        body: answer(asked.length),
        headers: { 'content-type': 'text/javascript', 'access-control-allow-origin': '*' },
      });
    });
    const names = await signInFrom(tab, '/shop/');
    const changedRan = await tab.evaluate(() => globalThis.tesseraChanged);
    assertGluePinOutcome(pinCase, { names, asked, changedRan });
    assert.deepEqual(errors, [], name);
    await tab.context().close();
  }
});

test('a shop page that requires Trusted Types signs in: the loader names the glue through its own policy', async () => {
  await registerShop();
  const { tab, errors } = await open('/trusted/');
  const names = await signInFrom(tab, '/trusted/');
  assert.ok(names.includes('tessera:login'), `${names.join(' ')} ${JSON.stringify(await tab.evaluate(() => window.events))}`);
  assert.deepEqual(await tab.evaluate(() => window.violations), []);
  assert.deepEqual(errors, []);
  await tab.context().close();
});

test('an identity provider that cannot be reached is said at once, before any click', async () => {
  const created = await fetch(`${server}/api/tenants`, {
    method: 'POST',
    headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      slug: 'idp-down',
      config: {
        display_name: 'Shop with a broken IdP', issuer: `${server}/nowhere`, client_id: 'idp-down',
        audience: 'idp-down-api', allowed_origins: [shopOrigin], redirect_uris: [`${shopOrigin}/shop/`],
        default_locale: 'en', enabled_locales: ['en'],
      },
    }),
  });
  assert.equal(created.status, 201, await created.text());
  const { tab, errors } = await open('/down');
  const alert = tab.locator('tessera-login >> [role=alert]');
  await alert.waitFor({ state: 'visible', timeout: 15_000 });
  assert.match(await alert.textContent(), /cannot be reached/);
  const codes = (await tab.evaluate(() => window.events)).map((e) => e.detail?.code).filter(Boolean);
  assert.deepEqual(codes, ['idp_unavailable']);
  assert.deepEqual(errors, []);
});

test('a code or error this tab is not waiting for passes through untouched', async () => {
  // A shop's coupon link and a payment provider's return: not the widget's.
  for (const query of ['?code=SUMMER10', '?code=forged&state=forged', '?error=payment_declined&state=psp-1']) {
    const { tab } = await open(`/shop/${query}`);
    await tab.locator('tessera-login >> button.primary').waitFor({ state: 'visible', timeout: 15_000 });
    assert.equal(new URL(tab.url()).search, query, 'the parameters stay in the URL');
    const events = (await tab.evaluate(() => window.events)).map((e) => e.name);
    assert.ok(!events.includes('tessera:error'), `${query}: ${events}`);
  }
});

test('axe-core finds no WCAG 2.1 AA violation, signed out and in error', async () => {
  for (const [path, locale] of [['/', 'en-US'], ['/arabic', 'ar'], ['/down', 'en-US']]) {
    const { tab } = await open(path, locale);
    const widgets = await tab.locator('tessera-login').count();
    for (let index = 0; index < widgets; index++) {
      await tab.locator('tessera-login').nth(index).locator('[role=alert], section').first().waitFor({ state: 'visible', timeout: 15_000 });
    }
    assert.deepEqual(await accessibilityViolations(tab), [], `${path}`);
  }
});

/** Sets the demo tenant's theme to `change(theme)`; returns the theme before. */
async function changeTheme(change) {
  const headers = { authorization: `Bearer ${adminToken}` };
  const current = await fetch(`${server}/api/tenants/demo/theme`, { headers });
  const before = await current.json();
  const updated = await fetch(`${server}/api/tenants/demo/theme`, {
    method: 'PUT',
    headers: { ...headers, 'content-type': 'application/json', 'if-match': current.headers.get('etag') },
    body: JSON.stringify(change(structuredClone(before))),
  });
  assert.equal(updated.status, 200, await updated.text());
  return before;
}

test('the tenant\'s logo is shown, named by the shop, in light and dark', async () => {
  const markup = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 40 10"><rect width="40" height="10" fill="#1d4ed8"/></svg>';
  const before = await changeTheme((theme) => ({ ...theme, color_scheme: 'auto', logo: { type: 'svg', markup } }));
  try {
    for (const colorScheme of ['light', 'dark']) {
      const context = await browser.newContext({ locale: 'en-US', colorScheme });
      await context.addInitScript(pageScript);
      const tab = await context.newPage();
      const loaded = tab.waitForResponse((response) => new URL(response.url()).pathname === '/t/demo/logo', { timeout: 15_000 });
      await tab.goto(`${shopOrigin}/`);
      assert.equal((await loaded).status(), 200, 'the logo image is fetched');
      const logo = tab.locator('tessera-login >> [part=logo]');
      await logo.waitFor({ state: 'visible', timeout: 15_000 });
      assert.equal(await logo.getAttribute('role'), 'img');
      assert.equal(await logo.getAttribute('aria-label'), 'Tessera demo shop');
      const drawn = await logo.evaluate((element) => {
        const style = getComputedStyle(element);
        return { image: style.backgroundImage, height: element.getBoundingClientRect().height };
      });
      assert.match(drawn.image, /^url\("http:\/\/127\.0\.0\.1:\d+\/t\/demo\/logo\?v=\d+"\)$/, `${colorScheme}: ${drawn.image}`);
      assert.ok(drawn.height > 0, `${colorScheme}: the logo has no height`);
      // The logo loads from Tessera's origin under the snippet's CSP.
      assert.deepEqual(await tab.evaluate(() => window.violations), [], colorScheme);
      assert.deepEqual(await accessibilityViolations(tab), [], colorScheme);
      await context.close();
    }
  } finally {
    await changeTheme(() => before);
  }
  // Without a logo, nothing is drawn or announced.
  const { tab } = await open('/');
  await tab.locator('tessera-login >> button.primary').waitFor({ state: 'visible', timeout: 15_000 });
  assert.equal(await tab.locator('tessera-login >> [part=logo]').count(), 0);
});

/** Signs in on a fresh tab and returns it, signed in. */
async function signedIn() {
  const { tab } = await open('/shop/');
  await tab.locator('tessera-login >> button.primary').click({ timeout: 15_000 });
  await tab.waitForURL(/\/dev\/oidc\/authorize/, { timeout: 15_000 });
  await tab.locator('button.allow').click();
  await tab.locator('tessera-login >> .status').waitFor({ state: 'visible', timeout: 15_000 });
  return tab;
}

test('tokens live in memory unless the tenant opts in to sessionStorage', async () => {
  await registerShop('memory');
  let tab = await signedIn();
  assert.equal(await tab.evaluate(() => Object.keys(sessionStorage).filter((k) => k.startsWith('tessera.session')).length), 0);
  assert.equal(await tab.evaluate(() => localStorage.length), 0, 'never localStorage');
  await tab.reload();
  await tab.locator('tessera-login >> button.primary').waitFor({ state: 'visible', timeout: 15_000 });

  await registerShop('session_storage');
  tab = await signedIn();
  // Every script of the shop can read sessionStorage: no ID token there (it
  // carries a nonce, the access token does not), whatever the IdP put in it.
  const stored = await tab.evaluate(() => Object.values(sessionStorage).join(' '));
  const payloads = [...stored.matchAll(/eyJ[\w-]+\.(eyJ[\w-]+)\.[\w-]+/g)]
    .map(([, payload]) => JSON.parse(Buffer.from(payload, 'base64url').toString()));
  assert.ok(payloads.length >= 1, 'the access token is kept');
  assert.ok(payloads.every((claims) => !('nonce' in claims)), 'an ID token was stored');
  await tab.reload();
  await tab.locator('tessera-login >> .status').waitFor({ state: 'visible', timeout: 15_000 });
  await tab.waitForFunction(() => window.events.some((e) => e.name === 'tessera:login'));
  // A coupon link's ?code= is not a sign-in: the customer stays signed in.
  await tab.goto(`${shopOrigin}/shop/?code=SUMMER10&state=x`);
  await tab.locator('tessera-login >> .status').waitFor({ state: 'visible', timeout: 15_000 });
  await tab.waitForFunction(() => window.events.some((e) => e.name === 'tessera:login'));
  assert.equal(new URL(tab.url()).search, '?code=SUMMER10&state=x');
  assert.equal(await tab.evaluate(() => localStorage.length), 0, 'never localStorage');
  await tab.locator('tessera-login >> button.secondary').click();
  await tab.waitForURL(`${shopOrigin}/shop/**`, { timeout: 15_000 });
  await tab.locator('tessera-login >> button.primary').waitFor({ state: 'visible', timeout: 15_000 });
  assert.equal(await tab.evaluate(() => Object.keys(sessionStorage).filter((k) => k.startsWith('tessera.session')).length), 0, 'signing out forgets it');
});

const bearer = (tab) => tab.evaluate(async () => (await (await window.Tessera.fetch('/echo')).json()).authorization);

/// One tab signed in with a refresh token (sessionStorage opted in) and its
/// duplicate: the same sessionStorage, so the same refresh token. The clock
/// (Playwright's is the whole context's) is installed, so a test can move
/// both tabs to the renewal at once.
async function twoTabsSharingASession({ channelDelay } = {}) {
  await registerShop('session_storage', ['openid', 'offline_access']);
  const context = await browser.newContext({ locale: 'en-US' });
  await context.addInitScript(pageScript);
  if (channelDelay) {
    // A loaded machine: every tab hears the rotation channel late.
    await context.addInitScript((delay) => {
      const Prompt = window.BroadcastChannel;
      window.BroadcastChannel = class extends Prompt {
        set onmessage(handler) {
          super.onmessage = handler && ((event) => setTimeout(() => handler.call(this, event), delay));
        }
        get onmessage() { return super.onmessage; }
      };
    }, channelDelay);
  }
  const first = await context.newPage();
  await first.clock.install();
  await first.goto(`${shopOrigin}/shop/`);
  await first.locator('tessera-login >> button.primary').click({ timeout: 15_000 });
  await first.waitForURL(/\/dev\/oidc\/authorize/, { timeout: 15_000 });
  assert.equal(new URL(first.url()).searchParams.get('scope'), 'openid offline_access');
  await first.locator('button.allow').click();
  await first.locator('tessera-login >> .status').waitFor({ state: 'visible', timeout: 15_000 });
  const original = await bearer(first);
  const entries = await first.evaluate(() => Object.entries(sessionStorage));
  const second = await context.newPage();
  await second.clock.install();
  await second.addInitScript((entries) => {
    if (!sessionStorage.length) for (const [key, value] of entries) sessionStorage.setItem(key, value);
    // Records which channels the page listens on, so a test can wait until
    // the widget listens for other tabs' rotations instead of guessing a time.
    window.listening = [];
    const Original = window.BroadcastChannel;
    window.BroadcastChannel = class extends Original {
      set onmessage(handler) {
        super.onmessage = handler;
        if (handler) window.listening.push(this.name);
      }
      get onmessage() { return super.onmessage; }
    };
  }, entries);
  const secondSessionModuleRequests = [];
  second.on('request', (request) => {
    if (sessionModule(new URL(request.url()).pathname)) secondSessionModuleRequests.push(request.url());
  });
  await second.goto(`${shopOrigin}/shop/`);
  await second.locator('tessera-login >> .status').waitFor({ state: 'visible', timeout: 15_000 });
  assert.equal(await bearer(second), original);
  return { context, first, second, original, secondSessionModuleRequests };
}

async function renewed(tab) {
  await tab.waitForFunction(() => window.events.some((e) => e.name === 'tessera:refresh' || e.name === 'tessera:error'), null, { timeout: 15_000 });
  const names = await tab.evaluate(() => window.events.map((e) => e.name + ':' + (e.detail?.code ?? '')));
  assert.ok(!names.some((name) => name.startsWith('tessera:error')), `a tab lost its session: ${names}`);
  return bearer(tab);
}

test('two tabs sharing a session rotate its refresh token once, under a Web Lock', async () => {
  const { context, first, second, original } = await twoTabsSharingASession();
  // Another script of the shop's origin listens on the rotation channel.
  const spy = await context.newPage();
  await spy.goto(`${shopOrigin}/echo`);
  await spy.evaluate(() => {
    window.heard = [];
    new BroadcastChannel('tessera-refresh:demo').onmessage = (event) => window.heard.push(String(event.data));
  });
  // Both renew at the same moment, a minute before the access token expires.
  await Promise.all([first.clock.fastForward('09:30'), second.clock.fastForward('09:30')]);
  const [renewedFirst, renewedSecond] = [await renewed(first), await renewed(second)];
  assert.notEqual(renewedFirst, original, 'the access token was renewed');
  assert.equal(renewedSecond, renewedFirst, 'the second tab adopted the first tab\'s rotation');
  assert.equal(await first.evaluate(() => localStorage.length), 0, 'never localStorage');
  // The listener heard the tabs talk, and learned no token from it.
  const stored = JSON.parse(await first.evaluate(() => sessionStorage.getItem('tessera.session.demo')));
  assert.ok(stored.refresh_token && stored.access_token, 'the rotated session is stored');
  const heard = await spy.evaluate(() => window.heard);
  assert.ok(heard.some((text) => JSON.parse(text).sealed), `no announcement was heard: ${heard}`);
  for (const text of heard) {
    for (const secret of [stored.refresh_token, stored.access_token, renewedFirst.replace(/^Bearer /, '')]) {
      assert.ok(!text.includes(secret), `a token went over the channel: ${text}`);
    }
    // A compact JWS, not a bare `eyJ`: the sealed value is random base64url.
    assert.ok(!/eyJ[\w-]*\.[\w-]*\./.test(text), `a JWT went over the channel: ${text}`);
  }
  await context.close();
});

/** One tab signed in with a refresh token kept in memory, on a controlled
 * clock, counting the requests to the issuer's token endpoint. */
async function renewableTab() {
  await registerShop('memory', ['openid', 'offline_access']);
  const context = await browser.newContext({ locale: 'en-US' });
  await context.addInitScript(pageScript);
  const tab = await context.newPage();
  await tab.clock.install();
  const tokenRequests = [];
  tab.on('request', (request) => {
    if (new URL(request.url()).pathname === '/dev/oidc/token') tokenRequests.push(request.url());
  });
  await tab.goto(`${shopOrigin}/shop/`);
  await tab.locator('tessera-login >> button.primary').click({ timeout: 15_000 });
  await tab.waitForURL(/\/dev\/oidc\/authorize/, { timeout: 15_000 });
  await tab.locator('button.allow').click();
  await tab.locator('tessera-login >> .status').waitFor({ state: 'visible', timeout: 15_000 });
  return { context, tab, original: await bearer(tab), tokenRequests };
}

const eventNames = (tab) => tab.evaluate(() => window.events.map((e) => e.name + ':' + (e.detail?.code ?? '')));

async function waitUntil(condition, what) {
  for (let tries = 0; tries < 150; tries++) {
    if (await condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  assert.fail(`gave up waiting until ${what}`);
}

test('an IdP outage during renewal keeps the session and retries; only a refusal ends it', async () => {
  const { context, tab, original, tokenRequests } = await renewableTab();
  const signInRequests = tokenRequests.length;
  // An API that is down answers 503: that is not a refusal of the passport.
  assert.equal(await tab.evaluate(async () => (await window.Tessera.fetch('/unavailable')).status), 503);
  assert.equal(tokenRequests.length, signInRequests, 'a 503 renewed the passport');
  // The IdP goes down just before the renewal.
  await tab.route('**/dev/oidc/token', (route) => route.abort('connectionrefused'));
  await tab.clock.fastForward('09:30');
  await waitUntil(() => tokenRequests.length > signInRequests, 'the renewal was tried');
  // And again, after a pause, while the access token is still valid.
  await tab.clock.fastForward('00:05');
  await waitUntil(() => tokenRequests.length > signInRequests + 1, 'the renewal was tried again');
  assert.ok(!(await eventNames(tab)).some((name) => name.startsWith('tessera:error')), 'the outage ended the session');
  assert.ok(await tab.locator('tessera-login >> .status').isVisible(), 'the customer looks signed out');
  assert.equal(await bearer(tab), original, 'the still valid passport is no longer attached');
  // The IdP is back: the next try renews.
  await tab.unroute('**/dev/oidc/token');
  await tab.clock.fastForward('00:10');
  await tab.waitForFunction(() => window.events.some((e) => e.name === 'tessera:refresh'), null, { timeout: 15_000 });
  const renewedToken = await bearer(tab);
  assert.notEqual(renewedToken, original);
  // A definitive refusal (the IdP revoked the session) ends it at once.
  await tab.route('**/dev/oidc/token', (route) => route.fulfill({
    status: 400, contentType: 'application/json', body: '{"error":"invalid_grant"}',
    headers: { 'access-control-allow-origin': '*' },
  }));
  const status = await tab.evaluate(async (token) => (await window.Tessera.fetch(`/refuse?token=${encodeURIComponent(token)}`)).status, renewedToken.replace(/^Bearer /, ''));
  assert.equal(status, 401);
  await tab.locator('tessera-login >> button.primary').waitFor({ state: 'visible', timeout: 15_000 });
  assert.ok((await eventNames(tab)).includes('tessera:error:session_expired'));
  assert.equal(await bearer(tab), null);
  await context.close();
});

test('a removed widget stops; added again, it picks up the live session', async () => {
  const { context, tab, original, tokenRequests } = await renewableTab();
  const signInRequests = tokenRequests.length;
  // A single-page app's route change takes the element out of the page.
  await tab.evaluate(() => { window.parked = document.querySelector('tessera-login'); window.parked.remove(); });
  await waitUntil(async () => (await bearer(tab)) === null, 'the removed widget stopped attaching its passport');
  // Its renewal timer is stopped too: nothing renews while it is away.
  await tab.clock.fastForward('09:30');
  await tab.waitForTimeout(500);
  assert.equal(tokenRequests.length, signInRequests, 'a removed widget renewed its session');
  // Back on the page: the same session, renewed now that it is due.
  await tab.evaluate(() => document.querySelector('main').append(window.parked));
  await tab.locator('tessera-login >> .status').waitFor({ state: 'visible', timeout: 15_000 });
  await tab.waitForFunction(() => window.events.some((e) => e.name === 'tessera:refresh'), null, { timeout: 15_000 });
  const back = await bearer(tab);
  assert.ok(back && back !== original, `the session was not picked up: ${back}`);
  assert.equal(tokenRequests.length, signInRequests + 1, 'one renewal, not one per mount');
  assert.ok(!(await eventNames(tab)).some((name) => name.startsWith('tessera:error')));
  // And it can sign out.
  await tab.locator('tessera-login >> button.secondary').click();
  await tab.waitForURL(`${shopOrigin}/shop/**`, { timeout: 15_000 });
  await tab.locator('tessera-login >> button.primary').waitFor({ state: 'visible', timeout: 15_000 });
  await context.close();
});

test('two tabs renewing at once rotate once even when the channel between them is slow', async () => {
  // The tab that rotated holds a Web Lock named after the sealed rotation
  // before it lets go of the refresh lock, so the other tab reads it as it
  // takes the refresh lock, however late the channel delivers.
  const { context, first, second, original } = await twoTabsSharingASession({ channelDelay: 2_000 });
  await Promise.all([first.clock.fastForward('09:30'), second.clock.fastForward('09:30')]);
  const [renewedFirst, renewedSecond] = [await renewed(first), await renewed(second)];
  assert.notEqual(renewedFirst, original, 'the access token was renewed');
  assert.equal(renewedSecond, renewedFirst, 'one tab adopted the other\'s rotation');
  await context.close();
});

test('a tab adopts the rotation of a duplicate that rotated and closed before it renewed', async () => {
  const { context, first, second, original, secondSessionModuleRequests } = await twoTabsSharingASession();
  // The second tab listens for rotations as soon as it holds a renewable
  // session (here, restored from sessionStorage), in its first module: a
  // signed-in page view does not download the session module to listen.
  await second.waitForFunction(() => window.listening.includes('tessera-refresh:demo'), null, { timeout: 15_000 });
  assert.deepEqual(secondSessionModuleRequests, [], 'the second tab fetched the session module before renewing');
  // Only the first tab renews: the shop's API refuses the current passport,
  // so the widget rotates its refresh token and sends the request again.
  const refuseOriginal = (tab) => tab.evaluate(async (token) => (await window.Tessera.fetch(`/refuse?token=${encodeURIComponent(token)}`)).status, original.replace(/^Bearer /, ''));
  assert.equal(await refuseOriginal(first), 200, 'the first tab renewed and was accepted');
  const renewedFirst = await bearer(first);
  assert.notEqual(renewedFirst, original, 'the first tab rotated');
  await first.close();
  // A closing page can still answer for a moment: give it time to be gone,
  // so that only what the second tab heard can save it. The development
  // issuer revokes the whole family when a spent refresh token comes back:
  // spending it again here would sign this tab out.
  await second.waitForTimeout(1_000);
  assert.equal(await refuseOriginal(second), 200, 'the second tab renewed and was accepted');
  assert.equal(await bearer(second), renewedFirst, 'the second tab adopted what it heard');
  assert.equal(secondSessionModuleRequests.length, 2, 'renewing fetched the session module (glue and wasm) once');
  const names = await second.evaluate(() => window.events.map((e) => e.name + ':' + (e.detail?.code ?? '')));
  assert.ok(!names.some((name) => name.startsWith('tessera:error')), `the second tab lost its session: ${names}`);
  await context.close();
});
