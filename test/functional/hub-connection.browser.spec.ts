/// <reference lib="dom" />
import { describe, expect, it } from 'vitest';
import { chromiumAvailable, withChromium } from '../support/chromium.js';
import { startFunctionalServer } from './functional-app.js';

// Their HubConnectionTests.ts test that runs in browsers only ("there will always be a WebSockets
// implementation on Node"): with WebSocket broken, the client falls back to the next transport.

describe.runIf(chromiumAvailable())('hubConnection in headless Chromium', () => {
  const suite = withChromium(() => startFunctionalServer('http'));

  it('transport falls back from WebSockets to SSE or LongPolling', async () => {
    const page = await (await suite.browser.newContext()).newPage();
    await page.goto(suite.server.baseUrl);
    await page.addScriptTag({ url: '/lib/signalr/signalr.js' });
    const transportName = await page.evaluate(async () => {
      const signalR = (window as unknown as { signalR: typeof import('@microsoft/signalr') }).signalR;
      // Theirs: WebSocket replaced by a function that throws, to force the fallback.
      const realWebSocket = window.WebSocket;
      (window as { WebSocket: unknown }).WebSocket = () => {
        throw new Error('Kick rocks');
      };
      try {
        const connection = new signalR.HubConnectionBuilder().withUrl('/testhub').withHubProtocol(new signalR.JsonHubProtocol()).build();
        await connection.start();
        const name = await connection.invoke<string>('GetActiveTransportName');
        await connection.stop();
        return name;
      } finally {
        window.WebSocket = realWebSocket;
      }
    });
    expect(['ServerSentEvents', 'LongPolling']).toContain(transportName);
  });
});
