// The demo storefront end to end in Chromium against the real `tessera dev`:
// sign in through the pasted widget at the development issuer, order, see the
// order under My orders, sign out; expired and tampered passports; the
// Standard Webhooks erasure; the strict CSP; axe-core; `ar` and popup mode.
// Afterwards the storefront's database files and the server's logs are
// searched for the demo user's name and email: they must not be there.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignJWT, importPKCS8 } from 'jose';
import { accessibilityViolations, launchChromium, personalDataIn, recorderScript, startTessera } from './support.mjs';

let tessera;
let browser;
let dataDir;
let shop;

before(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'tessera-storefront-'));
  // The development issuer's key, as an older release kept it in the data
  // folder: the issuer adopts it (into its database), and this test can
  // sign passports the issuer would never mint.
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  writeFileSync(join(dataDir, 'dev-issuer-es256.p8'), privateKey.export({ type: 'pkcs8', format: 'der' }));
  writeFileSync(join(dataDir, 'dev-issuer-pairwise.secret'), randomBytes(32));
  // Debug logging for the server's own crates: even then nothing personal.
  tessera = await startTessera({ dataDir, environment: { RUST_LOG: 'debug,sqlx=warn,hyper=info,h2=info' } });
  shop = `${tessera.server}/demo`;
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await tessera?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

async function open(path, locale = 'en-US') {
  const context = await browser.newContext({ locale });
  await context.addInitScript(recorderScript);
  const tab = await context.newPage();
  const errors = [];
  tab.on('pageerror', (error) => errors.push(String(error)));
  await tab.goto(shop + path);
  return { context, tab, errors };
}

const widget = (tab) => tab.locator('tessera-login');
const status = (tab) => tab.locator('#status');

/** From the shop page: the widget's sign-in, the issuer's page, back. */
async function signIn(tab, user = 'ada') {
  await widget(tab).locator('button.primary').click({ timeout: 15_000 });
  await tab.waitForURL(/\/dev\/oidc\/authorize/, { timeout: 15_000 });
  await tab.locator(`input[name=user][value=${user}]`).check();
  await tab.locator('button.allow').click();
  await widget(tab).locator('.status').waitFor({ state: 'visible', timeout: 15_000 });
}

async function placeOrder(tab, skus) {
  for (const sku of skus) await tab.locator(`button.add[data-sku=${sku}]`).click();
  await tab.locator('#place-order').click();
  await tab.waitForFunction(() => /Order \d+ placed/.test(document.querySelector('#status').textContent), null, { timeout: 15_000 });
  return Number((await status(tab).textContent()).match(/Order (\d+)/)[1]);
}

const noViolations = async (tab, where) => assert.deepEqual(await tab.evaluate(() => window.violations), [], where);

test('the pages carry the snippet exactly, under exactly its policy', async () => {
  const headers = { authorization: `Bearer ${tessera.adminToken}` };
  const snippet = await (await fetch(`${tessera.server}/api/tenants/demo/snippet`, { headers })).json();
  const popup = await (await fetch(`${tessera.server}/api/tenants/demo/snippet?mode=popup`, { headers })).json();
  for (const [path, expected] of [['/', snippet.html], ['/orders', popup.html]]) {
    const page = await fetch(shop + path);
    assert.ok((await page.text()).includes(expected), `${path} pastes the snippet as printed`);
    assert.equal(page.headers.get('content-security-policy'),
      `default-src 'none'; ${snippet.content_security_policy_header}; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`);
  }
  const wrongMode = await fetch(`${tessera.server}/api/tenants/demo/snippet?mode=iframe`, { headers });
  assert.equal(wrongMode.status, 400);
});

test('dev issuer: sign in, order, find it under My orders, sign out', async () => {
  const { tab, errors } = await open('/');
  await signIn(tab);
  const login = (await tab.evaluate(() => window.events)).find((e) => e.name === 'tessera:login');
  assert.equal(personalDataIn(login.detail), undefined, `personal data reached the page: ${JSON.stringify(login.detail)}`);
  const order = await placeOrder(tab, ['tile-cobalt', 'tile-cobalt', 'nippers']);
  await noViolations(tab, 'catalog, signed in');

  // The loader is async, so the widget may restore the session before the
  // page's own script runs and hears no `tessera:login`. Hold the page
  // script back until the widget has restored it, so this order of events,
  // which otherwise happens only sometimes, happens every time: the page must
  // then read `element.passport`.
  await tab.route(`${shop}/assets/shop.js`, async (route) => {
    await tab.waitForFunction(() => document.querySelector('tessera-login')?.passport, null, { timeout: 15_000 });
    await route.continue();
  }, { times: 1 });
  await tab.locator('nav a', { hasText: 'My orders' }).click();
  await tab.waitForURL(`${shop}/orders`);
  // The tenant keeps the session in this tab's sessionStorage: no new sign-in.
  await widget(tab).locator('.status').waitFor({ state: 'visible', timeout: 15_000 });
  const mine = tab.locator('#order-list > li');
  await mine.first().waitFor({ timeout: 15_000 });
  assert.equal(await mine.count(), 1);
  assert.match(await mine.first().textContent(), new RegExp(`Order ${order}.*€27\\.50.*2 × Cobalt tile.*1 × Wheeled nippers`, 's'));
  await noViolations(tab, 'orders, signed in');
  assert.deepEqual(await accessibilityViolations(tab, 'body'), [], 'My orders, signed in');

  await widget(tab).locator('button.secondary').click();
  await tab.waitForURL(`${shop}/orders**`, { timeout: 15_000 });
  await tab.locator('#orders-signed-out').waitFor({ state: 'visible', timeout: 15_000 });
  assert.equal(await mine.count(), 0);
  assert.deepEqual(errors, []);
});

/** A passport signed with the development issuer's own key (the one this
 * test put in its data folder), so only the header's `typ` and the claims
 * decide whether the shop accepts it. */
async function devIssuerToken(claims, typ = 'at+jwt') {
  const der = readFileSync(join(dataDir, 'dev-issuer-es256.p8'));
  const pem = `-----BEGIN PRIVATE KEY-----\n${der.toString('base64').match(/.{1,64}/g).join('\n')}\n-----END PRIVATE KEY-----\n`;
  const key = await importPKCS8(pem, 'ES256');
  const { keys: [{ kid }] } = await (await fetch(`${tessera.server}/dev/oidc/jwks`)).json();
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ iss: `${tessera.server}/dev/oidc`, aud: 'demo-shop-api', sub: 'pairwise-test', client_id: 'demo', iat: now, exp: now + 600, ...claims })
    .setProtectedHeader({ alg: 'ES256', typ, kid })
    .sign(key);
}

test('expired and tampered passports get 401, and the widget recovers with a clear message', async () => {
  const now = Math.floor(Date.now() / 1000);
  const valid = await devIssuerToken({});
  const expired = await devIssuerToken({ iat: now - 1200, exp: now - 600 });
  const personal = await devIssuerToken({ email: 'ada@example.test' });
  const anotherClient = await devIssuerToken({ client_id: 'other-shop' });
  const idTokenType = await devIssuerToken({}, 'JWT');
  const tampered = valid.slice(0, valid.indexOf('.') + 1)
    + Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(valid.split('.')[1], 'base64url')), sub: 'someone-else' })).toString('base64url')
    + valid.slice(valid.lastIndexOf('.'));
  const call = (token) => fetch(`${shop}/api/orders`, { headers: { authorization: `Bearer ${token}` } });
  assert.equal((await call(valid)).status, 200, 'the key and claims are right');
  for (const [name, token] of [['expired', expired], ['tampered', tampered], ['carrying an email', personal],
    ['for another client', anotherClient], ['typ JWT', idTokenType]]) {
    const answer = await call(token);
    assert.equal(answer.status, 401, name);
    assert.equal(answer.headers.get('www-authenticate'), 'Bearer error="invalid_token"', name);
    assert.equal(await answer.text(), '', `${name}: no detail for the caller`);
  }

  for (const [name, token] of [['expired', expired], ['tampered', tampered]]) {
    const { tab, errors } = await open('/');
    await signIn(tab);
    // The browser now holds a passport the API will refuse.
    await tab.route('**/demo/api/orders', (route) => route.continue({
      headers: { ...route.request().headers(), authorization: `Bearer ${token}` },
    }));
    await tab.locator('button.add[data-sku=nippers]').click();
    await tab.locator('#place-order').click();
    const alert = widget(tab).locator('[role=alert]');
    await alert.waitFor({ state: 'visible', timeout: 15_000 });
    assert.match(await alert.textContent(), /session has ended/, name);
    await widget(tab).locator('button.primary').waitFor({ state: 'visible' });
    assert.match(await status(tab).textContent(), /session has ended/);
    const events = await tab.evaluate(() => window.events.map((e) => e.name + ':' + (e.detail?.code ?? '')));
    assert.ok(events.includes('tessera:error:session_expired'), `${name}: ${events}`);
    assert.ok(events.includes('tessera:logout:'), `${name}: ${events}`);
    assert.equal(await tab.locator('#place-order').isDisabled(), true);
    await noViolations(tab, name);
    assert.deepEqual(errors, []);
  }
});

function webhook(body, { id, secret, timestamp = Math.floor(Date.now() / 1000) }) {
  const key = Buffer.from(secret.trim().replace(/^whsec_/, ''), 'base64');
  const text = JSON.stringify(body);
  const signature = createHmac('sha256', key).update(`${id}.${timestamp}.${text}`).digest('base64');
  return fetch(`${shop}/webhooks/idp`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'webhook-id': id, 'webhook-timestamp': String(timestamp), 'webhook-signature': `v1,${signature}` },
    body: text,
  });
}

test('the erasure webhook removes the customer; the export then shows nothing', async () => {
  const { tab } = await open('/');
  await signIn(tab, 'grace');
  await placeOrder(tab, ['mosaic-kit']);
  const sub = await tab.evaluate(() => document.querySelector('tessera-login').passport.sub);
  const event = { type: 'user.deleted', timestamp: new Date().toISOString(), data: { sub } };
  const secret = readFileSync(join(dataDir, 'demo-webhook.secret'), 'utf8');

  const forged = await webhook(event, { id: 'msg_forged', secret: `whsec_${Buffer.alloc(32, 7).toString('base64')}` });
  assert.equal(forged.status, 401);
  const stale = await webhook(event, { id: 'msg_stale', secret, timestamp: Math.floor(Date.now() / 1000) - 3600 });
  assert.equal(stale.status, 401);
  await tab.goto(`${shop}/orders`);
  await tab.locator('#order-list > li').first().waitFor({ timeout: 15_000 });

  const erased = await webhook(event, { id: 'msg_erase_1', secret });
  assert.equal(erased.status, 200);
  assert.deepEqual(await erased.json(), { status: 'erased', erased_orders: 1 });
  // The same delivery again is recognised (answered 2xx so a sender
  // stops retrying) and changes nothing; a new one is idempotent.
  const replayed = await webhook(event, { id: 'msg_erase_1', secret });
  assert.equal(replayed.status, 200);
  assert.deepEqual(await replayed.json(), { status: 'duplicate', erased_orders: 0 });
  const again = await webhook(event, { id: 'msg_erase_2', secret });
  assert.deepEqual(await again.json(), { status: 'erased', erased_orders: 0 }, 'idempotent');

  // Her token is still valid, but the shop keeps a tombstone for the
  // erased subject: the export is refused and the widget ends the session.
  await tab.locator('#export').click();
  const alert = widget(tab).locator('[role=alert]');
  await alert.waitFor({ state: 'visible', timeout: 15_000 });
  assert.match(await alert.textContent(), /session has ended/);
  assert.equal(await tab.locator('#export-output').isVisible(), false, 'nothing exported');
});

test('axe-core finds no WCAG 2.1 AA violation in the shop and its widget', async () => {
  for (const [path, locale] of [['/', 'en-US'], ['/orders', 'en-US'], ['/', 'ar']]) {
    const { tab } = await open(path, locale);
    await widget(tab).locator('section').waitFor({ state: 'visible', timeout: 15_000 });
    await noViolations(tab, path);
    assert.deepEqual(await accessibilityViolations(tab, 'body'), [], `${path} ${locale}`);
  }
});

test('ar renders right to left; popup mode signs in on My orders', async () => {
  const { context, tab, errors } = await open('/orders', 'ar');
  const section = widget(tab).locator('section');
  await section.waitFor({ state: 'visible', timeout: 15_000 });
  assert.equal(await section.getAttribute('dir'), 'rtl');
  assert.equal(await section.getAttribute('lang'), 'ar');
  const popupOpened = context.waitForEvent('page');
  await widget(tab).locator('button.primary').click();
  const popup = await popupOpened;
  await popup.waitForURL(/\/dev\/oidc\/authorize/, { timeout: 15_000 });
  assert.equal(new URL(popup.url()).searchParams.get('ui_locales'), 'ar');
  // Waited for before the click: the popup can close before a listener
  // attached after it would hear the event.
  const closed = popup.waitForEvent('close', { timeout: 15_000 });
  await popup.locator('button.allow').click();
  await closed;
  // The page never left: it was signed in through the popup's message.
  assert.equal(tab.url(), `${shop}/orders`);
  await widget(tab).locator('.status').waitFor({ state: 'visible', timeout: 15_000 });
  // Ada ordered earlier: her orders load on the page that stayed.
  await tab.locator('#order-list > li').first().waitFor({ timeout: 15_000 });
  await noViolations(tab, 'popup');
  assert.deepEqual(errors, []);

  // Closing the popup without signing in is a cancellation, said clearly.
  await widget(tab).locator('button.secondary').click();
  await tab.waitForURL(`${shop}/orders**`, { timeout: 15_000 });
  const again = context.waitForEvent('page');
  await widget(tab).locator('button.primary').click({ timeout: 15_000 });
  await (await again).close();
  const alert = widget(tab).locator('[role=alert]');
  await alert.waitFor({ state: 'visible', timeout: 15_000 });
  const events = await tab.evaluate(() => window.events.map((e) => e.detail?.code).filter(Boolean));
  assert.ok(events.includes('cancelled'), String(events));

  // The popup posts its message and closes; the page may see it closed
  // before the message arrives (they travel by different paths). Here the
  // page gets the message 500 ms late, after it has seen the popup closed:
  // still a sign-in, not a cancellation.
  await tab.evaluate(() => {
    window.addEventListener('message', (event) => {
      if (event.data?.type !== 'tessera:callback' || event.tesseraHeld) return;
      event.stopImmediatePropagation();
      const { data, origin, source } = event;
      setTimeout(() => {
        const late = new MessageEvent('message', { data, origin, source });
        late.tesseraHeld = true;
        window.dispatchEvent(late);
      }, 500);
    }, { capture: true });
  });
  const late = context.waitForEvent('page');
  await widget(tab).locator('button.primary').click({ timeout: 15_000 });
  const latePopup = await late;
  await latePopup.waitForURL(/\/dev\/oidc\/authorize/, { timeout: 15_000 });
  const lateClosed = latePopup.waitForEvent('close', { timeout: 15_000 });
  await latePopup.locator('button.allow').click();
  await lateClosed;
  await widget(tab).locator('.status').waitFor({ state: 'visible', timeout: 15_000 });
  const after = await tab.evaluate(() => window.events.map((e) => e.detail?.code).filter(Boolean));
  assert.equal(after.filter((code) => code === 'cancelled').length, 1, String(after));
});

test('no name or email in the storefront database files or the logs', async () => {
  const files = readdirSync(dataDir).filter((name) => name.startsWith('demo-storefront.sqlite3'));
  assert.ok(files.length >= 1, 'the storefront has a database');
  const haystacks = [...files.map((name) => readFileSync(join(dataDir, name)).toString('latin1')), tessera.output()];
  assert.match(tessera.output(), /order placed/, 'the logs were captured');
  assert.ok(haystacks.slice(0, files.length).some((data) => data.includes('Cobalt tile')), 'the orders are in the files searched');
  for (const needle of ['Ada Lovelace', 'Lovelace', 'Grace Hopper', 'Hopper', 'ada@example.test', 'grace@example.test', 'example.test']) {
    for (const haystack of haystacks) assert.ok(!haystack.includes(needle), `found ${needle}`);
  }
});
