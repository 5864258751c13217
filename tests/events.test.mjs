// IdP events end to end with an identity provider nobody here wrote: npm's
// oidc-provider sends an OpenID Connect Back-Channel Logout token to the
// demo tenant's event source when the customer signs out at the provider
// (in another tab); Tessera verifies it with the provider's keys and
// relays `session.revoked` to the demo shop, whose API then refuses the
// tokens issued before it, and the widget on the shop's page shows the
// session ended. A new sign-in afterwards is served.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { accessibilityViolations, freePort, launchChromium, recorderScript, startTessera } from './support.mjs';
import { startOidcProvider } from './oidc-provider.mjs';

let tessera;
let idp;
let browser;
let dataDir;

const api = (path, init = {}) => fetch(`${tessera.server}${path}`, {
  ...init,
  headers: { authorization: `Bearer ${tessera.adminToken}`, 'content-type': 'application/json', ...init.headers },
});

before(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'tessera-events-'));
  const [port, idpPort] = [await freePort(), await freePort()];
  // Tessera first (the source's URL is the provider's configuration),
  // told the issuer the provider will have.
  tessera = await startTessera({ dataDir, port, extraArguments: ['--demo-issuer', `http://127.0.0.1:${idpPort}`] });
  const created = await api('/api/tenants/demo/event-sources', {
    method: 'POST',
    body: JSON.stringify({ label: 'oidc-provider', format: 'back-channel-logout' }),
  });
  assert.equal(created.status, 201, await created.clone().text());
  const source = await created.json();
  assert.equal(source.audience, 'demo', 'a logout token names the client');
  idp = await startOidcProvider({ shopOrigin: tessera.server, port: idpPort, backchannelLogoutUri: source.url });
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await tessera?.stop();
  await idp?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

async function signIn(tab, login) {
  await tab.goto(`${tessera.server}/demo/`);
  await tab.locator('tessera-login button.primary').click({ timeout: 15_000 });
  await tab.waitForURL(`${idp.issuer}/**`, { timeout: 15_000 });
  if (await tab.locator('input[name=login]').count()) {
    await tab.locator('input[name=login]').fill(login);
    await tab.locator('input[name=password]').fill('any password');
    await tab.locator('button[type=submit]').click();
  }
  await tab.locator('button[type=submit]', { hasText: /continue|authorize/i }).click({ timeout: 15_000 });
  await tab.waitForURL(`${tessera.server}/demo/**`, { timeout: 15_000 });
  await tab.locator('tessera-login .status').waitFor({ state: 'visible', timeout: 15_000 });
}

const ordersStatus = (tab) => tab.evaluate(() => Tessera.fetch('/demo/api/orders').then((answer) => answer.status));

test('signing out at the IdP ends the session at the shop within a second, and the widget says so', async () => {
  const context = await browser.newContext({ locale: 'en-US' });
  await context.addInitScript(recorderScript);
  const tab = await context.newPage();
  const errors = [];
  tab.on('pageerror', (error) => errors.push(String(error)));
  await signIn(tab, 'bea-events');
  assert.equal(await ordersStatus(tab), 200);

  // The customer signs out at the provider itself, in another tab.
  const provider = await context.newPage();
  await provider.goto(`${idp.issuer}/session/end`);
  const signedOutAt = Date.now();
  await provider.locator('button[autofocus], button[name=logout]').first().click();
  let status = 200;
  while (status === 200 && Date.now() - signedOutAt < 10_000) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    status = await ordersStatus(tab);
  }
  const elapsed = Date.now() - signedOutAt;
  console.log(`# back-channel logout to the shop's refusal: ${elapsed} ms`);
  assert.equal(status, 401, 'the shop refuses the session\'s token');
  assert.ok(elapsed < 1000, `refused after ${elapsed} ms`);
  // The 401 ended the widget's session, and it says so.
  const alert = tab.locator('tessera-login [role=alert]');
  await alert.waitFor({ state: 'visible', timeout: 15_000 });
  assert.match(await alert.textContent(), /session has ended/);

  // What happened, as the API shows it: one event, delivered.
  const [source] = await (await api('/api/tenants/demo/event-sources')).json();
  assert.equal(source.received, 1);
  const deliveries = await (await api('/api/tenants/demo/event-deliveries')).json();
  assert.deepEqual(deliveries.map((delivery) => [delivery.type, delivery.state]), [['session.revoked', 'delivered']]);

  // A new sign-in (a token issued after the event) is served.
  await new Promise((resolve) => setTimeout(resolve, 1100));
  await signIn(tab, 'bea-events');
  assert.equal(await ordersStatus(tab), 200);
  assert.deepEqual(await tab.evaluate(() => window.violations), []);
  assert.deepEqual(errors, []);
  await context.close();
});

test('forged and malformed logout tokens are refused and change nothing', async () => {
  const [source] = await (await api('/api/tenants/demo/event-sources')).json();
  const post = (body) => fetch(source.url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body });
  const { SignJWT, generateKeyPair } = await import('jose');
  const { privateKey } = await generateKeyPair('RS256');
  const forged = await new SignJWT({ sub: 'bea-events', events: { 'http://schemas.openid.net/event/backchannel-logout': {} } })
    .setProtectedHeader({ alg: 'RS256', typ: 'logout+jwt', kid: 'interop-rs256' })
    .setIssuer(idp.issuer).setAudience('demo').setIssuedAt().setExpirationTime('2m').setJti('forged-1')
    .sign(privateKey);
  for (const body of [`logout_token=${forged}`, 'logout_token=not.a.token', 'nothing=here']) {
    const answer = await post(body);
    assert.equal(answer.status, 400, body.slice(0, 20));
    assert.equal((await answer.json()).error, 'invalid_request');
    assert.equal(answer.headers.get('cache-control'), 'no-store');
  }
  const after = (await (await api('/api/tenants/demo/event-sources')).json())[0];
  assert.equal(after.refused, source.refused + 3);
  assert.equal(after.received, source.received, 'nothing accepted');
});

test('the console lists the source, its refusals and the delivery, by keyboard and without a violation', async () => {
  const context = await browser.newContext({ locale: 'en-US' });
  await context.addInitScript(recorderScript);
  const page = await context.newPage();
  await page.goto(tessera.consoleLink);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await page.waitForURL(`${tessera.server}/console/`);
  await page.goto(`${tessera.server}/console/tenants/demo`);
  await page.getByRole('link', { name: 'IdP events' }).focus();
  await page.keyboard.press('Enter');
  await page.waitForURL(`${tessera.server}/console/tenants/demo/events`);
  const sources = await page.locator('table.sources').textContent();
  assert.match(sources, /oidc-provider[\s\S]*back-channel-logout/);
  assert.match(sources, /event_(signature_invalid|malformed)/, 'the last refusal is named');
  assert.match(await page.locator('table.deliveries').textContent(), /session\.revoked[\s\S]*delivered/);
  assert.match(await page.locator('table.endpoints').textContent(), /\/demo\/webhooks\/idp/);
  assert.deepEqual(await page.evaluate(() => window.violations), []);
  assert.deepEqual(await accessibilityViolations(page, 'html'), []);
  await context.close();
});
