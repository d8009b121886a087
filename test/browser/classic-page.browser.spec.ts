/// <reference lib="dom" />
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { createSampleApp } from '../../sample-app/bootstrap.js';
import { chromiumAvailable, withChromium } from '../support/chromium.js';
import { listenOnLoopback } from '../support/hub-app.js';

// The sample's classic page (`/classic.html`, the unmodified jQuery client 2.4.3 on the classic
// endpoint) beside its modern page, in one browser (sample-app-contract.md, "Classic endpoint").
// A file of its own: each sample app registers its Passport strategy under one name.

async function join(page: Page, room: string): Promise<void> {
  await page.fill('#rooms input[name=room]', room);
  await page.click('#rooms button[name=join]');
  await page.waitForFunction((name) => document.querySelector('#joined')?.textContent?.includes(name), room);
}

async function say(page: Page, text: string): Promise<void> {
  await page.fill('#send input[name=text]', text);
  await page.click('#send button[type=submit]');
}

async function messagesOf(page: Page, count: number): Promise<string[]> {
  await page.waitForFunction((n) => document.querySelectorAll('#messages li').length >= n, count);
  return page.$$eval('#messages li', (items) => items.map((item) => item.textContent ?? ''));
}

// Each test signs two pages in and exchanges messages: on a loaded machine, more than the default 20 s.
describe.runIf(chromiumAvailable())('the sample classic page in headless Chromium', { timeout: 60_000 }, () => {
  const suite = withChromium(async () => listenOnLoopback(await createSampleApp({ logger: false })));

  /** Signs in on `path`, noting which classic transport the page used. */
  async function signIn(path: string, username: string): Promise<{ page: Page; used: Set<string> }> {
    const page = await (await suite.browser.newContext()).newPage();
    const used = new Set<string>();
    page.on('websocket', (socket) => socket.url().includes('/signalr/connect') && used.add('webSockets'));
    page.on('request', (request) => {
      const transport = /\/signalr\/connect\?transport=(\w+)/.exec(request.url())?.[1];
      if (transport && transport !== 'webSockets') used.add(transport);
    });
    await page.goto(`${suite.server.baseUrl}${path}`);
    await page.fill('input[name=username]', username);
    await page.fill('input[name=password]', `${username}-pass`);
    await page.click('#login button[type=submit]');
    await page.waitForSelector('#state[data-state=connected]');
    return { page, used };
  }

  it('puts a jQuery client and an official client in one room: each sees the other', async () => {
    const alice = await signIn('/classic.html', 'alice');
    const bob = await signIn('/', 'bob');
    // The client's first choice; on a slow machine it may fall back after its 5 s start timeout.
    expect([...alice.used][0]).toBe('webSockets');
    expect(await alice.page.textContent('#whoami')).toBe('as alice');
    await join(alice.page, 'both-kinds');
    await join(bob.page, 'both-kinds');
    await say(alice.page, 'from jQuery');
    expect(await messagesOf(bob.page, 1)).toEqual(['#both-kinds alice: from jQuery']);
    await say(bob.page, 'from @microsoft/signalr');
    expect(await messagesOf(alice.page, 2)).toEqual(['#both-kinds alice: from jQuery', '#both-kinds bob: from @microsoft/signalr']);
    await alice.page.click('#logout');
    await alice.page.waitForSelector('#state[data-state=disconnected]');
  });

  it.each([
    ['ServerSentEvents', 'serverSentEvents'],
    ['LongPolling', 'longPolling'],
  ])('chats over %s when the page asks for it', async (transport, classicName) => {
    const alice = await signIn(`/classic.html?transport=${transport}`, 'alice');
    const bob = await signIn(`/classic.html?transport=${transport}`, 'bob');
    expect([...alice.used, ...bob.used]).toEqual([classicName, classicName]);
    await join(alice.page, 'classic-only');
    await join(bob.page, 'classic-only');
    await say(bob.page, `over ${classicName}`);
    expect(await messagesOf(alice.page, 1)).toEqual([`#classic-only bob: over ${classicName}`]);
  });

  it("shows the hub's refusals on the page, as the modern page does", async () => {
    const { page } = await signIn('/classic.html', 'alice');
    await say(page, 'nobody hears this');
    await page.waitForFunction(() => document.querySelector('#error')?.textContent !== '');
    expect(await page.textContent('#error')).toContain('Join a room first.');
    await page.fill('#rooms input[name=room]', 'admins');
    await page.click('#rooms button[name=join]');
    await page.waitForFunction(() => document.querySelector('#error')?.textContent?.includes('not allowed'));
    expect(await page.textContent('#joined')).toBe('none');
  });
});
