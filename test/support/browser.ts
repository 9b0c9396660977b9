// Chromium for the dashboard's browser tests: Debian's `chromium` package driven by
// playwright-core (no browser download). Without it a test skips with the reason on a
// developer's machine and fails under .ci/run (VIGIL_REQUIRE_PEERS=1), which installs it.
import { existsSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Context } from 'mocha';
import { chromium, type Browser, type Page } from 'playwright-core';
import { skipWithout } from './peer.ts';

export const CHROMIUM = process.env.VIGIL_CHROMIUM || '/usr/bin/chromium';

/** Where browser tests write screenshots (git-ignored). */
export const WEB_OUTPUT = fileURLToPath(new URL('../../test-output/web/', import.meta.url));

export async function launchChromium(ctx: Context): Promise<Browser> {
  if (!existsSync(CHROMIUM)) skipWithout(ctx, `no Chromium at ${CHROMIUM} (Debian: apt-get install chromium; or set VIGIL_CHROMIUM)`);
  // --no-sandbox: CI runs as root, where Chromium's sandbox refuses to start
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
}

/** A page of `width` px, in UTC (so a test can type times into the page's inputs), that records what the page logs as errors (uncaught exceptions, console.error). */
export async function openPage(browser: Browser, width: number, height = 900): Promise<{ page: Page; errors: string[] }> {
  const page = await browser.newPage({ viewport: { width, height }, timezoneId: 'UTC' });
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => { if (m.type() === 'error') errors.push(`console: ${m.text()}`); });
  return { page, errors };
}

export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(WEB_OUTPUT, { recursive: true });
  const path = `${WEB_OUTPUT}${name}.png`;
  await page.screenshot({ path, fullPage: true });
  return path;
}
