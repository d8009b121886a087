/// <reference lib="dom" />
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { createSampleApp } from '../../sample-app/bootstrap.js';
import { chromiumAvailable, withChromium } from '../support/chromium.js';
import { TRANSPORT_NAMES, type TransportName } from '../support/client.js';
import { listenOnLoopback } from '../support/hub-app.js';

// The sample page on the official client in a real browser, its 6-second tokens refreshed by the
// package's client extension: the connection outlives several of them (30 s) without a reconnect.

const TOKEN_TTL_SECONDS = 6;
const HOLD_MS = 30_000;

describe.runIf(chromiumAvailable())('the sample page refreshing short-lived tokens in headless Chromium', () => {
  const suite = withChromium(async () => listenOnLoopback(await createSampleApp({ logger: false })));

  /** Signs in on the page with its transport and token lifetime; counts the page's negotiates and refreshes. */
  async function signIn(transport: TransportName): Promise<{ page: Page; negotiates: number[]; refreshes: number[] }> {
    const page = await (await suite.browser.newContext()).newPage();
    const negotiates: number[] = [];
    const refreshes: number[] = [];
    page.on('response', (response) => {
      const { pathname } = new URL(response.url());
      if (pathname === '/hubs/chat/negotiate') negotiates.push(response.status());
      if (pathname === '/hubs/chat/refresh') refreshes.push(response.status());
    });
    await page.goto(`${suite.server.baseUrl}/?transport=${transport}&ttlSeconds=${TOKEN_TTL_SECONDS}`);
    await page.click('#login button[type=submit]');
    await page.waitForSelector('#state[data-state=connected]');
    await page.evaluate(() => {
      const states: string[] = [];
      (window as { seenStates?: string[] }).seenStates = states;
      const state = document.querySelector('#state') as HTMLElement;
      new MutationObserver(() => states.push(state.dataset.state ?? '')).observe(state, { attributes: true });
    });
    return { page, negotiates, refreshes };
  }

  it(
    `keeps the connection of every transport through ${HOLD_MS / 1000} s of ${TOKEN_TTL_SECONDS}-second tokens, with no reconnect`,
    async () => {
      const pages = await Promise.all(TRANSPORT_NAMES.map((transport) => signIn(transport)));
      await pages[0].page.waitForTimeout(HOLD_MS);
      for (const { page, negotiates, refreshes } of pages) {
        expect(await page.getAttribute('#state', 'data-state')).toBe('connected');
        expect(await page.evaluate(() => (window as { seenStates?: string[] }).seenStates)).toEqual([]);
        expect(negotiates).toEqual([200]);
        expect(refreshes.length).toBeGreaterThanOrEqual(HOLD_MS / (TOKEN_TTL_SECONDS * 1000));
        expect(refreshes.every((status) => status === 200)).toBe(true);
        // The connection still serves its user: a room joined and a message sent after every token it started with expired.
        await page.fill('#rooms input[name=room]', 'refreshed');
        await page.click('#rooms button[name=join]');
        await page.waitForFunction(() => document.querySelector('#joined')?.textContent?.includes('refreshed'));
        await page.fill('#send input[name=text]', 'still here');
        await page.click('#send button[type=submit]');
        await page.waitForFunction(() => [...document.querySelectorAll('#messages li')].some((item) => item.textContent?.includes('still here')));
        expect(await page.textContent('#error')).toBe('');
      }
    },
    HOLD_MS + 40_000,
  );

  it("refuses a refresh with another user's token in the browser; the connection keeps its user and closes at the old expiry", async () => {
    // The page's CSP refuses inline scripts, the test's own included: this context lets the test's through.
    const page = await (await suite.browser.newContext({ bypassCSP: true })).newPage();
    await page.goto(suite.server.baseUrl);
    // The extension as the page loads it, handed to the test's script (a module the page imports).
    await page.addScriptTag({
      type: 'module',
      content: "import { AuthenticationRefresh } from '/vendor/nestjs-signalr/authentication-refresh.js'; window.AuthenticationRefresh = AuthenticationRefresh;",
    });
    await page.waitForFunction(() => 'AuthenticationRefresh' in window);
    const outcome = await page.evaluate(async () => {
      const { AuthenticationRefresh } = window as unknown as typeof import('nestjs-signalr/client');
      const { HubConnectionBuilder } = (window as unknown as { signalR: typeof import('@microsoft/signalr') }).signalR;
      const [bob, mallory] = await Promise.all(
        [['bob', 3] as const, ['alice', 600] as const].map(async ([username, ttlSeconds]) => {
          const response = await fetch('/auth/login', {
            method: 'POST',
            headers: { 'Content-Type': 'application/json' },
            body: JSON.stringify({ username, password: `${username}-pass`, ttlSeconds }),
          });
          return ((await response.json()) as { access_token: string }).access_token;
        }),
      );
      let token = bob;
      const refresh = new AuthenticationRefresh('/hubs/chat', { accessTokenFactory: () => token });
      const connection = refresh.attach(new HubConnectionBuilder().withUrl('/hubs/chat', { accessTokenFactory: () => token }).build());
      const closed = new Promise<number>((resolve) => connection.onclose(() => resolve(performance.now())));
      await connection.start();
      const startedAt = performance.now();
      token = mallory;
      const refusal = await refresh.refresh().then(
        () => 'accepted',
        (error: { statusCode?: number }) => error.statusCode,
      );
      const stillBob = await connection.invoke('Whoami');
      return { refusal, stillBob, closedAfterMs: (await closed) - startedAt };
    });
    expect(outcome.refusal).toBe(403);
    expect(outcome.stillBob).toMatchObject({ name: 'bob' });
    // Closed by the server when bob's 3-second token ran out, not by the refusal.
    expect(outcome.closedAfterMs).toBeGreaterThan(1000);
  });
});
