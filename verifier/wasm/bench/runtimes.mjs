// @tessera/verifier beside jose in every runtime the package is for, as
// users install it (the fresh project of the runtime tests). Usage:
//   node runtimes.mjs TOKENS_JSON
// where TOKENS_JSON is what verify.bench.mjs wrote (keys and tokens, so the
// figures are on the same tokens as the Node and native ones). Prints one
// JSON object: { results: [{ library: "tessera <runtime>" | "jose
// <runtime>", alg, ops }], runtimes: { <runtime>: "<version>, <engine>" } }.
//
// workerd only lets its clock move between I/O (a defence against timing
// attacks), so there the Worker runs a given number of verifications per
// request and this driver times two request sizes from outside: the rate is
// the difference in count over the difference in time.
import { readFile, writeFile, copyFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { FreshProject, TARGETS, denoEnvironment, tool } from '../tests/runtimes/fresh.mjs';
import { launchChromium } from '../../../tests/support.mjs';
import { RUN_NAMES, inTurns } from './measure.mjs';

const input = JSON.parse(await readFile(process.argv[2] ?? 'target/bench/tokens.json', 'utf8'));
const seconds = Number(process.env.TESSERA_BENCH_SECONDS ?? '1.5');
const fresh = await FreshProject.create(['jose']);
const results = [];
const runtimes = {};
const record = (runtime, figures) => {
  for (const { library, alg, ops } of figures) results.push({ library: `${library} ${runtime}`, alg, ops });
};

try {
  await copyFile(new URL('./measure.mjs', import.meta.url), join(fresh.dir, 'measure.mjs'));
  const header = `
import * as tessera from '@tessera/verifier';
import * as jose from 'jose';
import { measureAll, prepare, repeat } from './measure.mjs';
const input = ${JSON.stringify(input)};
const seconds = ${seconds};
`;

  // Node, Deno and Bun: unbundled, the node entry (node:crypto).
  await writeFile(join(fresh.dir, 'bench-main.mjs'), `${header}
console.log(JSON.stringify(await measureAll(await prepare({ tessera, jose }, input), seconds)));
`);
  for (const [runtime, program, args, version] of [
    ['Node', process.execPath, ['bench-main.mjs'], [process.execPath, ['--version']]],
    ['Deno', tool('deno'), ['run', '--quiet', '--allow-read=.', '--node-modules-dir=manual', 'bench-main.mjs'], [tool('deno'), ['--version']]],
    ['Bun', tool('bun'), ['bench-main.mjs'], [tool('bun'), ['--version']]],
  ]) {
    const output = await fresh.run(program, args, { env: denoEnvironment(fresh.dir) });
    record(runtime, JSON.parse(output.trim().split('\n').pop()));
    runtimes[runtime] = `${(await fresh.run(...version)).split('\n')[0].trim()}, node:crypto`;
  }

  // workerd: bundled as wrangler does; timed from outside (see above).
  await writeFile(join(fresh.dir, 'bench-worker.mjs'), `${header}
let runs;
export default {
  async fetch(request) {
    const url = new URL(request.url);
    if (url.pathname === '/ready') return new Response('ready');
    runs ??= await prepare({ tessera, jose }, input);
    await repeat(runs[url.searchParams.get('run')], Number(url.searchParams.get('count')));
    return new Response('done');
  },
};
`);
  await fresh.bundle('bench-worker.mjs', 'out/bench-worker.js', TARGETS.workerd);
  const worker = await fresh.startWorkerd('bench', [
    ['worker.js', 'esModule', 'out/bench-worker.js'],
    ['tessera_verifier_bg.wasm', 'wasm', 'node_modules/@tessera/verifier/tessera_verifier_bg.wasm'],
  ]);
  try {
    const timed = async (run, count) => {
      const start = performance.now();
      const response = await fetch(`${worker.origin}/?run=${encodeURIComponent(run)}&count=${count}`);
      if ((await response.text()) !== 'done') throw new Error(`workerd: ${run} failed:\n${worker.log()}`);
      return performance.now() - start;
    };
    // In turns, as measureAll times them.
    record('workerd', await inTurns(RUN_NAMES, async (run) => {
      await timed(run, 200);
      // Size the long request to about `seconds`, then time both sizes.
      const small = 100;
      const probe = await timed(run, 1000);
      const large = Math.max(2000, Math.round((1000 * seconds * 1000) / Math.max(probe, 1)));
      const elapsed = (await timed(run, large)) - (await timed(run, small));
      return (large - small) / (Math.max(elapsed, 1) / 1000);
    }));
  } finally {
    worker.stop();
  }
  runtimes.workerd = `${(await fresh.run(tool('workerd'), ['--version'])).trim()}, node:crypto (RS, ES, EdDSA) and WebCrypto (PS)`;

  // Vercel's edge runtime: bundled as Vercel's builder does.
  await writeFile(join(fresh.dir, 'bench-edge.mjs'), `${header}
globalThis.benchResult = prepare({ tessera, jose }, input).then((runs) => measureAll(runs, seconds, () => Date.now()));
`);
  record('edge-runtime', (await fresh.runOnEdgeRuntime('bench-edge.mjs', 'out/bench-edge.js', 'globalThis.benchResult')).value);
  const edgeVersion = JSON.parse(await readFile(join(tool('edge-runtime'), '../../edge-runtime/package.json'), 'utf8')).version;
  runtimes['edge-runtime'] = `${edgeVersion}, WebCrypto`;

  // Chromium: a page built by esbuild, served from loopback.
  await mkdir(join(fresh.dir, 'web'), { recursive: true });
  await writeFile(join(fresh.dir, 'bench-page.mjs'), `${header}
prepare({ tessera, jose }, input).then((runs) => measureAll(runs, seconds)).then((figures) => { window.benchResult = figures; }, (error) => { window.benchResult = String(error); });
`);
  await fresh.bundle('bench-page.mjs', 'web/bench.js', TARGETS.browser);
  await copyFile(fresh.wasm, join(fresh.dir, 'web/tessera_verifier_bg.wasm'));
  const { createServer } = await import('node:http');
  const types = { '.js': 'text/javascript', '.wasm': 'application/wasm' };
  const server = createServer(async (request, response) => {
    const name = new URL(request.url, 'http://localhost').pathname.slice(1);
    if (name === '') return response.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>bench</title><script type="module" src="/bench.js"></script>');
    if (!['bench.js', 'tessera_verifier_bg.wasm'].includes(name)) return response.writeHead(404).end();
    response.writeHead(200, { 'content-type': types[name.slice(name.lastIndexOf('.'))] }).end(await readFile(join(fresh.dir, 'web', name)));
  });
  await new Promise((done) => server.listen(0, '127.0.0.1', done));
  const browser = await launchChromium();
  try {
    const tab = await browser.newPage();
    await tab.goto(`http://127.0.0.1:${server.address().port}/`);
    await tab.waitForFunction(() => window.benchResult !== undefined, null, { timeout: 300_000 });
    const figures = await tab.evaluate(() => window.benchResult);
    if (typeof figures === 'string') throw new Error(`Chromium: ${figures}`);
    record('Chromium', figures);
    runtimes.Chromium = `${browser.version()}, WebCrypto`;
  } finally {
    await browser.close();
    server.close();
  }
} finally {
  await fresh.remove();
}
console.log(JSON.stringify({ runtimes, results }));
