// @tessera/verifier in a real browser: Debian's Chromium driven by
// playwright-core loads the built package on a page whose only policy is a
// strict CSP (script-src 'self' 'wasm-unsafe-eval'), runs the behavioural
// cases shared with the native tests through WebCrypto, fetches a JWKS with
// the browser's fetch, and must report no CSP violation.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { extname } from 'node:path';
import { launchChromium } from '../../../tests/support.mjs';
import { jwks, signRaw, suite } from './fixture.mjs';

const packageDir = new URL('../../../dist/npm/verifier/', import.meta.url);
const CSP = "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; connect-src 'self'";
const types = { '.js': 'text/javascript', '.wasm': 'application/wasm', '.json': 'application/json' };

const fixture = {
  suite,
  jwks,
  tokens: suite.cases.map((c) => signRaw(c.alg, c.header, c.claims)),
};

const page = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>verifier</title></head>
<body><script type="module" src="/run.js"></script></body></html>`;

// The page's script: every case, then a remote fetch, results on window.
const run = `
import { createVerifier } from '/pkg/browser.js';
const violations = [];
document.addEventListener('securitypolicyviolation', (event) => violations.push(event.violatedDirective));
const fixture = await (await fetch('/fixture.json')).json();
const { suite } = fixture;
const base = { issuer: suite.issuer, audience: suite.audience, now: suite.now, jwks: fixture.jwks };
const results = [];
for (const [index, c] of suite.cases.entries()) {
  try {
    const verifier = await createVerifier({ ...base, ...c.options });
    const { claims } = await verifier.verify(fixture.tokens[index]);
    results.push({ name: c.name, ok: true, sub: claims.sub });
  } catch (error) {
    results.push({ name: c.name, ok: false, code: error.code, claim: error.claim, message: String(error.message) });
  }
}
let remote;
try {
  const verifier = await createVerifier({ ...base, jwks: undefined, remote: { jwksUri: location.origin + '/jwks' } });
  remote = (await verifier.verify(fixture.tokens[0])).claims.sub;
} catch (error) {
  remote = 'failed: ' + error.code + ' ' + error.message;
}
window.results = { results, remote, violations, secure: window.isSecureContext };
`;

let server;
let browser;
let origin;

before(async () => {
  server = createServer(async (request, response) => {
    const url = new URL(request.url, 'http://localhost');
    response.setHeader('content-security-policy', CSP);
    const send = (type, body) => {
      response.setHeader('content-type', type);
      response.end(body);
    };
    if (url.pathname === '/') return send('text/html', page);
    if (url.pathname === '/run.js') return send('text/javascript', run);
    if (url.pathname === '/fixture.json') return send('application/json', JSON.stringify(fixture));
    if (url.pathname === '/jwks') return send('application/json', JSON.stringify(jwks));
    if (url.pathname.startsWith('/pkg/')) {
      const file = url.pathname.slice(5);
      if (!/^[a-z_.]+$/.test(file)) return response.writeHead(404).end();
      try {
        return send(types[extname(file)] ?? 'application/octet-stream', await readFile(new URL(file, packageDir)));
      } catch {
        return response.writeHead(404).end();
      }
    }
    response.writeHead(404).end();
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${server.address().port}`;
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  server?.close();
});

test('the package verifies in Chromium under a strict CSP, through WebCrypto', async () => {
  const tab = await browser.newPage();
  const errors = [];
  tab.on('pageerror', (error) => errors.push(String(error)));
  await tab.goto(origin);
  await tab.waitForFunction(() => window.results !== undefined, null, { timeout: 30_000 });
  const { results, remote, violations, secure } = await tab.evaluate(() => window.results);
  assert.deepEqual(errors, []);
  assert.equal(secure, true);
  assert.deepEqual(violations, [], 'CSP violations');
  const failures = [];
  for (const [index, c] of suite.cases.entries()) {
    const got = results[index];
    const good = c.expect.ok
      ? got.ok && got.sub === c.claims.sub
      : !got.ok && got.code === c.expect.code && got.claim === c.expect.claim;
    if (!good) failures.push(`${c.name}: ${JSON.stringify(got)}`);
  }
  assert.deepEqual(failures, []);
  assert.equal(remote, suite.cases[0].claims.sub, 'keys fetched with the browser fetch');
});
