// @tessera/verifier as users install it, in every runtime it is for. The
// package built by `cargo xtask dist` is packed with `npm pack` and installed
// from that tarball into a fresh project outside the workspace (no links);
// each runtime then runs the same checks (runtimes/conformance.mjs) against
// that install: Node, Deno and Bun unbundled, workerd (Cloudflare's runtime)
// through an esbuild bundle as wrangler makes it, Vercel's edge runtime
// through an esbuild bundle as Vercel's builder makes it, and Chromium on a
// page built by esbuild, a page built by Vite, a Web Worker and a Service
// Worker loading the package unbundled. Then the shipped .d.ts under
// `tsc --strict`, and the Express, Hono and Worker examples.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { extname, join, resolve, sep } from 'node:path';
import { freePort, launchChromium } from '../../../tests/support.mjs';
import { NOW, jwks, signRaw, signedByJose, suite } from './fixture.mjs';
import { FreshProject, TARGETS, denoEnvironment, tool, workspace } from './runtimes/fresh.mjs';

const CSP = "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; connect-src 'self'; worker-src 'self'";
const TYPES = { '.js': 'text/javascript', '.mjs': 'text/javascript', '.wasm': 'application/wasm', '.html': 'text/html', '.json': 'application/json' };

let fresh; // the fresh project
let project; // its folder
let origin; // the loopback server: fixture, issuer, and the project's files
let server;
let fixture;

// What conformance.mjs checks: every shared case with a verifier of its own;
// the cases without options twice more through one verifier, with a forged
// copy of each good one; 9 jose tokens; discovery; 5 authenticate answers.
const PLAIN_CASES = suite.cases.filter((c) => c.options === undefined || Object.keys(c.options).length === 0);
const CONFORMANCE_CHECKS = suite.cases.length
  + 2 * (PLAIN_CASES.length + PLAIN_CASES.filter((c) => c.expect.ok).length) + 9 + 1 + 5;

/** The verdict line of a conformance run, with the failures before it. */
function verdict(t, output) {
  const match = /conformance: (\d+) passed, (\d+) failed/.exec(output);
  assert.ok(match, `no verdict in:\n${output}`);
  t.diagnostic(match[0]);
  assert.equal(Number(match[2]), 0, output);
  return Number(match[1]);
}

function serve() {
  return createServer(async (request, response) => {
    const url = new URL(request.url, 'http://localhost');
    const send = (type, body, status = 200) => {
      response.writeHead(status, { 'content-type': type, 'content-security-policy': CSP, 'cache-control': 'no-store' });
      response.end(body);
    };
    if (url.pathname === '/fixture.json') return send('application/json', JSON.stringify(fixture));
    if (url.pathname === '/.well-known/openid-configuration') {
      return send('application/json', JSON.stringify({ issuer: origin, jwks_uri: `${origin}/jwks` }));
    }
    if (url.pathname === '/jwks') return send('application/json', JSON.stringify(jwks));
    if (url.pathname === '/down') return send('text/plain', 'down', 503);
    // The project's files, and nothing outside it.
    const file = resolve(project, `.${decodeURIComponent(url.pathname)}`);
    if (!file.startsWith(project + sep)) return send('text/plain', 'no', 404);
    try {
      return send(TYPES[extname(file)] ?? 'application/octet-stream', await readFile(file));
    } catch {
      return send('text/plain', 'not found', 404);
    }
  });
}

before(async () => {
  // The examples' frameworks are not under test: they are linked in.
  fresh = await FreshProject.create(['hono', 'express']);
  project = fresh.dir;
  for (const file of ['conformance.mjs']) {
    await copyFile(new URL(`./runtimes/${file}`, import.meta.url), join(project, file));
  }
  for (const file of ['express.mjs', 'hono.mjs', 'worker.mjs']) {
    await copyFile(new URL(`../examples/${file}`, import.meta.url), join(project, file));
  }

  server = serve();
  await new Promise((done) => server.listen(0, '127.0.0.1', done));
  origin = `http://127.0.0.1:${server.address().port}`;
  fixture = {
    suite,
    jwks,
    origin,
    tokens: suite.cases.map((c) => signRaw(c.alg, c.header, c.claims)),
    jose: await signedByJose(),
    remoteToken: signRaw('ES256', { alg: 'ES256', kid: 'p256' }, { iss: origin, aud: suite.audience, sub: 'remote', exp: NOW + 600 }),
  };
  // The script the unbundled runtimes run, and the entry they resolved.
  await writeFile(join(project, 'main.mjs'), `
import * as api from '@tessera/verifier';
import { conformance } from './conformance.mjs';
console.log('entry: ' + import.meta.resolve('@tessera/verifier').split('/').pop());
console.log(await conformance(api, ${JSON.stringify(`${origin}/fixture.json`)}));
`);
});

after(async () => {
  server?.closeAllConnections();
  server?.close();
  await fresh?.remove();
});

test('the tarball holds the files the exports name, and nothing from the workspace', async () => {
  const manifest = JSON.parse(await readFile(join(project, 'node_modules/@tessera/verifier/package.json'), 'utf8'));
  const named = new Set();
  const walk = (value) => (typeof value === 'string' ? named.add(value) : Object.values(value).forEach(walk));
  walk(manifest.exports);
  for (const file of named) await readFile(join(project, 'node_modules/@tessera/verifier', file));
  const lock = JSON.parse(await readFile(join(project, 'package-lock.json'), 'utf8'));
  const entry = lock.packages['node_modules/@tessera/verifier'];
  assert.match(entry.resolved, /^file:tessera-verifier-.*\.tgz$/, 'installed from the packed file');
  assert.equal(entry.link, undefined);
});

for (const [runtime, program, args, engine] of [
  ['Node', process.execPath, ['main.mjs'], 'node:crypto'],
  ['Deno', tool('deno'), ['run', '--quiet', '--allow-net=127.0.0.1', '--allow-read=.', '--node-modules-dir=manual', 'main.mjs'],
    'node:crypto, ECDSA through WebCrypto'],
  ['Bun', tool('bun'), ['main.mjs'], 'node:crypto'],
]) {
  test(`${runtime}: the installed package passes every check, unbundled, through ${engine}`, async (t) => {
    const output = await fresh.run(program, args, { env: denoEnvironment(project) });
    assert.match(output, /^entry: node\.js$/m);
    assert.equal(verdict(t, output), CONFORMANCE_CHECKS);
  });
}

// workerd's node:crypto, which the entry finds through
// `process.getBuiltinModule`, checks RS, ES (as DER) and EdDSA signatures;
// the test counts its checks by key type through a wrapped
// `process.getBuiltinModule` (the entry looks it up when the first verifier
// is made). A Worker without it (here
// the function is taken away: this workerd offers it even without
// nodejs_compat), or whose lookup throws or gives a stub without `verify` (as
// polyfills may), checks every signature with crypto.subtle.
const WORKERD_LOOKUPS = {
  offered: 'process.getBuiltinModule = wrapped;',
  'taken away': 'process.getBuiltinModule = undefined;',
  throwing: "process.getBuiltinModule = () => { throw new Error('no such module'); };",
  'a stub': 'process.getBuiltinModule = () => ({ createPublicKey() {} });',
};
for (const [lookup, setup] of Object.entries(WORKERD_LOOKUPS)) {
  const offered = lookup === 'offered';
  const engine = offered ? 'node:crypto for RS, ES and EdDSA, WebCrypto for PS' : 'WebCrypto';
  test(`workerd, process.getBuiltinModule ${lookup}: an esbuild bundle as wrangler makes it passes every check, through ${engine}`, async (t) => {
    await writeFile(join(project, 'workerd-main.mjs'), `
import * as api from '@tessera/verifier';
import { conformance } from './conformance.mjs';
const nodeChecks = {};
const builtin = globalThis.process.getBuiltinModule;
const wrapped = (name) => {
  const module = builtin.call(process, name);
  if (name !== 'node:crypto') return module;
  return {
    ...module,
    verify: (...args) => {
      const type = args[2]?.asymmetricKeyType ?? args[2]?.key?.asymmetricKeyType;
      nodeChecks[type] = (nodeChecks[type] ?? 0) + 1;
      return module.verify(...args);
    },
  };
};
${setup}
export default {
  async fetch(request) {
    if (new URL(request.url).pathname === '/ready') return new Response('ready');
    const output = await conformance(api, ${JSON.stringify(`${origin}/fixture.json`)});
    return new Response(\`\${output}\nnode:crypto checks: \${JSON.stringify(nodeChecks)}\n\`);
  },
};
`);
    // wrangler's build: the workerd condition, and .wasm files left to the
    // runtime as compiled modules.
    const { inputs } = await fresh.bundle('workerd-main.mjs', 'out/workerd.js', {
      ...TARGETS.workerd,
    });
    assert.ok(inputs.includes('workerd.js'), inputs.join());
    const worker = await fresh.startWorkerd('conformance', [
      ['workerd.js', 'esModule', 'out/workerd.js'],
      ['tessera_verifier_bg.wasm', 'wasm', 'node_modules/@tessera/verifier/tessera_verifier_bg.wasm'],
    ]);
    try {
      const output = await (await fetch(`${worker.origin}/`)).text();
      const nodeChecks = JSON.parse(/^node:crypto checks: (.*)$/m.exec(output)?.[1] ?? 'null');
      assert.equal(verdict(t, output), CONFORMANCE_CHECKS, worker.log());
      // Offered, it checks RSA, EC and Ed25519 signatures (PS goes to
      // crypto.subtle); otherwise it is never reached.
      if (offered) {
        for (const type of ['rsa', 'ec', 'ed25519']) assert.ok(nodeChecks?.[type] > 0, `node:crypto checked no ${type} signature:\n${output}`);
      } else {
        assert.deepEqual(nodeChecks, {});
      }
    } finally {
      worker.stop();
    }
  });
}

test("Vercel's edge runtime: an esbuild bundle as Vercel's builder makes it passes every check, through WebCrypto", async (t) => {
  await writeFile(join(project, 'edge-main.mjs'), `
import * as api from '@tessera/verifier';
import { conformance } from './conformance.mjs';
globalThis.conformanceResult = conformance(api, ${JSON.stringify(`${origin}/fixture.json`)});
`);
  const { value: output, inputs } = await fresh.runOnEdgeRuntime('edge-main.mjs', 'out/edge.js', 'globalThis.conformanceResult');
  assert.ok(inputs.includes('edge-light.js'), inputs.join());
  assert.equal(verdict(t, output), CONFORMANCE_CHECKS);
});

/** Opens `path` on the loopback server; resolves to what the page reports. */
async function inChromium(browser, path) {
  const tab = await browser.newPage();
  const errors = [];
  tab.on('pageerror', (error) => errors.push(String(error)));
  // The console's errors are left out: the checks' /down fetch logs a 503.
  try {
    await tab.goto(`${origin}${path}`);
    await tab.waitForFunction(() => typeof window.conformance === 'string', null, { timeout: 60_000 });
    return { output: await tab.evaluate(() => window.conformance), errors };
  } finally {
    await tab.close();
  }
}

test('Chromium: pages built by esbuild and by Vite, a Web Worker and a Service Worker pass every check, through WebCrypto', async (t) => {
  const fixtureUrl = JSON.stringify('/fixture.json');
  const report = `.then((text) => { window.conformance = text; }, (error) => { window.conformance = 'conformance: 0 passed, 1 failed ' + error; })`;
  await mkdir(join(project, 'web'), { recursive: true });
  await writeFile(join(project, 'web/page.mjs'), `
import * as api from '@tessera/verifier';
import { conformance } from '../conformance.mjs';
conformance(api, ${fixtureUrl})${report};
`);
  await writeFile(join(project, 'web/index.html'), '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>shop</title><script type="module" src="./page.mjs"></script></head><body></body></html>');
  // A Web Worker bundled by esbuild, started by a page.
  await writeFile(join(project, 'web/worker.mjs'), `
import * as api from '@tessera/verifier';
import { conformance } from '../conformance.mjs';
conformance(api, ${fixtureUrl}).then((text) => postMessage(text), (error) => postMessage('conformance: 0 passed, 1 failed ' + error));
`);
  // A Service Worker loading the package unbundled, by path: a Service
  // Worker allows no dynamic import and has no import map.
  await writeFile(join(project, 'sw.mjs'), `
import * as api from './node_modules/@tessera/verifier/browser.js';
import { conformance } from './conformance.mjs';
self.addEventListener('message', (event) => {
  event.waitUntil(conformance(api, ${fixtureUrl}).then((text) => event.source.postMessage(text), (error) => event.source.postMessage('conformance: 0 passed, 1 failed ' + error)));
});
`);
  await writeFile(join(project, 'workers.html'), '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>workers</title><script type="module" src="/workers.mjs"></script></head><body></body></html>');
  await writeFile(join(project, 'workers.mjs'), `
const kind = new URL(location.href).searchParams.get('kind');
const answer = new Promise((resolve) => {
  if (kind === 'web') {
    new Worker('/out/esbuild/worker.js', { type: 'module' }).onmessage = (event) => resolve(event.data);
  } else {
    navigator.serviceWorker.onmessage = (event) => resolve(event.data);
    navigator.serviceWorker.register('/sw.mjs', { type: 'module', scope: '/' })
      .then(() => navigator.serviceWorker.ready)
      .then((registration) => registration.active.postMessage('run'));
  }
});
answer${report};
`);

  // esbuild: the browser condition; the wasm is copied beside the bundle,
  // where the package's new URL(..., import.meta.url) finds it.
  const page = await fresh.bundle('web/page.mjs', 'out/esbuild/page.js', TARGETS.browser);
  assert.ok(page.inputs.includes('browser.js'), page.inputs.join());
  await fresh.bundle('web/worker.mjs', 'out/esbuild/worker.js', TARGETS.browser);
  await copyFile(join(project, 'node_modules/@tessera/verifier/tessera_verifier_bg.wasm'), join(project, 'out/esbuild/tessera_verifier_bg.wasm'));
  await writeFile(join(project, 'out/esbuild/index.html'), '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>shop</title><script type="module" src="./page.js"></script></head><body></body></html>');
  // Vite: its own build, which copies the wasm as an asset by itself.
  await fresh.run(tool('vite'), ['build', '--logLevel', 'error', '--base', '/out/vite/', '--outDir', '../out/vite', '--emptyOutDir'], { cwd: join(project, 'web') });
  const assets = await fresh.run('ls', ['out/vite/assets']);
  assert.match(assets, /tessera_verifier_bg-.*\.wasm/, 'Vite emitted the wasm');

  const browser = await launchChromium();
  try {
    for (const [name, path] of [
      ['esbuild page', '/out/esbuild/index.html'],
      ['Vite page', '/out/vite/index.html'],
      ['Web Worker', '/workers.html?kind=web'],
      ['Service Worker', '/workers.html?kind=service'],
    ]) {
      const { output, errors } = await inChromium(browser, path);
      t.diagnostic(name);
      assert.equal(verdict(t, output), CONFORMANCE_CHECKS, name);
      assert.deepEqual(errors, [], name);
    }
  } finally {
    await browser.close();
  }
});

/** The options and error codes the Rust side knows, read from its source. */
async function rustSurface() {
  const lib = await readFile(join(workspace, 'verifier/wasm/src/options.rs'), 'utf8');
  const camel = (name) => name.replace(/_([a-z])/g, (_, letter) => letter.toUpperCase());
  const fields = (struct) => {
    const body = new RegExp(`struct ${struct} \\{([^}]*)\\}`).exec(lib)[1];
    return [...body.matchAll(/^\s+(?:pub )?([a-z_]+):/gm)].map((match) => camel(match[1]));
  };
  const errors = await readFile(join(workspace, 'verifier/src/error.rs'), 'utf8');
  return {
    options: fields('Options'),
    remote: fields('RemoteOptions'),
    codes: [...new Set([...errors.matchAll(/=> "(ERR_[A-Z_]+)"/g)].map((match) => match[1]))],
  };
}

test('TypeScript: the shipped types compile in a --strict project that uses every option and error code', async (t) => {
  const { options, remote, codes } = await rustSurface();
  // A value of the declared type for each option the Rust side reads.
  const values = {
    issuer: "['https://id.shop.example']", audience: "'shop-api'", dangerouslyAcceptAnyIssuer: 'false',
    dangerouslyAcceptAnyAudience: 'false', algorithms: "['ES256']", clockTolerance: '5', maxTokenAge: '3600',
    typ: "'at+jwt'", subject: "'pairwise-1'", requiredClaims: "['scope']", rejectPii: 'true', maxTokenBytes: '8192',
    cacheSize: '1000', now: '1800000000', jwks: '{ keys: [] }', remote: '{ REMOTE }',
  };
  const remoteValues = {
    jwksUri: "'https://id.shop.example/jwks'", timeoutMs: '2000', cooldownSeconds: '30', defaultMaxAgeSeconds: '600',
    staleIfErrorSeconds: '86400', dangerouslyAllowHttp: 'false',
  };
  assert.deepEqual(Object.keys(values).sort(), [...options].sort(), 'every option of the Rust side has a value here');
  assert.deepEqual(Object.keys(remoteValues).sort(), [...remote].sort());
  assert.ok(codes.length >= 15);
  const source = `import { authenticate, createVerifier, init, Verifier, VerifyError, type Authentication, type VerifierOptions, type VerifyErrorCode } from '@tessera/verifier';

const options: VerifierOptions = {
  ${Object.entries(values).map(([name, value]) => `${name}: ${value}`).join(',\n  ')},
  engine: 'auto',
};
const forced: VerifierOptions = { ...options, engine: 'webcrypto' };
// @ts-expect-error: an option that does not exist
const misspelt: VerifierOptions = { issuers: 'https://id.shop.example' };
// @ts-expect-error: an engine that does not exist
const unknownEngine: VerifierOptions = { engine: 'openssl' };

function explain(code: VerifyErrorCode): string {
  switch (code) {
${codes.map((code) => `    case '${code}': return '${code}';`).join('\n')}
    default: {
      const unhandled: never = code;
      return unhandled;
    }
  }
}

export async function main(token: string, module: WebAssembly.Module): Promise<string> {
  await init(module);
  const verifier: Verifier = await createVerifier(options);
  const answer: Authentication = await authenticate(verifier, 'Bearer ' + token, { retryAfterSeconds: 10 });
  if (!answer.ok) return answer.status + ' ' + (answer.headers['www-authenticate'] ?? '') + ' ' + (answer.error?.code ?? '');
  try {
    const { header, claims } = await verifier.verify(token);
    await verifier.refresh();
    const snapshot: object | undefined = verifier.snapshot();
    return String(header.alg) + claims.sub + claims.exp.toFixed(0) + String(snapshot) + String(misspelt) + String(unknownEngine) + String(forced);
  } catch (error) {
    if (error instanceof VerifyError) return explain(error.code) + (error.claim ?? '');
    throw error;
  }
}
`.replaceAll('{ REMOTE }', `{ ${Object.entries(remoteValues).map(([name, value]) => `${name}: ${value}`).join(', ')} }`);
  await writeFile(join(project, 'check.ts'), source);
  for (const resolution of [['--module', 'nodenext', '--moduleResolution', 'nodenext'], ['--module', 'esnext', '--moduleResolution', 'bundler']]) {
    try {
      await fresh.run(tool('tsc'), ['--strict', '--exactOptionalPropertyTypes', '--noUncheckedIndexedAccess', '--noEmit',
        '--target', 'es2022', '--lib', 'es2022,dom', '--skipLibCheck', 'false', ...resolution, 'check.ts']);
    } catch (error) {
      assert.fail(`tsc ${resolution.join(' ')}:\n${error.stdout}${error.stderr}`);
    }
    t.diagnostic(`tsc --strict ${resolution.join(' ')}: no errors`);
  }
});

/** The requests every example answers, with tokens signed now. */
async function exampleRequests() {
  const now = Math.floor(Date.now() / 1000);
  const token = (exp) => signRaw('ES256', { alg: 'ES256', kid: 'p256' }, { iss: origin, aud: suite.audience, sub: 'shopper', exp });
  return {
    audience: suite.audience,
    dead: `http://127.0.0.1:${await freePort()}`,
    requests: [
      ['no token', 'live', undefined, { status: 401, challenge: 'Bearer' }],
      ['a Basic header', 'live', 'Basic Zm9vOmJhcg==', { status: 401, challenge: 'Bearer error="invalid_token"' }],
      ['an expired token', 'live', `Bearer ${token(now - 600)}`, { status: 401, challenge: 'Bearer error="invalid_token"' }],
      ['a good token', 'live', `Bearer ${token(now + 600)}`, { status: 200, customer: 'shopper' }],
      ['an issuer that is down', 'dead', `Bearer ${token(now + 600)}`, { status: 503, retryAfter: '30' }],
    ],
  };
}

/** What a response says, in the shape of exampleRequests' expectations. */
const ANSWER_JS = `async function answer(response) {
  const body = await response.text();
  const got = { status: response.status };
  if (response.headers.get('www-authenticate')) got.challenge = response.headers.get('www-authenticate');
  if (response.headers.get('retry-after')) got.retryAfter = response.headers.get('retry-after');
  if (response.status === 200) got.customer = JSON.parse(body).customer;
  if (response.status !== 200 && body !== '') got.body = body;
  if (response.status !== 200 && response.headers.get('cache-control') !== 'no-store') got.cache = response.headers.get('cache-control');
  return got;
}`;

function assertAnswers(t, label, requests, answers) {
  assert.equal(answers.length, requests.length, label);
  for (const [index, [name, , , expected]] of requests.entries()) {
    assert.deepEqual(answers[index], expected, `${label}: ${name}`);
  }
  t.diagnostic(`${label}: ${requests.length} answers as RFC 6750 says`);
}

test('examples: the Hono middleware answers as RFC 6750 says in Node, Deno and Bun', async (t) => {
  const { audience, dead, requests } = await exampleRequests();
  await writeFile(join(project, 'hono-main.mjs'), `
import { shop } from './hono.mjs';
${ANSWER_JS}
const apps = { live: shop({ issuer: ${JSON.stringify(origin)}, audience: ${JSON.stringify(audience)} }), dead: shop({ issuer: ${JSON.stringify(dead)}, audience: ${JSON.stringify(audience)} }) };
const answers = [];
for (const [, app, authorization] of ${JSON.stringify(requests)}) {
  answers.push(await answer(await apps[app].request('/orders', { headers: authorization ? { authorization } : {} })));
}
console.log(JSON.stringify(answers));
`);
  for (const [runtime, program, args] of [
    ['Node', process.execPath, ['hono-main.mjs']],
    ['Deno', tool('deno'), ['run', '--quiet', '--allow-net=127.0.0.1', '--allow-read=.', '--allow-env', '--node-modules-dir=manual', 'hono-main.mjs']],
    ['Bun', tool('bun'), ['hono-main.mjs']],
  ]) {
    const output = await fresh.run(program, args, { env: denoEnvironment(project) });
    assertAnswers(t, `Hono on ${runtime}`, requests, JSON.parse(output.trim().split('\n').pop()));
  }
});

test('examples: Express in Node, and Hono and a plain Worker in workerd, answer as RFC 6750 says over HTTP', async (t) => {
  const { audience, dead, requests } = await exampleRequests();
  const ask = async (origins, label) => {
    const answer = new Function(`return (${ANSWER_JS.replace('async function answer', 'async function')})`)();
    const answers = [];
    for (const [, app, authorization] of requests) {
      answers.push(await answer(await fetch(`${origins[app]}/orders`, { headers: authorization ? { authorization } : {} })));
    }
    assertAnswers(t, label, requests, answers);
  };

  // Express: the example's shop on two ports, one per issuer.
  const ports = { live: await freePort(), dead: await freePort() };
  await writeFile(join(project, 'express-main.mjs'), `
import { shop } from './express.mjs';
(await shop({ issuer: ${JSON.stringify(origin)}, audience: ${JSON.stringify(audience)} })).listen(${ports.live}, '127.0.0.1');
(await shop({ issuer: ${JSON.stringify(dead)}, audience: ${JSON.stringify(audience)} })).listen(${ports.dead}, '127.0.0.1', () => console.log('listening'));
`);
  const express = spawn(process.execPath, ['express-main.mjs'], { cwd: project, stdio: ['ignore', 'pipe', 'ignore'] });
  try {
    await new Promise((done, fail) => {
      express.stdout.on('data', (chunk) => String(chunk).includes('listening') && done());
      express.on('exit', (code) => fail(new Error(`express exited with ${code}`)));
    });
    await ask({ live: `http://127.0.0.1:${ports.live}`, dead: `http://127.0.0.1:${ports.dead}` }, 'Express on Node');
  } finally {
    express.kill();
  }

  // workerd: the Hono app and the plain Worker, bundled as wrangler would,
  // each twice (one per issuer), with the issuer in the Worker's bindings.
  await writeFile(join(project, 'hono-worker.mjs'), `
import { shop } from './hono.mjs';
let app;
export default {
  fetch: (request, env) => new URL(request.url).pathname === '/ready' ? new Response('ready') : (app ??= shop({ issuer: env.ISSUER, audience: env.AUDIENCE })).fetch(request),
};
`);
  await writeFile(join(project, 'plain-worker.mjs'), `
import worker from './worker.mjs';
export default { fetch: (request, env) => new URL(request.url).pathname === '/ready' ? new Response('ready') : worker.fetch(request, env) };
`);
  for (const [label, entry] of [['Hono on workerd', 'hono-worker.mjs'], ['the Worker example on workerd', 'plain-worker.mjs']]) {
    const out = `out/${entry.replace('.mjs', '.js')}`;
    await fresh.bundle(entry, out, TARGETS.workerd);
    const workers = {};
    try {
      for (const [app, issuer] of [['live', origin], ['dead', dead]]) {
        workers[app] = await fresh.startWorkerd(`${entry}-${app}`, [
          ['worker.js', 'esModule', out],
          ['tessera_verifier_bg.wasm', 'wasm', 'node_modules/@tessera/verifier/tessera_verifier_bg.wasm'],
        ], [['ISSUER', issuer], ['AUDIENCE', audience]]);
      }
      await ask({ live: workers.live.origin, dead: workers.dead.origin }, label);
    } finally {
      for (const worker of Object.values(workers)) worker.stop();
    }
  }
});
