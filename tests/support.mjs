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
