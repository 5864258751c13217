import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { freePort, launchChromium } from '../../tests/support.mjs';
const [server, runsArg] = process.argv.slice(2);
const runs = Number(runsArg || 10);
const manifest = JSON.parse(readFileSync(new URL('../../dist/widget/manifest.json', import.meta.url))).files;
const integrity = manifest['tessera.js'].integrity;
const stylesheet = Object.keys(manifest).find((name) => /^tessera-[0-9a-f]+\.css$/.test(name));
const script = `<script type="module" src="${server}/widget/v1/tessera.js" integrity="${integrity}" crossorigin="anonymous"></script>`;
const el = `<tessera-login tenant="demo" server="${server}"></tessera-login>`;
const pre = `<link rel="preload" href="${server}/t/demo/start/auto.json" as="fetch" crossorigin="anonymous">
<link rel="preload" href="${server}/t/demo/theme.css" as="style">
<link rel="preload" href="${server}/widget/v1/${stylesheet}" as="style">`;
const pages = {
  '/snippet': `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>t</title></head><body>${script}${el}${pre}</body></html>`,
  '/nopre': `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>t</title></head><body>${script}${el}</body></html>`,
};
const probe = `(() => { const start = () => { const e = performance.getEntriesByType('resource').find((e) => e.initiatorType === 'script'); return e ? e.startTime : 0; };
 const tick = () => { const h = document.querySelector('tessera-login'); const r = h && h.shadowRoot; const now = performance.now();
  if (r && window.firstContent === undefined && r.querySelector('*:not(link):not(style)')) window.firstContent = now - start();
  if (r && r.querySelector('section[part=root] button')) { window.firstPaint = now - start(); return; } requestAnimationFrame(tick); }; requestAnimationFrame(tick); })();`;
const port = await freePort();
const local = createServer((q, r) => { r.setHeader('content-type', 'text/html'); r.end(pages[q.url] ?? ''); });
await new Promise((res) => local.listen(port, '127.0.0.1', res));
const browser = await launchChromium();
const out = {};
for (let run = 0; run < runs; run++) {
  for (const path of Object.keys(pages)) {
    const context = await browser.newContext();
    await context.addInitScript(probe);
    const tab = await context.newPage();
    await tab.goto(`http://127.0.0.1:${port}${path}`);
    await tab.waitForFunction(() => window.firstPaint !== undefined, null, { timeout: 20000 });
    const [p, c] = await tab.evaluate(() => [window.firstPaint, window.firstContent]);
    (out[path] ??= { paint: [], content: [] }); out[path].paint.push(p); out[path].content.push(c);
    await context.close();
  }
}
const med = (a) => a.sort((x, y) => x - y)[a.length >> 1].toFixed(1);
for (const [k, v] of Object.entries(out)) console.log(k, 'paint', med(v.paint), 'content', med(v.content));
await browser.close(); local.close();
