import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll } from 'vitest';
import type { RunningHubApp } from './hub-app.js';

export const CHROMIUM_PATH = '/usr/bin/chromium';

/**
 * Debian's Chromium, driven by playwright-core (it cannot download a browser here). Missing
 * outside CI: the suite skips, loudly. Missing under CI: the suite fails.
 */
export function chromiumAvailable(): boolean {
  if (existsSync(CHROMIUM_PATH)) return true;
  if (process.env.CI === 'true') throw new Error(`${CHROMIUM_PATH} is missing: .ci/run must install the chromium package.`);
  process.stderr.write(`SKIPPING browser tests: ${CHROMIUM_PATH} is not installed (apt-get install -y chromium).\n`);
  return false;
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
  });
}

/** A suite's server and headless Chromium: started before its tests, closed after them. */
export interface BrowserSuite {
  readonly server: RunningHubApp;
  readonly browser: Browser;
}

/** Starts `start`'s server and Chromium together for the suite this is called in. */
export function withChromium(start: () => Promise<RunningHubApp>): BrowserSuite {
  const suite = {} as { server: RunningHubApp; browser: Browser };
  beforeAll(async () => {
    [suite.server, suite.browser] = await Promise.all([start(), launchChromium()]);
  });
  afterAll(async () => {
    await suite.browser?.close();
    await suite.server?.close();
  });
  return suite;
}
