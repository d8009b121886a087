/// <reference lib="dom" />
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { FAILED_LOGINS_PER_WINDOW } from '../../sample-app/auth/failed-logins.js';
import { createSampleApp } from '../../sample-app/bootstrap.js';
import { chromiumAvailable, withChromium } from '../support/chromium.js';
import { connectClient } from '../support/client.js';
import { listenOnLoopback } from '../support/hub-app.js';

const XSS = '<img src=x onerror="window.xssRan = true">';

async function join(page: Page, room: string): Promise<void> {
  await page.fill('#rooms input[name=room]', room);
  await page.click('#rooms button[name=join]');
  await page.waitForFunction((name) => document.querySelector('#joined')?.textContent?.includes(name), room);
}

/** A numbered chat line of 2,000 characters, the longest SendToRoom takes. */
const text = (i: number) => `${String(i).padStart(4, '0')} ${'m'.repeat(1995)}`;

describe.runIf(chromiumAvailable())('the sample chat page in headless Chromium', () => {
  const suite = withChromium(async () => listenOnLoopback(await createSampleApp({ logger: false })));

  async function loginToken(username: string): Promise<string> {
    const response = await fetch(`${suite.server.baseUrl}/auth/login`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ username, password: `${username}-pass` }),
    });
    return ((await response.json()) as { access_token: string }).access_token;
  }

  async function signIn(username: string, beforeLoad: (page: Page) => void = () => undefined): Promise<Page> {
    const page = await (await suite.browser.newContext()).newPage();
    beforeLoad(page);
    page.on('dialog', (dialog) => {
      throw new Error(`unexpected dialog: ${dialog.message()}`);
    });
    await page.goto(suite.server.baseUrl);
    await page.fill('input[name=username]', username);
    await page.fill('input[name=password]', `${username}-pass`);
    await page.click('#login button[type=submit]');
    await page.waitForSelector('#state[data-state=connected]');
    return page;
  }

  it('lets two users chat in a room, rendering hostile text as text', async () => {
    const alice = await signIn('alice');
    const bob = await signIn('bob');
    await join(alice, 'general');
    await join(bob, 'general');
    await alice.fill('#send input[name=text]', `hello bob ${XSS}`);
    await alice.click('#send button[type=submit]');
    await bob.waitForFunction(() => document.querySelectorAll('#messages li').length > 0);
    const line = await bob.textContent('#messages li');
    expect(line).toBe(`#general alice: hello bob ${XSS}`);
    expect(await bob.locator('#messages img').count()).toBe(0);
    await bob.waitForTimeout(100);
    expect(await bob.evaluate(() => (window as { xssRan?: boolean }).xssRan)).toBeUndefined();
    expect(await alice.evaluate(() => (window as { xssRan?: boolean }).xssRan)).toBeUndefined();
    // Kept out of the tree; docs/sample-chat.png in the README is a copy of it.
    await alice.screenshot({ path: 'test-results/sample-chat.png', fullPage: true });
  });

  it('hides the announcement box from non-admins, whom the server refuses anyway', async () => {
    const bob = await signIn('bob');
    expect(await bob.isHidden('#announce-box')).toBe(true);
    const refusal = await bob.evaluate(async () => {
      const { HubConnectionBuilder } = (window as unknown as { signalR: typeof import('@microsoft/signalr') }).signalR;
      const response = await fetch('/auth/login', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ username: 'bob', password: 'bob-pass' }),
      });
      const { access_token } = await response.json();
      const connection = new HubConnectionBuilder().withUrl('/hubs/chat', { accessTokenFactory: () => access_token }).build();
      await connection.start();
      try {
        await connection.invoke('Announce', 'I am not an admin');
        return 'accepted';
      } catch (error) {
        return (error as Error).message;
      } finally {
        await connection.stop();
      }
    });
    expect(refusal).toBe("Failed to invoke 'Announce' because user is unauthorized");

    const admin = await signIn('admin');
    expect(await admin.isVisible('#announce-box')).toBe(true);
    await admin.fill('#announce input[name=text]', 'maintenance at noon');
    await admin.click('#announce button[type=submit]');
    await bob.waitForFunction(() => document.querySelector('#messages .announcement')?.textContent?.includes('maintenance at noon'));
  });

  it('keeps every stateful member of a room connected through a 1 MB burst, each showing all of it in order', async () => {
    const members = [await signIn('alice'), await signIn('bob'), await signIn('admin')];
    for (const page of members) {
      await join(page, 'burst');
      // Every state the page goes through from here on: a reconnect would show in it.
      await page.evaluate(() => {
        const states: string[] = [];
        (window as { seenStates?: string[] }).seenStates = states;
        const state = document.querySelector('#state') as HTMLElement;
        new MutationObserver(() => states.push(state.dataset.state ?? '')).observe(state, { attributes: true });
      });
    }
    const senders = [];
    for (const name of ['alice', 'bob']) {
      const token = await loginToken(name);
      const sender = await connectClient(`${suite.server.baseUrl}/hubs/chat`, { accessTokenFactory: () => token });
      await sender.invoke('JoinRoom', 'burst');
      senders.push(sender);
    }
    const perSender = 256;
    // Sent without waiting for answers: 1 MB at once, ten times each member's replay buffer.
    await Promise.all(senders.flatMap((sender) => Array.from({ length: perSender }, (_, i) => sender.invoke('SendToRoom', 'burst', text(i)))));

    const inOrder = Array.from({ length: perSender }, (_, i) => String(i).padStart(4, '0'));
    for (const page of members) {
      await page.waitForFunction((expected) => document.querySelectorAll('#messages li').length >= expected, 2 * perSender, { timeout: 20_000 });
      const lines = await page.$$eval('#messages li', (items) => items.map((item) => item.textContent ?? ''));
      for (const name of ['alice', 'bob']) {
        expect(lines.map((line) => line.match(new RegExp(`^#burst ${name}: (\\d{4}) `))?.[1]).filter(Boolean)).toEqual(inOrder);
      }
      expect(await page.getAttribute('#state', 'data-state')).toBe('connected');
      expect(await page.evaluate(() => (window as { seenStates?: string[] }).seenStates)).toEqual([]);
    }
    await Promise.all(senders.map((sender) => sender.stop()));
  }, 60_000);

  it('closes the socket on sign-out', async () => {
    let hubSocketClosed: Promise<void> | undefined;
    const alice = await signIn('alice', (page) =>
      page.on('websocket', (socket) => {
        if (socket.url().includes('/hubs/chat')) hubSocketClosed = new Promise((resolve) => socket.on('close', () => resolve()));
      }),
    );
    expect(hubSocketClosed).toBeDefined();
    await alice.click('#logout');
    await hubSocketClosed;
    await alice.waitForSelector('#state[data-state=disconnected]');
    expect(await alice.isVisible('#login')).toBe(true);
  });

  it('tells a visitor blocked after failed logins to wait, even with the right password', async () => {
    // A server of its own: the block is per address, and every page here comes from 127.0.0.1.
    const blocking = await listenOnLoopback(await createSampleApp({ logger: false }));
    try {
      for (let i = 0; i < FAILED_LOGINS_PER_WINDOW; i++) {
        const response = await fetch(`${blocking.baseUrl}/auth/login`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({ username: 'alice', password: `guess-${i}` }),
        });
        expect(response.status).toBe(401);
      }
      const page = await (await suite.browser.newContext()).newPage();
      await page.goto(blocking.baseUrl);
      const answer = page.waitForResponse((response) => response.url().endsWith('/auth/login'));
      await page.click('#login button[type=submit]');
      expect((await answer).status()).toBe(429);
      await page.waitForFunction(() => document.querySelector('#login-error')?.textContent !== '');
      expect(await page.textContent('#login-error')).toBe('Too many logins from this address: try again in a minute.');
      expect(await page.getAttribute('#state', 'data-state')).toBe('disconnected');
    } finally {
      await blocking.close();
    }
  }, 60_000);
});
