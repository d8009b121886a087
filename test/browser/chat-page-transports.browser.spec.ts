/// <reference lib="dom" />
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { createSampleApp } from '../../sample-app/bootstrap.js';
import { chromiumAvailable, withChromium } from '../support/chromium.js';
import { listenOnLoopback } from '../support/hub-app.js';

// The sample page over the transports a browser falls back to (sample-app-contract.md,
// "Transports"); WebSockets are chat-page.browser.spec.ts's. A file of its own: each sample app
// registers its Passport strategy under one name, so a second app in the same process would
// take the first one's.

async function join(page: Page, room: string): Promise<void> {
  await page.fill('#rooms input[name=room]', room);
  await page.click('#rooms button[name=join]');
  await page.waitForFunction((name) => document.querySelector('#joined')?.textContent?.includes(name), room);
}

describe.runIf(chromiumAvailable()).each(['ServerSentEvents', 'LongPolling'] as const)('the sample chat page in headless Chromium, forced to %s by ?transport=', (transport) => {
  const suite = withChromium(async () => listenOnLoopback(await createSampleApp({ logger: false })));

  /** Signs in on `?transport=`, noting how the page reached the chat hub. */
  async function signInOver(username: string): Promise<{ page: Page; used: Set<string> }> {
    const page = await (await suite.browser.newContext()).newPage();
    const used = new Set<string>();
    page.on('websocket', (socket) => socket.url().includes('/hubs/chat') && used.add('WebSockets'));
    page.on('request', (request) => {
      if (!request.url().includes('/hubs/chat?id=') || request.method() !== 'GET') return;
      used.add(request.headers().accept === 'text/event-stream' ? 'ServerSentEvents' : 'LongPolling');
    });
    await page.goto(`${suite.server.baseUrl}/?transport=${transport}`);
    await page.fill('input[name=username]', username);
    await page.fill('input[name=password]', `${username}-pass`);
    await page.click('#login button[type=submit]');
    await page.waitForSelector('#state[data-state=connected]');
    return { page, used };
  }

  it('connects over it only, and two users chat in a room', async () => {
    const alice = await signInOver('alice');
    const bob = await signInOver('bob');
    expect(await alice.page.inputValue('#login select[name=transport]')).toBe(transport);
    await join(alice.page, 'fallback');
    await join(bob.page, 'fallback');
    await alice.page.fill('#send input[name=text]', `over ${transport}`);
    await alice.page.click('#send button[type=submit]');
    await bob.page.waitForFunction(() => document.querySelectorAll('#messages li').length > 0);
    expect(await bob.page.textContent('#messages li')).toBe(`#fallback alice: over ${transport}`);
    expect([...alice.used, ...bob.used]).toEqual([transport, transport]);
    await alice.page.click('#logout');
    await alice.page.waitForSelector('#state[data-state=disconnected]');
  });

  it("streams both ways, gets the hub's errors, reconnects, and has another user's request refused, with the browser's own client", async () => {
    const { page } = await signInOver('alice');
    const outcome = await page.evaluate(async (transportName) => {
      const signalR = (window as unknown as { signalR: typeof import('@microsoft/signalr') }).signalR;
      // Runs in the page, which the test's own scope does not reach.
      // oxlint-disable-next-line unicorn/consistent-function-scoping
      const login = async (username: string) => {
        const response = await fetch('/auth/login', {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({ username, password: `${username}-pass` }),
        });
        return ((await response.json()) as { access_token: string }).access_token;
      };
      const alice = await login('alice');
      const connection = new signalR.HubConnectionBuilder()
        .withUrl('/hubs/chat', { accessTokenFactory: () => alice, transport: signalR.HttpTransportType[transportName] })
        .withAutomaticReconnect()
        .build();
      await connection.start();
      const counted: number[] = [];
      await new Promise<void>((resolve, reject) =>
        connection.stream<number>('Counter', 3, 1).subscribe({ next: (n) => counted.push(n), complete: resolve, error: reject }),
      );
      const numbers = new signalR.Subject<number>();
      const sum = connection.invoke<number>('Sum', numbers);
      [4, 5, 6].forEach((n) => numbers.next(n));
      numbers.complete();
      const failure = await connection.invoke('Fail').catch((error: Error) => error.message);
      const firstId = connection.connectionId;
      const reconnected = new Promise<string | undefined>((resolve) => connection.onreconnected(resolve));
      // The official functional tests' way of making the client believe the server went silent.
      (connection as unknown as { serverTimeout(): void }).serverTimeout();
      const secondId = await reconnected;
      const whoami = await connection.invoke<{ name: string }>('Whoami');
      await connection.stop();
      // Alice's connection token presented with bob's credential, as a browser's event stream sends it.
      const negotiated = await fetch('/hubs/chat/negotiate?negotiateVersion=1', { method: 'POST', headers: { Authorization: `Bearer ${alice}` } });
      const { connectionToken } = (await negotiated.json()) as { connectionToken: string };
      const asBob = await fetch(`/hubs/chat?id=${encodeURIComponent(connectionToken)}&access_token=${await login('bob')}`, {
        headers: { Accept: transportName === 'ServerSentEvents' ? 'text/event-stream' : '*/*' },
      });
      return { counted, sum: await sum, failure, reconnectedAnew: secondId !== undefined && secondId !== firstId, whoami: whoami.name, asBob: asBob.status };
    }, transport);
    expect(outcome).toEqual({
      counted: [0, 1, 2],
      sum: 15,
      failure: "An unexpected error occurred invoking 'Fail' on the server.",
      reconnectedAnew: true,
      whoami: 'alice',
      asBob: 403,
    });
  });
});
