import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, launchChromium } from '../../tests/support.mjs';
const [server, folder] = process.argv.slice(2);
const integrity = `sha384-${createHash('sha384').update(readFileSync(join(folder, 'tessera.js'))).digest('base64')}`;
const stylesheet = readdirSync(folder).find((n) => /^tessera-[0-9a-f]+\.css$/.test(n));
const page = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>t</title></head><body>
<script type="module" src="${server}/widget/v1/tessera.js" integrity="${integrity}" crossorigin="anonymous"></script>
<tessera-login tenant="demo" server="${server}"></tessera-login>
<link rel="preload" href="${server}/t/demo/start/auto.json" as="fetch" crossorigin="anonymous">
<link rel="preload" href="${server}/t/demo/theme.css" as="style">
<link rel="preload" href="${server}/widget/v1/${stylesheet}" as="style"></body></html>`;
const port = await freePort();
const local = createServer((q, r) => { r.setHeader('content-type', 'text/html'); r.end(page); });
await new Promise((res) => local.listen(port, '127.0.0.1', res));
const browser = await launchChromium();
const context = await browser.newContext();
const tab = await context.newPage();
const requests = [];
tab.on('request', (r) => requests.push(r.url().split('/').pop()));
const messages = [];
tab.on('console', (m) => messages.push(m.text()));
await tab.goto(`http://127.0.0.1:${port}/`);
await tab.waitForFunction(() => document.querySelector('tessera-login')?.shadowRoot?.querySelector('section[part=root] button'));
await tab.waitForTimeout(1500);
console.log(requests.join(' '));
console.log('console:', messages.join(' | '));
console.log(await tab.evaluate(() => document.querySelector('tessera-login').shadowRoot.innerHTML.slice(0, 300)));
await browser.close(); local.close();
