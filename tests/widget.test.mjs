// The <tessera-login> widget end to end in Chromium: the real `tessera dev`
// serves the built widget (dist/widget); a shop page on another origin pastes
// the snippet exactly as the admin API prints it, under exactly the CSP it
// prints, next to a hostile stylesheet. Checks: the widget renders in its
// shadow root in the negotiated language, host CSS cannot reach it, clicks
// and keys work through Leptos's event delegation inside the shadow root,
// `ar` renders right to left, and the page reports no CSP violation.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const root = new URL('../', import.meta.url);
const binary = new URL('target/debug/tessera', root).pathname;
const widgetDir = new URL('dist/widget', root).pathname;

let tessera;
let shop;
let browser;
let dataDir;
let server;
let shopOrigin;
let snippet;

async function freePort() {
  return new Promise((resolve) => {
    const probe = createNetServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

const hostile = `button { display: none !important; color: red !important; }
h2 { visibility: hidden !important; }
* { font-family: "Comic Sans MS" !important; letter-spacing: 9px !important; }
tessera-login { color: red !important; visibility: hidden !important; text-transform: uppercase !important; }`;

const pageScript = `
window.events = [];
window.violations = [];
document.addEventListener('securitypolicyviolation', (e) => window.violations.push(e.violatedDirective + ' ' + e.blockedURI));
for (const name of ['tessera:interaction', 'tessera:error']) {
  document.addEventListener(name, (e) => window.events.push({ name, detail: e.detail }));
}`;

before(async () => {
  const port = await freePort();
  dataDir = mkdtempSync(join(tmpdir(), 'tessera-widget-'));
  server = `http://127.0.0.1:${port}`;
  tessera = spawn(binary, ['dev', '--port', String(port), '--data-dir', dataDir, '--widget-dir', widgetDir], {
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  const banner = await new Promise((resolve, reject) => {
    let output = '';
    tessera.stdout.on('data', (chunk) => {
      output += chunk;
      if (output.includes('health')) resolve(output);
    });
    tessera.on('exit', (code) => reject(new Error(`tessera dev exited with ${code}`)));
  });
  const token = banner.match(/admin token\s+(tsa_\S+)/)[1];
  const response = await fetch(`${server}/api/tenants/demo/snippet`, { headers: { authorization: `Bearer ${token}` } });
  assert.equal(response.status, 200, 'the widget is built, so the snippet has an integrity value');
  snippet = await response.json();

  const shopPort = await freePort();
  shopOrigin = `http://127.0.0.1:${shopPort}`;
  // The shop adds its own sources ('self') beside the ones Tessera printed.
  const directives = { ...snippet.content_security_policy };
  directives['script-src'] = `'self' ${directives['script-src']}`;
  directives['style-src'] = `'self' ${directives['style-src']}`;
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
    if (url.pathname === '/page.js') return send('text/javascript', pageScript);
    response.writeHead(404).end();
  });
  await new Promise((resolve) => shop.listen(shopPort, '127.0.0.1', resolve));
  browser = await chromium.launch({
    executablePath: process.env.TESSERA_CHROMIUM ?? '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
});

after(async () => {
  await browser?.close();
  shop?.close();
  tessera?.kill('SIGTERM');
  rmSync(dataDir, { recursive: true, force: true });
});

async function open(path, locale = 'en-US') {
  const context = await browser.newContext({ locale });
  const tab = await context.newPage();
  const errors = [];
  tab.on('pageerror', (error) => errors.push(String(error)));
  await tab.goto(shopOrigin + path);
  return { tab, errors };
}

test('the loader pins the wasm with the integrity the manifest publishes', () => {
  const manifest = JSON.parse(readFileSync(join(widgetDir, 'manifest.json'), 'utf8'));
  const loader = readFileSync(join(widgetDir, 'tessera.js'), 'utf8');
  const wasm = Object.keys(manifest.files).find((name) => name.endsWith('.wasm'));
  assert.ok(loader.includes(`'${manifest.files[wasm].integrity}'`), 'the wasm integrity is in the loader');
  assert.ok(snippet.html.includes(manifest.files['tessera.js'].integrity), 'the snippet pins the loader');
});

test('renders in its shadow root, immune to the host page CSS, clickable', async () => {
  const { tab, errors } = await open('/');
  const button = tab.locator('tessera-login >> button');
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
  await button.click();
  await tab.waitForFunction(() => window.events.some((e) => e.name === 'tessera:interaction'));
  assert.equal((await button.textContent()).trim(), 'Signing you in…');
  assert.equal(await button.getAttribute('aria-busy'), 'true');
  assert.deepEqual(await tab.evaluate(() => window.violations), []);
  assert.deepEqual(errors, []);
});

test('keyboard only, right to left for ar', async () => {
  const { tab, errors } = await open('/arabic');
  const arabic = tab.locator('#ar >> section');
  await arabic.waitFor({ state: 'visible', timeout: 15_000 });
  assert.equal(await arabic.getAttribute('dir'), 'rtl');
  assert.equal(await arabic.getAttribute('lang'), 'ar');
  const button = tab.locator('#ar >> button');
  assert.equal((await button.textContent()).trim(), 'تسجيل الدخول');
  await button.focus();
  await tab.keyboard.press('Enter');
  await tab.waitForFunction(() => window.events.filter((e) => e.name === 'tessera:interaction').length >= 1);
  assert.equal((await button.textContent()).trim(), 'جارٍ تسجيل دخولك…');
  assert.deepEqual(await tab.evaluate(() => window.violations), []);
  assert.deepEqual(errors, []);
});

test('the browser language picks the texts when no locale is set', async () => {
  const { tab } = await open('/', 'de-DE');
  const button = tab.locator('tessera-login >> button');
  await button.waitFor({ state: 'visible', timeout: 15_000 });
  assert.equal((await button.textContent()).trim(), 'Anmelden');
});
