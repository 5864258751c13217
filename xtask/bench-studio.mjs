// `cargo xtask bench studio`: in headless Chromium, the time from a change
// of a design token in the theme studio to every preview frame having
// painted it (each frame answers after two animation frames), over 50
// changes after 5 unmeasured ones. Arguments: the server's URL and a
// one-time console link.
import { launchChromium } from '../tests/support.mjs';

const [server, link] = process.argv.slice(2);
const browser = await launchChromium();
try {
  // Tall enough that every frame is on screen: browsers do not paint
  // frames out of view.
  const context = await browser.newContext({ viewport: { width: 1600, height: 3000 } });
  const page = await context.newPage();
  await page.goto(link);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await page.waitForURL(`${server}/console/`);
  await page.goto(`${server}/console/tenants/demo/studio`);
  const frames = await page.locator('iframe[data-preview]').count();
  for (const frame of page.frames().filter((f) => f.url().includes('/studio/frame'))) {
    await frame.locator('tessera-login button.primary').waitFor({ timeout: 30_000 });
  }
  const colours = ['#7c3aed', '#1d4ed8', '#0f766e', '#b45309'];
  const times = [];
  for (let change = 0; change < 55; change++) {
    const before = await page.evaluate(() => window.studioPaints.length);
    await page.locator('#light_primary').fill(colours[change % colours.length]);
    await page.waitForFunction(
      ([before, frames]) => window.studioPaints.length > before && window.studioPaints.at(-1).painted.length === frames,
      [before, frames],
      { timeout: 10_000, polling: 'raf' },
    );
    const paint = await page.evaluate(() => window.studioPaints.at(-1));
    if (change >= 5) times.push(Math.max(...paint.painted) - paint.started);
  }
  times.sort((a, b) => a - b);
  const at = (share) => times[Math.min(times.length - 1, Math.floor(times.length * share))];
  console.log(`studio ${frames} ${at(0.5).toFixed(1)} ${at(0.95).toFixed(1)}`);
} finally {
  await browser.close();
}
