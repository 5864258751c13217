// The widget's first render in headless Chromium, beside Hanko Elements
// rendered the same way: each page is served from a local origin, opened in a
// fresh browser context (cold cache) ten times, and timed from the moment the
// browser starts fetching the widget's script to the first frame in which
// the widget shows a usable sign-in control in its shadow root. For Tessera
// that is the sign-in button (after the wasm, the tenant's texts and config);
// for Hanko it is its login form's email field, after its flow API answered.
// That API is a stand-in served here, on the page's origin, answering the
// two requests Hanko makes before its form (the `login` flow's `preflight`
// state, then `login_init`) at once, as a fast local server would. Hanko's
// first content of any kind (its loading state) is timed too, and printed.
//
// Usage: node first-render.mjs <tessera server origin> <hanko bundle file>
// Prints one JSON line: {"tessera": [ms...], "hanko": [ms...], "hanko_first_content": [ms...]}.
import { createServer } from 'node:http';
import { readFileSync } from 'node:fs';
import { freePort, launchChromium } from '../../tests/support.mjs';

const [server, hankoBundle] = process.argv.slice(2);
const integrity = JSON.parse(readFileSync(new URL('../../dist/widget/manifest.json', import.meta.url))).files['tessera.js'].integrity;

// Polls every animation frame, from before any script runs, for the first
// frame in which the element's shadow root holds any content
// (window.firstContent) and then the control that makes it usable
// (window.firstRender).
const probe = (selector, usable) => `
(() => {
  const since = () => {
    const entry = performance.getEntriesByType('resource').find((e) => e.initiatorType === 'script');
    return performance.now() - (entry ? entry.startTime : 0);
  };
  const tick = () => {
    const host = document.querySelector('${selector}');
    const root = host && host.shadowRoot;
    if (root && window.firstContent === undefined && root.querySelector('*:not(link):not(style)')) window.firstContent = since();
    if (root && root.querySelector('${usable}')) {
      window.firstRender = since();
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

const browser = await launchChromium();
const measure = async (path, selector, usable) => {
  const times = { usable: [], firstContent: [] };
  for (let run = 0; run < 10; run++) {
    const context = await browser.newContext();
    await context.addInitScript(probe(selector, usable));
    const tab = await context.newPage();
    await tab.goto(`http://127.0.0.1:${port}${path}`);
    await tab.waitForFunction(() => window.firstRender !== undefined, null, { timeout: 20_000 });
    const [usableAt, firstContentAt] = await tab.evaluate(() => [window.firstRender, window.firstContent]);
    times.usable.push(usableAt);
    times.firstContent.push(firstContentAt);
    await context.close();
  }
  return times;
};
const tessera = await measure('/tessera.html', 'tessera-login', 'button');
const hanko = await measure('/hanko.html', 'hanko-auth', 'input[type=email]');
const result = { tessera: tessera.usable, hanko: hanko.usable, hanko_first_content: hanko.firstContent };
await browser.close();
local.close();
console.log(JSON.stringify(result));
