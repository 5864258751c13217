// Helpers shared by the Node and browser tests: free loopback ports,
// Debian's Chromium started the one way that works on these machines, and
// the checks every browser suite runs alike.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

/** A free TCP port on 127.0.0.1. */
export function freePort() {
  return new Promise((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

/** The first sign, in `value` (made JSON), of the development user's
 * personal data or of a token: a JSON string that starts with her name,
 * her address, a member named like personal data, or a compact JWS
 * (`eyJ...` and a dot); undefined when there is none. The pseudonymous
 * `sub` and `sid` are random base64url, so the checks look for what such a
 * value cannot hold by chance (a bare `eyJ` or `Ada` inside one once
 * failed a run). */
export function personalDataIn(value) {
  const text = JSON.stringify(value);
  const signs = [/"Ada/, /Lovelace/, /@example\.test/, /"email/, /"name/, /"nonce/, /eyJ[\w-]*\.[\w-]*\./];
  return signs.find((sign) => sign.test(text))?.source;
}

/** Headless Chromium from Debian (`/usr/bin/chromium`, or $TESSERA_CHROMIUM),
 * with no background network traffic: this machine has no network to reach. */
export function launchChromium() {
  return chromium.launch({
    executablePath: process.env.TESSERA_CHROMIUM ?? '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
}

/** Starts `tessera dev` on a free port with its own data folder; resolves once
 * the banner is printed. Everything it writes (stdout and stderr) is kept in
 * `output()`, so a test can search the logs. */
export async function startTessera({ dataDir, port, extraArguments = [], environment = {} }) {
  const { spawn } = await import('node:child_process');
  const root = new URL('../', import.meta.url);
  port ??= await freePort();
  const server = `http://127.0.0.1:${port}`;
  const child = spawn(new URL('target/debug/tessera', root).pathname, [
    'dev', '--port', String(port), '--data-dir', dataDir,
    '--widget-dir', new URL('dist/widget', root).pathname, ...extraArguments,
  ], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...environment } });
  let output = '';
  child.stderr.on('data', (chunk) => { output += chunk; });
  const banner = await new Promise((resolve, reject) => {
    child.stdout.on('data', (chunk) => {
      output += chunk;
      if (output.includes('  health ')) resolve(output);
    });
    child.on('exit', (code) => reject(new Error(`tessera dev exited with ${code}: ${output}`)));
  });
  return {
    server,
    adminToken: banner.match(/admin token\s+(tsa_\S+)/)[1],
    consoleLink: banner.match(/console\s+(http\S+)/)[1],
    output: () => output,
    stop: () => new Promise((resolve) => {
      if (child.exitCode !== null) return resolve();
      child.on('exit', resolve);
      child.kill('SIGTERM');
    }),
    // As a crash or an out-of-memory killer would: no shutdown at all.
    kill: () => new Promise((resolve) => {
      if (child.exitCode !== null) return resolve();
      child.on('exit', resolve);
      child.kill('SIGKILL');
    }),
  };
}

/** axe-core (WCAG 2.0 A/AA and 2.1 AA) over each element matching `selector`
 * (it enters open shadow roots). axe inserts a <style> of its own, which a
 * strict CSP reports: check CSP violations before calling this. */
export async function accessibilityViolations(tab, selector = 'tessera-login') {
  const { readFileSync } = await import('node:fs');
  const { createRequire } = await import('node:module');
  const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
  // Evaluated through the DevTools protocol, so the page's CSP stays as strict as it is.
  await tab.evaluate(axeSource);
  return tab.evaluate(async (selector) => {
    const found = [];
    for (const element of document.querySelectorAll(selector)) {
      const result = await window.axe.run(element, {
        runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21aa'] },
      });
      found.push(...result.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`));
    }
    return found;
  }, selector);
}

/** A script for `addInitScript`: records CSP violations and Tessera's events
 * in `window.violations` and `window.events`. */
export const recorderScript = `
window.events = [];
window.violations = [];
document.addEventListener('securitypolicyviolation', (e) => window.violations.push(e.violatedDirective + ' ' + e.blockedURI));
for (const name of ['tessera:interaction', 'tessera:error', 'tessera:login', 'tessera:logout', 'tessera:refresh']) {
  document.addEventListener(name, (e) => window.events.push({ name, detail: e.detail }));
}`;

/**
 * The session glue's pin, as every browser suite checks it: what the
 * server answers for the glue, by request (1, 2, ...), and what must follow.
 * A returning sign-in asks for the session module at once and again when it
 * exchanges the code, so a refused first answer is retried in the same
 * page, at another address (a browser's module map may keep the failure).
 * `refusals` is how many answers the browser refuses.
 */
export function sessionGluePinCases(widgetDir) {
  const manifest = JSON.parse(readFileSync(join(widgetDir, 'manifest.json'), 'utf8'));
  const glue = Object.keys(manifest.files).find((name) => /^tessera-session-[0-9a-f]+\.js$/.test(name));
  const built = readFileSync(join(widgetDir, glue), 'utf8');
  const changed = `${built}\nglobalThis.tesseraChanged = true;`;
  return {
    path: `/widget/v1/${glue}`,
    cases: [
      { name: 'built, then changed', answer: (n) => (n === 1 ? built : changed), signedIn: true, requests: 1, refusals: 0 },
      { name: 'changed, then built', answer: (n) => (n === 1 ? changed : built), signedIn: true, requests: 2, refusals: 1 },
      { name: 'always changed', answer: () => changed, signedIn: false },
    ],
  };
}

/** Checks what followed one of `sessionGluePinCases`: the event names the
 * page saw, the glue URLs it asked for, and whether the changed glue ran. */
export function assertGluePinOutcome({ name, signedIn, requests }, { names, asked, changedRan }) {
  assert.equal(changedRan, undefined, `${name}: a changed glue never runs`);
  if (signedIn) {
    assert.ok(names.includes('tessera:login'), `${name}: ${names.join(' ')}`);
    assert.equal(asked.length, requests, `${name}: ${asked.join(' ')}`);
    if (requests > 1) assert.match(asked.at(-1), /\?attempt=1$/, `${name}: the retry asks for another address`);
  } else {
    assert.ok(names.includes('tessera:error') && !names.includes('tessera:login'), `${name}: ${names.join(' ')}`);
    // Asked for, refused, and retried a bounded number of times.
    assert.ok(asked.length >= 1 && asked.length <= 3, `${name}: ${asked.join(' ')}`);
  }
}

/**
 * A shop page at `/shop/` on its own loopback origin that pastes the demo
 * tenant's snippet under exactly the CSP it prints (plus the shop's own
 * sources, `'self'`, for scripts, connections and images: a browser asks
 * for the shop's favicon), with `pageScript` as its own script; the tenant
 * is told the page's origin and redirect URI. `widgetOrigin`, when given,
 * serves the widget in place of Tessera's origin (beside it in the CSP).
 * Resolves to the shop's origin and `close()`.
 */
export async function startShop(tessera, { pageScript = recorderScript, widgetOrigin } = {}) {
  const headers = { authorization: `Bearer ${tessera.adminToken}` };
  const response = await fetch(`${tessera.server}/api/tenants/demo/snippet`, { headers });
  assert.equal(response.status, 200, 'the widget is built, so the snippet has an integrity value');
  const snippet = await response.json();
  const origin = `http://127.0.0.1:${await freePort()}`;
  const directives = {};
  for (const [name, value] of Object.entries(snippet.content_security_policy)) {
    directives[name] = widgetOrigin && value.includes(tessera.server) ? `${value} ${widgetOrigin}` : value;
  }
  for (const name of ['script-src', 'connect-src', 'img-src']) directives[name] = `'self' ${directives[name] ?? ''}`.trim();
  const csp = ["default-src 'none'", ...Object.entries(directives).map(([name, value]) => `${name} ${value}`)].join('; ');
  const html = widgetOrigin ? snippet.html.replaceAll(tessera.server, widgetOrigin) : snippet.html;
  const server = createHttpServer((request, answer) => {
    answer.setHeader('content-security-policy', csp);
    const { pathname } = new URL(request.url, origin);
    if (pathname === '/page.js') {
      answer.setHeader('content-type', 'text/javascript');
      return answer.end(pageScript);
    }
    if (pathname !== '/shop/') return answer.writeHead(404).end();
    answer.setHeader('content-type', 'text/html');
    answer.end(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Shop</title>
<script src="/page.js"></script></head><body><main><h1>Shop</h1>${html}</main></body></html>`);
  });
  await new Promise((resolve) => server.listen(Number(new URL(origin).port), '127.0.0.1', resolve));

  const current = await fetch(`${tessera.server}/api/tenants/demo`, { headers });
  const { config } = await current.json();
  config.redirect_uris = [...new Set([...config.redirect_uris, `${origin}/shop/`])];
  config.allowed_origins = [origin];
  const updated = await fetch(`${tessera.server}/api/tenants/demo`, {
    method: 'PUT',
    headers: { ...headers, 'content-type': 'application/json', 'if-match': current.headers.get('etag') },
    body: JSON.stringify(config),
  });
  assert.equal(updated.status, 200, await updated.text());
  return {
    origin,
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(resolve));
    },
  };
}
