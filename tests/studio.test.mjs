// The theme studio end to end in Chromium against a fresh `tessera dev`:
// a colour change reaches every preview frame (the production widget under
// the snippet's policy) without a reload; a failing contrast pair is
// refused with the nearest passing colour offered, and taking it passes;
// a saved draft reaches no shop until published; publishing changes the
// live theme.css and the shop's widget, rolling back restores it; two
// admins saving from the same revision get a conflict, not an overwrite.
// Every page: no CSP violation, no axe-core WCAG 2.1 AA violation.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { accessibilityViolations, launchChromium, recorderScript, startTessera } from './support.mjs';

const screenshots = new URL('../target/screenshots/', import.meta.url).pathname;
mkdirSync(screenshots, { recursive: true });

let tessera;
let browser;
let dataDir;

before(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'tessera-studio-'));
  tessera = await startTessera({ dataDir });
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await tessera?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

/** A signed-in console tab (a fresh one-time link each time). */
async function signedIn() {
  const { execFileSync } = await import('node:child_process');
  const link = execFileSync(new URL('../target/debug/tessera', import.meta.url).pathname, [
    'admin', 'login-link', '--data-dir', dataDir, '--public-url', tessera.server,
  ], { encoding: 'utf8' }).trim();
  const context = await browser.newContext({ locale: 'en-US', viewport: { width: 1600, height: 3000 } });
  await context.addInitScript(recorderScript);
  const page = await context.newPage();
  await page.goto(link);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await page.waitForURL(`${tessera.server}/console/`);
  return { context, page };
}

async function clean(page, what) {
  assert.deepEqual(await page.evaluate(() => window.violations), [], `${what}: CSP violations`);
  assert.deepEqual(await accessibilityViolations(page, 'html'), [], `${what}: axe-core`);
  await page.evaluate(() => { window.violations = []; });
}

/** The sign-in button's background in every preview frame. */
async function primaries(page) {
  const frames = page.frames().filter((frame) => frame.url().includes('/studio/frame'));
  return Promise.all(frames.map(async (frame) => ({
    theme: new URL(frame.url()).searchParams.get('theme'),
    forced: new URL(frame.url()).searchParams.has('forced-colors'),
    background: await frame.locator('tessera-login button.primary').evaluate((button) => getComputedStyle(button).backgroundColor),
  })));
}

const themeCss = async () => (await fetch(`${tessera.server}/t/demo/theme.css`)).text();

test('a colour change reaches every preview; contrast refusals offer a passing colour; publish and roll back', async () => {
  const { context, page } = await signedIn();
  await page.goto(`${tessera.server}/console/tenants/demo/studio`);
  const frames = page.locator('iframe[data-preview]');
  assert.equal(await frames.count(), 8, 'light and dark, both directions, three widths, 200% zoom, forced colours');
  // Every frame runs the production widget.
  await page.waitForFunction(() => document.querySelectorAll('iframe[data-preview]').length === 8);
  assert.equal(await page.locator('iframe[data-preview][src*="zoom=2"]').count(), 1);
  assert.equal(await page.locator('iframe[data-preview][src*="forced-colors=1"]').count(), 1);
  for (const frame of page.frames().filter((f) => f.url().includes('/studio/frame'))) {
    await frame.locator('tessera-login button.primary').waitFor({ timeout: 15_000 });
    assert.deepEqual(await frame.evaluate(() => window.violations ?? []), [], `${frame.url()}: CSP violations`);
  }
  assert.ok(page.frames().some((f) => f.url().includes('locale=ar')), 'a right-to-left preview');
  await clean(page, 'studio');
  // The state switch: every frame's widget draws the state itself.
  const inEveryFrame = async (selector) => {
    for (let index = 0; index < 8; index++) {
      await page.frameLocator('iframe[data-preview]').nth(index).locator(selector).waitFor({ timeout: 15_000 });
    }
  };
  await page.locator('#preview-state').selectOption('signed-in');
  await inEveryFrame('tessera-login .status');
  await page.locator('#preview-state').selectOption('error');
  await inEveryFrame('tessera-login [role=alert]');
  await page.locator('#preview-state').selectOption('loading');
  await inEveryFrame('tessera-login button.primary[aria-busy=true]');
  await page.locator('#preview-state').selectOption('signed-out');
  await inEveryFrame('tessera-login button.primary[aria-busy=false]');
  await page.screenshot({ path: join(screenshots, 'console-studio.png'), clip: { x: 0, y: 0, width: 1600, height: 1100 } });

  // A new primary colour reaches the light previews, without a reload.
  const before = await primaries(page);
  await page.locator('#light_primary').fill('#7c3aed');
  await page.waitForFunction(async () => true);
  await page.waitForFunction(() => {
    const frames = [...document.querySelectorAll('iframe[data-preview]')];
    return window.studioPaints.some((paint) => paint.painted.length === frames.length);
  }, null, { timeout: 10_000 });
  const after = await primaries(page);
  for (const { theme, forced, background } of after) {
    // Forced colours put the system's button colour in place of any theme's.
    if (forced) {
      assert.notEqual(background, 'rgb(124, 58, 237)', 'forced colours: not the theme');
      assert.ok(before.some((b) => b.forced && b.background === background), 'forced colours: unchanged');
    } else if (theme === 'light') assert.equal(background, 'rgb(124, 58, 237)');
    else assert.ok(before.some((b) => b.theme === 'dark' && b.background === background), 'dark unchanged');
  }
  const forcedFrame = page.frameLocator('iframe[data-preview][src*="forced-colors=1"]');
  const [buttonFace, drawn] = await forcedFrame.locator('tessera-login').evaluate((element) => {
    const probe = document.createElement('div');
    probe.style.backgroundColor = 'ButtonFace';
    document.body.append(probe);
    const systemColour = getComputedStyle(probe).backgroundColor;
    probe.remove();
    return [systemColour, getComputedStyle(element.shadowRoot.querySelector('button.primary')).backgroundColor];
  });
  assert.equal(drawn, buttonFace, 'forced colours: the system button face');
  assert.ok(!(await themeCss()).includes('#7c3aed'), 'nothing public changed');

  // Pale text fails its pair, with the nearest passing colour offered.
  await page.locator('#light_text').fill('#eeeeee');
  const row = page.locator('#pair-light-text-background');
  await page.waitForFunction(() => document.getElementById('pair-light-text-background')?.dataset.state === 'failed');
  const use = row.locator('button[data-use]');
  const suggested = await use.getAttribute('data-color');
  assert.match(suggested, /^#[0-9a-f]{6}$/);
  // Saving anyway is refused beside the field, and saves nothing.
  await page.getByRole('button', { name: 'Save draft' }).click();
  await page.waitForLoadState();
  assert.equal(await page.locator('#light_text').getAttribute('aria-invalid'), 'true');
  assert.match(await page.locator('#light_text-error').textContent(), /below WCAG AA.*would pass/);
  await clean(page, 'refused');
  // Taking the suggestion, by keyboard, passes; the draft is saved.
  await page.locator('#pair-light-text-background button[data-use]').focus();
  await page.keyboard.press('Enter');
  assert.equal(await page.locator('#light_text').inputValue(), suggested);
  await page.waitForFunction(() => document.getElementById('pair-light-text-background')?.dataset.state === 'ok');
  await page.locator('#note').fill('violet, readable');
  await page.locator('#note').press('Enter');
  await page.waitForURL(/\/studio\?revision=2$/);
  assert.ok(!(await themeCss()).includes('#7c3aed'), 'a draft is not published');

  // Published: the live theme.css and the shop's widget change.
  await page.goto(`${tessera.server}/console/tenants/demo/design`);
  await clean(page, 'history');
  assert.match(await page.locator('tr[data-revision="2"]').textContent(), /violet, readable/);
  await page.getByRole('button', { name: 'Publish 2' }).click();
  await page.waitForURL(`${tessera.server}/console/tenants/demo/design`);
  assert.ok((await themeCss()).includes('#7c3aed'));
  const shop = await context.newPage();
  await shop.goto(`${tessera.server}/demo/`);
  // The button as it stands once connected: the wasm may replace the first
  // view's between a lookup and a look at it (a detached one has no style).
  const shopColour = await shop.waitForFunction(() => {
    const button = document.querySelector('tessera-login')?.shadowRoot?.querySelector('button.primary');
    return button?.isConnected ? getComputedStyle(button).backgroundColor : false;
  }, null, { timeout: 15_000 });
  assert.equal(await shopColour.jsonValue(), 'rgb(124, 58, 237)');
  // Rolled back: revision 1 again, live.
  await page.getByRole('button', { name: 'Roll back to 1' }).click();
  await page.waitForURL(`${tessera.server}/console/tenants/demo/design`);
  assert.ok(!(await themeCss()).includes('#7c3aed'));
  assert.ok(await page.locator('tr[data-revision="1"][data-published]').count() === 1);
  await context.close();
});

test('two admins saving from the same revision: the second gets a conflict and keeps its values', async () => {
  const first = await signedIn();
  const second = await signedIn();
  for (const { page } of [first, second]) await page.goto(`${tessera.server}/console/tenants/demo/studio`);
  await first.page.locator('#light_border').fill('#333333');
  await first.page.getByRole('button', { name: 'Save draft' }).click();
  await first.page.waitForURL(/\/studio\?revision=\d+$/);
  await second.page.locator('#light_border').fill('#444444');
  await second.page.getByRole('button', { name: 'Save draft' }).click();
  await second.page.waitForLoadState();
  assert.match(await second.page.locator('#form-error').textContent(), /was saved by console:.* since you started from revision/);
  assert.equal(await second.page.locator('#light_border').inputValue(), '#444444', 'nothing of theirs was lost');
  await clean(second.page, 'conflict');
  await first.context.close();
  await second.context.close();
});

test('a text override is checked as typed, saved as a draft, and reaches the shop when published', async () => {
  const { context, page } = await signedIn();
  await page.goto(`${tessera.server}/console/tenants/demo/texts?locale=en`);
  await clean(page, 'texts');
  const input = page.locator('#message-sign-in');
  // A placeholder English does not have: said beside the field as typed.
  await input.focus();
  await page.keyboard.type('Enter {shop}');
  const error = page.locator('#message-sign-in-error');
  await error.waitFor({ state: 'visible' });
  assert.match(await error.textContent(), /placeholder/);
  assert.equal(await input.getAttribute('aria-invalid'), 'true');
  await page.keyboard.press('ControlOrMeta+A');
  await page.keyboard.type('Enter the shop');
  await error.waitFor({ state: 'hidden' });
  await page.keyboard.press('Enter');
  await page.waitForURL(/\/texts\?locale=en&revision=\d+$/);
  const revision = new URL(page.url()).searchParams.get('revision');
  // The page's previews show the draft's words (this locale, and the
  // pseudo-locale to find overflow), before anything is published.
  const preview = (locale) => page.frameLocator(`iframe[data-preview][src*="locale=${locale}&"]`);
  await page.waitForFunction(() => document.querySelectorAll('iframe[data-preview]').length === 2);
  const english = preview('en').locator('tessera-login button.primary');
  await english.waitFor({ timeout: 15_000 });
  assert.equal((await english.textContent()).trim(), 'Enter the shop');
  const pseudo = preview('en-XA').locator('tessera-login button.primary');
  await pseudo.waitFor({ timeout: 15_000 });
  assert.match((await pseudo.textContent()).trim(), /^⟦/);
  await clean(page, 'texts with previews');
  // A customer's fresh browser (nothing cached) on the shop's page.
  const signInText = async () => {
    const customer = await browser.newContext({ locale: 'en-US' });
    const shop = await customer.newPage();
    await shop.goto(`${tessera.server}/demo/`);
    const button = shop.locator('tessera-login button.primary');
    await button.waitFor({ timeout: 15_000 });
    const text = (await button.textContent()).trim();
    await customer.close();
    return text;
  };
  assert.equal(await signInText(), 'Sign in', 'a draft is not live');
  await page.goto(`${tessera.server}/console/tenants/demo/design`);
  await page.getByRole('button', { name: `Publish ${revision}` }).click();
  await page.waitForURL(`${tessera.server}/console/tenants/demo/design`);
  assert.equal(await signInText(), 'Enter the shop');
  await context.close();
});

test('the published JSON Schema accepts every exported design and refuses broken ones', async () => {
  const { default: Ajv2020 } = await import('ajv/dist/2020.js');
  const schema = await (await fetch(`${tessera.server}/api/schemas/design.json`)).json();
  assert.equal(schema.$schema, 'https://json-schema.org/draft/2020-12/schema');
  // OpenAPI's own keywords (`example`) are annotations here.
  const validate = new Ajv2020({ strict: false, allErrors: true }).compile(schema);
  const headers = { authorization: `Bearer ${tessera.adminToken}` };
  const presets = await (await fetch(`${tessera.server}/api/themes`, { headers })).json();
  for (const [name, theme] of Object.entries(presets)) {
    assert.ok(validate({ theme, texts: { de: { 'sign-in': 'Rein' } } }), `${name}: ${JSON.stringify(validate.errors)}`);
  }
  const history = await (await fetch(`${tessera.server}/api/tenants/demo/design`, { headers })).json();
  const revision = await (await fetch(`${tessera.server}/api/tenants/demo/design/revisions/${history.head}`, { headers })).json();
  assert.ok(validate(revision.design), JSON.stringify(validate.errors));
  for (const [what, broken] of [
    ['a colour that is not one', { ...revision.design, theme: { ...revision.design.theme, light: { ...revision.design.theme.light, text: 'red' } } }],
    ['an unknown member', { ...revision.design, colour: 1 }],
    ['no theme', { texts: {} }],
    ['a text that is not a string', { ...revision.design, texts: { de: { 'sign-in': 1 } } }],
  ]) {
    assert.equal(validate(broken), false, what);
  }
});

test('logos for light and dark are uploaded as drafts and the previews draw each', async () => {
  const { context, page } = await signedIn();
  await page.goto(`${tessera.server}/console/tenants/demo/studio`);
  const mark = (fill) => Buffer.from(`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><circle cx="5" cy="5" r="4" fill="${fill}"/></svg>`);
  await page.locator('#logo-file-light').setInputFiles({ name: 'logo.svg', mimeType: 'image/svg+xml', buffer: mark('#1d4ed8') });
  await page.locator('form[data-logo]').first().locator('button[type=submit]').click();
  await page.waitForURL(/\/studio\?revision=\d+$/);
  await page.locator('#logo-file-dark').setInputFiles({ name: 'dark.svg', mimeType: 'image/svg+xml', buffer: mark('#f8fafc') });
  await page.locator('form[data-logo]').nth(1).locator('button[type=submit]').click();
  await page.waitForURL(/\/studio\?revision=\d+$/);
  // A hostile SVG is refused by the server's sanitiser.
  const refused = await context.newPage();
  await refused.goto(page.url());
  await refused.locator('#logo-file-dark').setInputFiles({ name: 'bad.svg', mimeType: 'image/svg+xml', buffer: Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>') });
  await refused.locator('form[data-logo]').nth(1).locator('button[type=submit]').click();
  await refused.waitForLoadState();
  assert.match(await refused.locator('main').textContent(), /script/i);
  await refused.close();
  // Each palette's frames draw their own logo, from the draft.
  const logoOf = async (index) => page.frameLocator('iframe[data-preview]').nth(index).locator('tessera-login .logo')
    .evaluate((logo) => getComputedStyle(logo).backgroundImage);
  await page.frameLocator('iframe[data-preview]').nth(1).locator('tessera-login .logo').waitFor({ timeout: 15_000 });
  assert.match(await logoOf(0), /\/preview\/\d+\/[\w-]+\/t\/demo\/logo"\)$/, 'light: the logo');
  assert.match(await logoOf(1), /scheme=dark/, 'dark: its own');
  await clean(page, 'studio with logos');
  await context.close();
});

test('a font face uploaded as WOFF2 is served from our origin and drawn in every preview', async () => {
  const { context, page } = await signedIn();
  const fontRequests = [];
  context.on('request', (request) => { if (request.url().endsWith('.woff2')) fontRequests.push(request.url()); });
  // In every frame: at the first frame that shows the widget's sign-in
  // button, whether a face of the tenant's own family had loaded, and how
  // long after the element was defined (the loader's wait for the font
  // starts then, and ends after at most a second).
  await context.addInitScript(() => {
    customElements.whenDefined('tessera-login').then(() => { window.definedAt = performance.now(); });
    const look = () => {
      const element = document.querySelector('tessera-login');
      if (element?.shadowRoot?.querySelector('section[part=root] button')) {
        window.fontAtFirstSight = [...document.fonts].some((face) => face.family.includes('Source Code Pro') && face.status === 'loaded');
        window.firstSightAfter = performance.now() - window.definedAt;
        return;
      }
      requestAnimationFrame(look);
    };
    requestAnimationFrame(look);
  });
  await page.goto(`${tessera.server}/console/tenants/demo/studio`);
  // Not a font: refused, nothing saved.
  await page.getByLabel('Family name').fill('Source Code Pro');
  await page.locator('#font-file').setInputFiles({ name: 'fake.woff2', mimeType: 'font/woff2', buffer: Buffer.from('wOF2 but not really a font') });
  await page.getByRole('button', { name: 'Add the face as a draft' }).click();
  await page.waitForLoadState();
  assert.match(await page.locator('main').textContent(), /not a WOFF2 font/);
  await page.goto(`${tessera.server}/console/tenants/demo/studio`);
  await page.getByLabel('Family name').fill('Source Code Pro');
  await page.getByLabel('Weight').selectOption('500');
  await page.locator('#font-file').setInputFiles(new URL('./fixtures/fonts/SourceCodePro-Medium.woff2', import.meta.url).pathname);
  await page.getByRole('button', { name: 'Add the face as a draft' }).click();
  await page.waitForURL(/\/studio\?revision=\d+$/);
  assert.match(await page.locator('table.faces').textContent(), /Source Code Pro[\s\S]*500[\s\S]*normal/);
  // Every frame: the widget's text asks for the family first, and the
  // page's document (where the loader linked fonts.css) has loaded it.
  const frames = page.locator('iframe[data-preview]');
  let signedOutFrames = 0;
  for (let index = 0; index < await frames.count(); index++) {
    const frame = page.frameLocator('iframe[data-preview]').nth(index);
    await frame.locator('tessera-login button.primary').waitFor({ timeout: 15_000 });
    const drawn = await frame.locator('tessera-login').evaluate(async (element) => {
      const family = getComputedStyle(element.shadowRoot.querySelector('button.primary')).fontFamily;
      const name = family.split(',')[0].trim().replace(/"/g, '');
      await document.fonts.load(`500 16px "${name}"`);
      const loaded = [...document.fonts].filter((face) => face.family.replace(/"/g, '') === name && face.status === 'loaded');
      return { name, loaded: loaded.length, violations: window.violations ?? [],
        preview: element.getAttribute('preview'), atFirstSight: window.fontAtFirstSight, after: window.firstSightAfter };
    });
    assert.match(drawn.name, /^Source Code Pro [0-9a-f]{8}$/, `frame ${index}`);
    // A signed-out frame shows the server's first view, which waits for
    // the face: never drawn in the fallback first.
    if (drawn.preview === null || drawn.preview === 'signed-out') {
      signedOutFrames += 1;
      // Shown before the wait's second was over: only with the face.
      assert.ok(drawn.atFirstSight || drawn.after >= 950,
        `frame ${index}: the view was first shown ${drawn.after} ms after the element was defined, without the face`);
    }
    assert.equal(drawn.loaded, 1, `frame ${index}: the face loaded`);
    assert.deepEqual(drawn.violations, [], `frame ${index}: CSP violations`);
  }
  assert.ok(signedOutFrames > 0, 'a signed-out frame, drawn from the first view');
  assert.ok(fontRequests.length > 0);
  for (const url of fontRequests) assert.ok(url.startsWith(`${tessera.server}/preview/`), url);
  // Removing the face saves a draft without the font.
  await page.getByRole('button', { name: 'Remove the face 500 normal' }).click();
  await page.waitForURL(/\/studio\?revision=\d+$/);
  assert.equal(await page.locator('table.faces').count(), 0);
  await clean(page, 'studio with a font');
  await context.close();
});
