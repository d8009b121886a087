import { JwtService } from '@nestjs/jwt';
import type { SignalRModuleOptions } from 'nestjs-signalr';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { WebSocket } from 'ws';
import { ClientPool } from '../../support/client.js';
import { ClassicPage, ClassicPages, classicConnection } from '../../support/classic-client.js';
import { startHubApp, type RunningHubApp } from '../../support/hub-app.js';
import { signFor, TestAuthModule } from '../../support/jwt-auth.js';
import { sleep, waitFor } from '../../support/wait.js';
import { CLASSIC_HUBS } from './classic-hubs.js';

const TRANSPORTS = ['webSockets', 'serverSentEvents', 'longPolling'] as const;
const OPEN_HUB = encodeURIComponent(JSON.stringify([{ name: 'openhub' }]));

interface Negotiated {
  readonly ConnectionToken: string;
  readonly KeepAliveTimeout: number;
  readonly ConnectionTimeout: number;
}

/** Negotiates for OpenHub anonymously; the query every later request of the connection carries. */
async function negotiate(server: RunningHubApp): Promise<{ negotiated: Negotiated; query: (transport: string) => string }> {
  const negotiated = (await (await fetch(`${server.baseUrl}/signalr/negotiate?clientProtocol=2.1&connectionData=${OPEN_HUB}`)).json()) as Negotiated;
  const query = (transport: string) => `transport=${transport}&clientProtocol=2.1&connectionToken=${encodeURIComponent(negotiated.ConnectionToken)}&connectionData=${OPEN_HUB}`;
  return { negotiated, query };
}

/** What a receive channel carried, payload by payload, until `count` arrived. */
async function firstPayloads(server: RunningHubApp, transport: 'webSockets' | 'serverSentEvents', count: number): Promise<{ negotiated: Negotiated; payloads: string[] }> {
  const { negotiated, query } = await negotiate(server);
  const payloads: string[] = [];
  if (transport === 'webSockets') {
    const socket = new WebSocket(`${server.baseUrl.replace('http', 'ws')}/signalr/connect?${query(transport)}`);
    socket.on('message', (data: Buffer) => payloads.push(data.toString('utf8')));
    await waitFor(() => payloads.length >= count, 20_000);
    socket.close();
  } else {
    const controller = new AbortController();
    const response = await fetch(`${server.baseUrl}/signalr/connect?${query(transport)}`, { signal: controller.signal });
    const decoder = new TextDecoder();
    let text = '';
    for await (const chunk of response.body!) {
      text += decoder.decode(chunk as Uint8Array, { stream: true });
      const events = text.split('\n\n').slice(0, -1);
      if (events.length >= count + 1) {
        // The first event only says the stream is open.
        expect(events[0]).toBe('data: initialized');
        payloads.push(...events.slice(1).map((event) => event.replace(/^data: /, '')));
        break;
      }
    }
    controller.abort();
  }
  return { negotiated, payloads: payloads.slice(0, count) };
}

describe('classic keep-alives, from the interval negotiate announces', () => {
  let server: RunningHubApp;
  const pages = new ClassicPages();

  beforeAll(async () => {
    server = await startHubApp(CLASSIC_HUBS, { authStrategies: ['jwt'], classic: { keepAliveMs: 2000, connectionTimeoutMs: 2000 } }, { imports: [TestAuthModule] });
  });

  afterEach(() => pages.closeAll());

  afterAll(() => server.close());

  it.each(['webSockets', 'serverSentEvents'] as const)('sends {} on a quiet %s, and announces twice the interval as the keep-alive timeout', async (transport) => {
    const { negotiated, payloads } = await firstPayloads(server, transport, 3);
    expect(negotiated.KeepAliveTimeout).toBe(4);
    expect(JSON.parse(payloads[0]!)).toMatchObject({ S: 1, M: [] });
    expect(payloads.slice(1)).toEqual(['{}', '{}']);
  });

  it('answers a quiet long poll empty after the connection timeout negotiate announces, with the cursor', async () => {
    const { negotiated, query } = await negotiate(server);
    expect(negotiated.ConnectionTimeout).toBe(2);
    const post = (operation: string, messageId = '') =>
      fetch(`${server.baseUrl}/signalr/${operation}?${query('longPolling')}`, { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ messageId }) });
    const init = (await (await post('connect')).json()) as { C: string };
    expect((await fetch(`${server.baseUrl}/signalr/start?${query('longPolling')}`)).status).toBe(200);
    expect(await (await post('poll', init.C)).json()).toEqual({ C: init.C, M: [] });
  });

  it('keeps the jQuery client connected on every transport while nothing is sent, for several keep-alive timeouts', async () => {
    const started = await Promise.all(
      TRANSPORTS.map(async (transport) => {
        const connection = await pages.connection(server.baseUrl);
        const hub = connection.createHubProxy('OpenHub').on('nothing', () => undefined);
        const troubles: string[] = [];
        connection.reconnecting(() => troubles.push('reconnecting'));
        connection.disconnected(() => troubles.push('disconnected'));
        await connection.start({ transport });
        return { transport, hub, troubles };
      }),
    );
    // The client drops a transport silent for the keep-alive timeout (4 s here), and reconnects.
    await sleep(12_000);
    for (const { transport, hub, troubles } of started) {
      expect(troubles, transport).toEqual([]);
      await expect(hub.invoke('ping')).resolves.toBe('pong');
    }
  });
});

describe('classic clients when the server shuts down', () => {
  it.each(TRANSPORTS)('are told to stop over %s, and do not try to reconnect', async (transport) => {
    const server = await startHubApp(CLASSIC_HUBS, { authStrategies: ['jwt'], classic: true }, { imports: [TestAuthModule] });
    const page = await ClassicPage.open(server.baseUrl);
    try {
      const connection = classicConnection(page, server.baseUrl);
      const hub = connection.createHubProxy('OpenHub').on('nothing', () => undefined);
      const events: string[] = [];
      connection.error((error) => events.push(`error: ${error.message}`));
      connection.reconnecting(() => events.push('reconnecting'));
      connection.disconnected(() => events.push('disconnected'));
      await connection.start({ transport });
      await expect(hub.invoke('ping')).resolves.toBe('pong');
      // A long-polling client polls again once its answer arrived: the server holds that poll.
      await sleep(500);
      await server.close();
      await waitFor(() => events.includes('disconnected'), 10_000);
      expect(events).toEqual(['error: The server is shutting down.', 'disconnected']);
    } finally {
      page.close();
    }
  });
});

describe('the connection caps and a classic connection', () => {
  let server: RunningHubApp;
  let jwt: JwtService;
  const pages = new ClassicPages();
  const modernClients = new ClientPool();

  const open = async (...hubs: string[]) => {
    const connection = await pages.connection(server.baseUrl, signFor(jwt, 'alice'));
    const proxies = hubs.map((hub) => connection.createHubProxy(hub).on('nothing', () => undefined));
    const failure = await Promise.resolve(connection.start({ transport: 'longPolling' })).then(
      () => undefined,
      (error: { context?: { status?: number } }) => error.context?.status ?? 'failed',
    );
    return { connection, proxies, failure };
  };

  beforeAll(async () => {
    const options: SignalRModuleOptions = { authStrategies: ['jwt'], classic: true, maximumConnections: 1 };
    server = await startHubApp(CLASSIC_HUBS, options, { imports: [TestAuthModule] });
    jwt = server.app.get(JwtService);
  });

  afterEach(async () => {
    await modernClients.stopAll();
    pages.closeAll();
  });

  afterAll(() => server.close());

  it('takes one slot for a connection with two hubs, refuses the next connection, and gives the slot back when it ends', async () => {
    const first = await open('chatHub', 'OpenHub');
    expect(first.failure).toBeUndefined();
    await expect(first.proxies[0]!.invoke('whoami')).resolves.toBe('alice');
    await expect(first.proxies[1]!.invoke('ping')).resolves.toBe('pong');
    expect((await open('OpenHub')).failure).toBe(503);
    await expect(modernClients.connect(`${server.baseUrl}/hubs/open`)).rejects.toThrow();
    first.connection.stop();
    // Its abort is sent as it stops; the slot is back once the server ended the connection.
    await vi.waitFor(async () => expect((await open('OpenHub')).failure).toBeUndefined(), { timeout: 5000, interval: 100 });
  });
});
