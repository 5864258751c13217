// Interop with an identity provider nobody here wrote: the demo storefront
// signs in through the pasted widget at npm's oidc-provider (a certified
// OpenID Provider), orders with the JWT access token that provider issues for
// the shop's audience, and signs out at the provider's end_session endpoint.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, launchChromium, recorderScript, startTessera } from './support.mjs';
import { INTEROP_USER, startOidcProvider } from './oidc-provider.mjs';

let tessera;
let idp;
let browser;
let dataDir;

before(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'tessera-interop-'));
  const port = await freePort();
  idp = await startOidcProvider({ shopOrigin: `http://127.0.0.1:${port}` });
  tessera = await startTessera({ dataDir, port, extraArguments: ['--demo-issuer', idp.issuer] });
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await tessera?.stop();
  await idp?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

test('oidc-provider: sign in through the widget, order, My orders, sign out', async () => {
  const shop = `${tessera.server}/demo`;
  const context = await browser.newContext({ locale: 'en-US' });
  await context.addInitScript(recorderScript);
  const tab = await context.newPage();
  const errors = [];
  tab.on('pageerror', (error) => errors.push(String(error)));
  await tab.goto(`${shop}/`);
  const widget = tab.locator('tessera-login');
  await widget.locator('button.primary').click({ timeout: 15_000 });

  // oidc-provider's own development pages: log in, then consent.
  await tab.waitForURL(`${idp.issuer}/**`, { timeout: 15_000 });
  await tab.locator('input[name=login]').fill('ada-interop');
  await tab.locator('input[name=password]').fill('any password');
  await tab.locator('button[type=submit]').click();
  await tab.locator('button[type=submit]', { hasText: /continue|authorize/i }).click({ timeout: 15_000 });

  await tab.waitForURL(`${shop}/**`, { timeout: 15_000 });
  await widget.locator('.status').waitFor({ state: 'visible', timeout: 15_000 });
  const login = (await tab.evaluate(() => window.events)).find((e) => e.name === 'tessera:login');
  assert.equal(login.detail.sub, 'ada-interop', 'oidc-provider uses the account id as sub');
  assert.equal(login.detail.claims.iss, idp.issuer);
  // Every end-user claim the IdP sent (Core 5.1) is kept from the page, name
  // and value, except sub and the *_verified booleans.
  const seen = JSON.stringify(login.detail);
  for (const [claim, value] of Object.entries(INTEROP_USER)) {
    assert.ok(!(claim in login.detail.claims), `${claim} reached the page`);
    assert.ok(!seen.includes(JSON.stringify(value)), `the value of ${claim} reached the page`);
  }
  assert.equal(login.detail.claims.email_verified, true, 'the verified booleans are not personal');
  // The access token lives 300 s, the ID token 3600 s: expiresAt is the
  // access token's, the one API calls carry.
  const lifetime = login.detail.expiresAt - Date.now() / 1000;
  assert.ok(lifetime > 240 && lifetime <= 300, `expiresAt is ${Math.round(lifetime)} s away`);
  const passport = await tab.evaluate(() => document.querySelector('tessera-login').passport);
  assert.deepEqual(passport.claims, login.detail.claims, 'element.passport is the same');

  await tab.locator('button.add[data-sku=tile-saffron]').click();
  await tab.locator('#place-order').click();
  await tab.waitForFunction(() => /Order \d+ placed/.test(document.querySelector('#status').textContent), null, { timeout: 15_000 });
  await tab.locator('nav a', { hasText: 'My orders' }).click();
  await tab.locator('#order-list > li').first().waitFor({ timeout: 15_000 });
  assert.match(await tab.locator('#order-list').textContent(), /1 × Saffron tile/);

  await widget.locator('button.secondary').click();
  // oidc-provider asks before it ends its session, then returns to the shop.
  await tab.waitForURL(`${idp.issuer}/**`, { timeout: 15_000 });
  await tab.locator('button[autofocus], button[name=logout]').first().click();
  await tab.waitForURL(`${shop}/orders**`, { timeout: 15_000 });
  await tab.locator('#orders-signed-out').waitFor({ state: 'visible', timeout: 15_000 });
  assert.deepEqual(await tab.evaluate(() => window.violations), []);
  assert.deepEqual(errors, []);

  const files = readdirSync(dataDir).filter((name) => name.startsWith('demo-storefront.sqlite3'));
  for (const haystack of [...files.map((name) => readFileSync(join(dataDir, name)).toString('latin1')), tessera.output()]) {
    for (const needle of [INTEROP_USER.name, INTEROP_USER.email, INTEROP_USER.phone_number]) assert.ok(!haystack.includes(needle), `found ${needle}`);
  }
});
