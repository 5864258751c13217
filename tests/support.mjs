// Helpers shared by the Node and Chromium tests: free loopback ports, and
// Debian's Chromium started the one way that works on these machines.
import { createServer } from 'node:net';
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
