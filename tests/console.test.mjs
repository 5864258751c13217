// The builder console end to end in Chromium against a fresh `tessera dev`:
// sign in with the one-time link the banner prints, see the demo tenant's
// live health, open it, read the audit log, switch to Russian, sign out.
// Every page is held to: no CSP violation, no request to another origin,
// no axe-core WCAG 2.1 AA violation, and a keyboard-only path. The
// screenshots are written to target/screenshots (docs/screenshots holds
// copies for the README).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { createServer } from 'node:http';
import { accessibilityViolations, freePort, launchChromium, recorderScript, startTessera } from './support.mjs';
import { startOidcProvider } from './oidc-provider.mjs';

const screenshots = new URL('../target/screenshots/', import.meta.url).pathname;
mkdirSync(screenshots, { recursive: true });

let tessera;
let browser;
let dataDir;

before(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'tessera-console-'));
  tessera = await startTessera({ dataDir });
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await tessera?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

/** A fresh tab that records CSP violations and every request's origin. */
async function tab(locale = 'en-US') {
  const context = await browser.newContext({ locale, viewport: { width: 1100, height: 700 } });
  await context.addInitScript(recorderScript);
  const page = await context.newPage();
  const origins = new Set();
  page.on('request', (request) => origins.add(new URL(request.url()).origin));
  return { context, page, origins };
}

/** Presses Tab until the element with id `id` has the focus; fails after 30. */
async function focusBy(page, id) {
  for (let presses = 0; presses < 30; presses++) {
    await page.keyboard.press('Tab');
    if (await page.evaluate((id) => document.activeElement?.id === id, id)) return;
  }
  assert.fail(`the keyboard never reached #${id}`);
}

/** Presses Tab until the focused element's text is `text`; fails after 30. */
async function tabTo(page, text) {
  for (let presses = 0; presses < 30; presses++) {
    await page.keyboard.press('Tab');
    const focused = await page.evaluate(() => document.activeElement?.textContent?.trim());
    if (focused === text) return;
  }
  assert.fail(`the keyboard never reached "${text}"`);
}

async function clean(page, what) {
  assert.deepEqual(await page.evaluate(() => window.violations), [], `${what}: CSP violations`);
  assert.deepEqual(await accessibilityViolations(page, 'html'), [], `${what}: axe-core`);
  // axe's own <style> is reported too: forgotten, so that a later check of
  // the same page sees only what the page did.
  await page.evaluate(() => { window.violations = []; });
}

test('an admin signs in with the link, sees tenants\' health, and works by keyboard', async () => {
  const { context, page, origins } = await tab();
  // The root of the server is the console, which asks to sign in first.
  await page.goto(tessera.server);
  assert.equal(new URL(page.url()).pathname, '/console/login');
  await page.goto(tessera.consoleLink);
  await clean(page, 'sign-in page');
  await tabTo(page, 'Sign in');
  await page.keyboard.press('Enter');
  await page.waitForURL(`${tessera.server}/console/`);
  // The demo tenant's IdP (the development issuer) answers: its keys are
  // usable, as the verifier judges them.
  const health = page.locator('td[data-health]').first();
  await page.waitForFunction(() => document.querySelector('td[data-health]')?.dataset.state, null, { timeout: 15_000 });
  assert.equal(await health.getAttribute('data-state'), 'ok', await health.textContent());
  assert.match(await health.textContent(), /^Keys usable \(keys: \d+, ES256/);
  await clean(page, 'tenants');
  await page.screenshot({ path: join(screenshots, 'console-tenants.png') });
  // The link is spent.
  const again = await context.newPage();
  await again.goto(tessera.consoleLink);
  await again.getByRole('button', { name: 'Sign in', exact: true }).click();
  await again.getByText('already used or expired').waitFor();
  await again.close();
  // Keyboard only: to the tenant, its configuration and snippet.
  await tabTo(page, 'demo');
  await page.keyboard.press('Enter');
  await page.waitForURL(`${tessera.server}/console/tenants/demo`);
  assert.match(await page.locator('pre').first().textContent(), /<tessera-login tenant="demo"/);
  await page.waitForFunction(() => document.querySelector('[data-health]')?.dataset.state === 'ok', null, { timeout: 15_000 });
  await clean(page, 'tenant');
  await page.screenshot({ path: join(screenshots, 'console-tenant.png'), fullPage: true });
  // The audit log, filtered with the keyboard.
  await tabTo(page, 'Audit log');
  await page.keyboard.press('Enter');
  await page.waitForURL(`${tessera.server}/console/audit`);
  await page.locator('#action').focus();
  await page.keyboard.press('ArrowDown');
  await tabTo(page, 'Filter');
  await page.keyboard.press('Enter');
  await page.waitForURL(/\/console\/audit\?tenant=&action=create/);
  const actions = await page.locator('td.action').allTextContents();
  assert.ok(actions.length > 0 && actions.every((action) => action === 'create'), actions.join());
  await clean(page, 'audit log');
  // The forms: a tenant's edit form, admin tokens, import.
  for (const path of ['/console/tenants/demo/edit', '/console/import', '/console/guides/README.md', '/console/guides/keycloak.md', '/console/tokens']) {
    await page.goto(`${tessera.server}${path}`);
    await clean(page, path);
  }
  // A token made in the console, shown once.
  await page.locator('#label').fill('made in the console test');
  await page.keyboard.press('Enter');
  await page.getByText('shown only now').waitFor();
  assert.match(await page.locator('pre code').textContent(), /^tsa_/);
  await clean(page, 'token created');
  // In Russian, remembered for the next page.
  await page.goto(`${tessera.server}/console/?lang=ru`);
  assert.equal(await page.locator('h1').textContent(), 'Магазины');
  await page.goto(`${tessera.server}/console/audit`);
  assert.equal(await page.locator('html').getAttribute('lang'), 'ru');
  await clean(page, 'Russian');
  // Only our own origin was ever asked for anything.
  assert.deepEqual([...origins], [tessera.server]);
  // Signing out ends the session.
  await tabTo(page, 'Выйти');
  await page.keyboard.press('Enter');
  await page.waitForURL(`${tessera.server}/console/login`);
  await page.goto(`${tessera.server}/console/`);
  assert.equal(new URL(page.url()).pathname, '/console/login');
  await context.close();
});

test('an admin signs in at the identity provider and gets the role its token names', async () => {
  const { context, page } = await tab();
  await page.goto(`${tessera.server}/console/login`);
  await clean(page, 'sign-in page with an IdP');
  await page.getByRole('button', { name: 'Sign in at 127.0.0.1' }).click();
  // The development issuer's consent page: the console is a client there.
  await page.waitForURL(/\/dev\/oidc\/authorize\?/);
  const authorize = new URL(page.url());
  assert.equal(authorize.searchParams.get('client_id'), 'tessera-console');
  assert.equal(authorize.searchParams.get('code_challenge_method'), 'S256');
  assert.equal(authorize.searchParams.get('redirect_uri'), `${tessera.server}/console/oidc/callback`);
  await page.locator('button.allow').click();
  // Back at the console, signed in by name, as the owner the token says.
  await page.waitForURL(`${tessera.server}/console/`, { timeout: 15_000 });
  assert.match(await page.locator('.who').textContent(), /Signed in as Ada Lovelace/);
  assert.equal(await page.getByRole('link', { name: 'Admin tokens' }).count(), 1, 'an owner sees admin tokens');
  await clean(page, 'signed in at the IdP');
  // A callback this browser did not start signs nobody in.
  const forged = await context.newPage();
  await forged.goto(`${tessera.server}/console/oidc/callback?code=forged&state=forged`);
  assert.match(await forged.locator('[role=alert]').textContent(), /unknown, expired, already used/);
  await context.close();
});

test('an owner onboards a shop on a Logto-like IdP, tries sign-in, and the pasted snippet signs in', async () => {
  const shopOrigin = `http://127.0.0.1:${await freePort()}`;
  const resource = 'https://api.wizard-shop.test';
  const tryUrl = `${tessera.server}/console/tenants/wizard-shop/try`;
  // Like Logto: the shop's JWT only for a sign-in that asks for its
  // resource; the console's test page registered like any shop page.
  const idp = await startOidcProvider({ shopOrigin, like: 'logto', resource, redirectUris: [tryUrl] });
  let shop;
  const link = execFileSync(new URL('../target/debug/tessera', import.meta.url).pathname, [
    'admin', 'login-link', '--data-dir', dataDir, '--public-url', tessera.server,
  ], { encoding: 'utf8' }).trim();
  const { context, page, origins } = await tab();
  try {
    await page.goto(link);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.waitForURL(`${tessera.server}/console/`);
    // Keyboard only, from the list to the first checks.
    await tabTo(page, 'New tenant');
    await page.keyboard.press('Enter');
    await page.waitForURL(`${tessera.server}/console/new`);
    await clean(page, 'new tenant');
    await focusBy(page, 'preset');
    await page.keyboard.type('Keycloak');
    for (const [id, text] of [['issuer', idp.issuer], ['client_id', 'demo'], ['origin', 'http://127.0.0.1:1'], ['audience', 'demo-shop-api']]) {
      await focusBy(page, id);
      await page.keyboard.type(text);
    }
    await page.keyboard.press('Enter');
    // A shop origin the IdP does not know: the CORS check says so, and how
    // to fix it in that IdP.
    const cors = page.locator('ul.checks > li', { hasText: 'CORS' });
    await cors.waitFor();
    assert.equal(await cors.getAttribute('data-state'), 'failed');
    assert.match(await cors.textContent(), /Keycloak, add the shop's origin to the client's Web origins/);
    await page.locator('#preset').selectOption('logto');
    await page.locator('#origin').fill(shopOrigin);
    await page.locator('#client_id').fill('demo');
    await page.locator('#audience').fill(resource);
    await page.getByRole('button', { name: 'Check the identity provider' }).click();
    const checks = await page.locator('ul.checks > li').evaluateAll((items) => items.map((item) => `${item.dataset.state} ${item.textContent}`));
    assert.equal(checks.length, 6, checks.join('\n'));
    assert.ok(checks.every((check) => check.startsWith('ok ')), checks.join('\n'));
    assert.match(checks.find((check) => check.includes('Keys')), /RS256/);
    await clean(page, 'checks');
    // A bad redirect URI comes back beside its field; nothing is created.
    // The Logto preset's guide is on the page, and its provider buttons
    // use Logto's direct sign-in.
    assert.match(await page.locator('details.guide h1').textContent(), /^Logto/);
    assert.match(await page.locator('label[for=provider_google]').textContent(), /direct_sign_in=social:google/);
    // The Logto preset asks for the audience as a resource indicator.
    assert.equal(await page.locator('#audience_request').inputValue(), 'resource');
    assert.equal(await page.locator('#try_sign_in').isChecked(), true);
    await page.locator('#slug').fill('wizard-shop');
    await page.locator('#display_name').fill('Wizard shop');
    await page.locator('#redirect_uris').fill('javascript:alert(1)');
    await page.getByRole('button', { name: 'Create the tenant' }).click();
    assert.equal(await page.locator('#redirect_uris').getAttribute('aria-invalid'), 'true');
    await clean(page, 'refused');
    // Corrected by keyboard alone, and sent with it.
    await page.locator('#redirect_uris').focus();
    await page.keyboard.press('ControlOrMeta+A');
    await page.keyboard.type(`${shopOrigin}/demo/`);
    await tabTo(page, 'Create the tenant');
    await page.keyboard.press('Enter');
    await page.waitForURL(`${tessera.server}/console/tenants/wizard-shop`);
    assert.match(await page.locator('pre').first().textContent(), /<tessera-login tenant="wizard-shop"/);
    await page.waitForFunction(() => document.querySelector('[data-health]')?.dataset.state === 'ok', null, { timeout: 15_000 });
    await clean(page, 'created');
    // The browser asked only our origin; the checks ran on the server.
    assert.deepEqual([...origins], [tessera.server]);
    const [snippetHtml, policy] = await page.locator('pre code').allTextContents();
    // The copy button puts the snippet on the clipboard as shown.
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: tessera.server });
    await page.getByRole('button', { name: 'Copy the snippet' }).click();
    await page.getByRole('button', { name: 'Copied' }).waitFor();
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), snippetHtml);
    // What the IdP's own pages load is the IdP's business (oidc-provider's
    // development pages use a web font); ours may ask only us and the IdP.
    const fromIdp = (request) => new URL(request.frame().url()).origin === idp.issuer;

    // Test sign-in: the pasted widget on the console's page, in a popup at
    // the IdP; the console shows the passport as the shop's API verifies it.
    const everywhere = new Set();
    const authorizations = [];
    context.on('request', (request) => {
      const url = new URL(request.url());
      if (!fromIdp(request)) everywhere.add(url.origin);
      if (url.origin === idp.issuer && url.pathname === '/auth') authorizations.push(url);
    });
    await tabTo(page, 'Test sign-in');
    await page.keyboard.press('Enter');
    await page.waitForURL(tryUrl);
    assert.equal(await page.getByText('is not yet one of the tenant\'s redirect URIs').count(), 0, 'the wizard registered the page');
    await page.locator('tessera-login button.primary').waitFor({ timeout: 15_000 });
    await clean(page, 'test sign-in');
    const opened = context.waitForEvent('page');
    await page.locator('tessera-login button.primary').click();
    const popup = await opened;
    await popup.waitForURL(`${idp.issuer}/**`, { timeout: 15_000 });
    const closed = popup.waitForEvent('close', { timeout: 20_000 });
    await popup.locator('input[name=login]').fill('ada-interop');
    await popup.locator('input[name=password]').fill('any password');
    await popup.locator('button[type=submit]').click();
    await popup.locator('button[type=submit]', { hasText: /continue|authorize/i }).click({ timeout: 15_000 });
    await closed;
    assert.equal(authorizations[0]?.searchParams.get('resource'), resource, 'the sign-in asks for the resource');
    // The passport's verdict, or the widget's own alert if the sign-in failed.
    const verdict = () => document.getElementById('passport-status')?.dataset.state
      || document.querySelector('tessera-login')?.shadowRoot?.querySelector('[role=alert]')?.textContent;
    await page.waitForFunction(verdict, null, { timeout: 15_000 });
    const status = page.locator('#passport-status');
    assert.equal(await status.getAttribute('data-state'), 'ok', `${await status.textContent()} (${await page.evaluate(verdict)})`);
    assert.match(await status.textContent(), /Subject: ada-interop$/);
    const claims = Object.fromEntries(await page.locator('#passport tbody tr').evaluateAll((rows) => rows.map((row) => [row.cells[0].textContent, row.cells[1].textContent])));
    // The JWT the resource indicator got: its audience is the resource.
    assert.equal(claims.aud, resource);
    assert.equal(claims.iss, idp.issuer);
    // The IdP puts every profile claim into the ID token: flagged by name.
    const flagged = await page.locator('#withheld li').textContent();
    for (const claim of ['email', 'phone_number', 'name', 'address', 'birthdate']) {
      assert.match(flagged, new RegExp(`\\b${claim}\\b`), `${claim} flagged`);
    }
    assert.equal(await page.locator('#withheld li').getAttribute('data-state'), 'failed');
    await clean(page, 'passport shown');
    await page.screenshot({ path: join(screenshots, 'console-try.png'), fullPage: true });

    // The snippet and its policy, pasted into a shop page on another
    // origin, sign in there through the widget.
    const shopPort = Number(new URL(shopOrigin).port);
    const shopPage = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Wizard shop</title></head><body><main>${snippetHtml}</main></body></html>`;
    shop = createServer((request, response) => {
      response.writeHead(request.url.startsWith('/demo/') ? 200 : 404, {
        'content-type': 'text/html; charset=utf-8',
        'content-security-policy': `default-src 'none'; ${policy}`,
      });
      response.end(shopPage);
    });
    await new Promise((resolve) => shop.listen(shopPort, '127.0.0.1', resolve));
    const customer = await browser.newContext({ locale: 'en-US' });
    await customer.addInitScript(recorderScript);
    const shopTab = await customer.newPage();
    const shopOrigins = new Set();
    customer.on('request', (request) => {
      if (!fromIdp(request)) shopOrigins.add(new URL(request.url()).origin);
    });
    await shopTab.goto(`${shopOrigin}/demo/`);
    await shopTab.locator('tessera-login button.primary').click({ timeout: 15_000 });
    await shopTab.waitForURL(`${idp.issuer}/**`, { timeout: 15_000 });
    await shopTab.locator('input[name=login]').fill('ada-interop');
    await shopTab.locator('input[name=password]').fill('any password');
    await shopTab.locator('button[type=submit]').click();
    await shopTab.locator('button[type=submit]', { hasText: /continue|authorize/i }).click({ timeout: 15_000 });
    await shopTab.waitForURL(`${shopOrigin}/demo/**`, { timeout: 15_000 });
    await shopTab.locator('tessera-login .status').waitFor({ state: 'visible', timeout: 15_000 });
    const login = (await shopTab.evaluate(() => window.events)).find((event) => event.name === 'tessera:login');
    assert.equal(login?.detail.sub, 'ada-interop', JSON.stringify(await shopTab.evaluate(() => window.events)));
    assert.ok(login.detail.withheld.includes('email'), 'the page learns which claims the IdP should stop sending');
    assert.ok(!('email' in login.detail.claims));
    assert.deepEqual(await shopTab.evaluate(() => window.violations), [], 'the shop page: CSP violations');
    assert.deepEqual([...shopOrigins].sort(), [shopOrigin, tessera.server, idp.issuer].sort());
    await customer.close();
    // The console, the popup included, asked only our origin and the IdP.
    assert.deepEqual([...everywhere].sort(), [tessera.server, idp.issuer].sort());
  } finally {
    await context.close();
    await idp.stop();
    shop?.close();
  }
});
