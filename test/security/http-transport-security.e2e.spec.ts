import { Module } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import { SignalRModule } from 'nestjs-signalr';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CapturingLogger } from '../support/capturing-logger.js';
import { RawEventStream, RawFallbackConnection, RawPollingClient } from '../support/http-transport-client.js';
import { createHubApp, listenOnLoopback, type RunningHubApp } from '../support/hub-app.js';
import { signFor, TestAuthModule } from '../support/jwt-auth.js';
import { negotiate, rawHttp } from '../support/raw-client.js';
import { HubCodeRuns, NotBannedPolicy, OpenHub, PrivateHub } from './security-hubs.js';

// Every request of a Server-Sent Events or long-polling connection (the event stream, each poll,
// each send, the DELETE) is checked as the WebSocket upgrade is: Host, Origin, the application's
// Passport strategies, the hub's @Authorize, and the sealed connection token, bound to the hub and
// to the user the request authenticated.

const ALLOWED = 'https://app.example.test';
const FOREIGN = 'https://evil.example.test';
const IDENTITY_CHANGED = 'The user identity cannot change during an active connection.';
const FALLBACK_TRANSPORTS = ['ServerSentEvents', 'LongPolling'] as const;

const logger = new CapturingLogger();

@Module({
  imports: [
    SignalRModule.forRoot({
      authStrategies: ['jwt'],
      allowedOrigins: [ALLOWED],
      allowedHosts: ['127.0.0.1:*'],
      maximumConnectionsPerUser: 2,
    }),
    TestAuthModule,
  ],
  providers: [OpenHub, PrivateHub, HubCodeRuns, NotBannedPolicy],
})
class GuardedModule {}

describe.each(FALLBACK_TRANSPORTS)('every %s request is checked as the WebSocket upgrade is', (transport) => {
  let server: RunningHubApp;
  let jwt: JwtService;
  let runs: HubCodeRuns;
  const bearer = (sub: string, ttlSeconds?: number) => ({ Authorization: `Bearer ${signFor(jwt, sub, ['user'], ttlSeconds)}` });
  const hub = (path: string) => `${server.baseUrl}${path}`;
  /** The request that opens the connection: the event stream, or the first poll. */
  const openStatus = async (requests: RawPollingClient, headers: Record<string, string>) => {
    if (transport === 'LongPolling') return (await requests.poll({ headers })).status;
    const stream = await RawEventStream.open(requests.url, headers);
    stream.close();
    return stream.status;
  };

  beforeAll(async () => {
    server = await listenOnLoopback(await createHubApp(GuardedModule, { logger }));
    jwt = server.app.get(JwtService);
    runs = server.app.get(HubCodeRuns);
  });

  beforeEach(() => {
    runs.count = 0;
  });

  afterAll(() => server.close());

  it("refuses a request with another user's credential, or none, with 403, and nothing reaches it or comes from it", async () => {
    const alice = await RawFallbackConnection.open(hub('/hubs/open'), transport, bearer('alice'));
    const { token, hubUrl } = alice.requests;
    const ranBefore = runs.count;
    for (const stranger of [bearer('bob'), {}]) {
      const as = new RawPollingClient(hubUrl, token, stranger);
      expect(await openStatus(as, stranger)).toBe(403);
      for (const answer of [await as.poll(), await as.send(invocation('2', 'Secret')), await as.remove()]) {
        expect([answer.status, answer.body]).toEqual([403, IDENTITY_CHANGED]);
      }
    }
    // Nothing ran for them, and alice's connection goes on, without their invocation's answer.
    expect(await alice.invoke('3', 'Whoami')).toMatchObject({ result: 'alice' });
    expect(runs.count).toBe(ranBefore);
    expect(alice.messages.some((message) => message.invocationId === '2')).toBe(false);
    await alice.stop();
  });

  it("re-authenticates every request: the hub's @Authorize refuses one without a credential (401)", async () => {
    const alice = await RawFallbackConnection.open(hub('/hubs/private'), transport, bearer('alice'));
    const anonymous = new RawPollingClient(alice.requests.hubUrl, alice.requests.token);
    for (const answer of [await anonymous.poll(), await anonymous.send(invocation('4', 'Ping')), await anonymous.remove()]) {
      expect([answer.status, answer.body, answer.headers.get('www-authenticate')]).toEqual([401, 'Unauthorized', 'Bearer']);
    }
    expect(await alice.invoke('5', 'Ping')).toMatchObject({ result: 'pong' });
    await alice.stop();
  });

  it("answers a tampered token or another hub's with 404 on every request, and none with 400", async () => {
    const alice = await RawFallbackConnection.open(hub('/hubs/open'), transport, bearer('alice'));
    const { token } = alice.requests;
    const tampered = `${token.slice(0, -2)}${token.endsWith('AA') ? 'BB' : 'AA'}`;
    const privateToken = (await negotiate(hub('/hubs/private'), { headers: bearer('alice') })).connectionToken;
    for (const presented of [tampered, privateToken]) {
      const other = new RawPollingClient(hub('/hubs/open'), presented, bearer('alice'));
      expect(await openStatus(other, bearer('alice'))).toBe(404);
      for (const answer of [await other.poll(), await other.send('x'), await other.remove()]) {
        expect([answer.status, answer.body]).toEqual([404, 'No Connection with that ID']);
      }
    }
    const withoutToken = await fetch(hub('/hubs/open'), { method: 'POST', headers: bearer('alice'), body: 'x' });
    expect([withoutToken.status, await withoutToken.text()]).toEqual([400, 'Connection ID required']);
    await alice.stop();
  });

  it('checks Origin on every request: a foreign one gets 403 and no CORS headers, an allowed one its CORS headers', async () => {
    const alice = await RawFallbackConnection.open(hub('/hubs/open'), transport, { ...bearer('alice'), Origin: ALLOWED });
    const sent = await alice.requests.send('');
    expect([sent.status, sent.headers.get('access-control-allow-origin')]).toEqual([200, ALLOWED]);
    const foreignHeaders = { ...bearer('alice'), Origin: FOREIGN };
    const foreign = new RawPollingClient(alice.requests.hubUrl, alice.requests.token, foreignHeaders);
    expect(await openStatus(foreign, foreignHeaders)).toBe(403);
    for (const answer of [await foreign.poll(), await foreign.send(invocation('6', 'Whoami')), await foreign.remove()]) {
      expect([answer.status, answer.body, answer.headers.get('access-control-allow-origin')]).toEqual([403, 'Forbidden', null]);
    }
    expect(await alice.invoke('7', 'Whoami')).toMatchObject({ result: 'alice' });
    await alice.stop();
  });

  it('checks Host on every request, before anything else', async () => {
    const alice = await RawFallbackConnection.open(hub('/hubs/open'), transport, bearer('alice'));
    const path = new URL(alice.requests.url).pathname + new URL(alice.requests.url).search;
    for (const method of ['GET', 'POST', 'DELETE']) {
      const answer = await rawHttp(server.baseUrl, method, path, [
        ['Host', 'rebound.example.test'],
        ['Authorization', bearer('alice').Authorization],
        ['Content-Length', '0'],
      ]);
      expect([answer.status, answer.body]).toEqual([400, 'The Host header names a host this server does not serve.']);
    }
    await alice.stop();
  });

  it("holds each connection under the caps from its first request: one over the user's cap is refused with 429", async () => {
    const tokens = await Promise.all([1, 2, 3].map(() => negotiate(hub('/hubs/open'), { headers: bearer('carol') })));
    const opened = await Promise.all(tokens.slice(0, 2).map(({ connectionToken }) => open(connectionToken, bearer('carol'))));
    const third = new RawPollingClient(hub('/hubs/open'), tokens[2].connectionToken, bearer('carol'));
    const refused = await (transport === 'LongPolling' ? third.poll() : fetch(third.url, { headers: { ...bearer('carol'), Accept: 'text/event-stream' } }));
    expect([refused.status, refused.headers.get('retry-after')]).toEqual([429, '10']);
    await Promise.all(opened.map((close) => close()));
  });

  it('closes the connection when its credential expires, with {"type":7,"allowReconnect":true}', async () => {
    // Two seconds: a JWT's expiry is in whole seconds, so one could leave nearly none to connect in.
    const alice = await RawFallbackConnection.open(hub('/hubs/private'), transport, bearer('alice', 2));
    await alice.until(() => alice.messages.some((message) => message.type === 7), 5000);
    expect(alice.messages.at(-1)).toEqual({ type: 7, allowReconnect: true });
  });

  it('logs refusals with the connection token and the access_token query redacted', async () => {
    const alice = signFor(jwt, 'alice');
    const bob = signFor(jwt, 'bob');
    const { connectionToken } = await negotiate(hub('/hubs/private'), { headers: { Authorization: `Bearer ${alice}` } });
    const url = `${hub('/hubs/private')}?id=${encodeURIComponent(connectionToken)}`;
    // Browsers send their credential in the event stream's query: as the official client writes it.
    const asBob = await fetch(`${url}&access_token=${bob}`, { headers: { Accept: 'text/event-stream' } });
    expect(asBob.status).toBe(403);
    const foreign = await fetch(`${url}&access_token=${alice}`, { headers: { Origin: FOREIGN } });
    expect(foreign.status).toBe(403);
    const text = logger.text();
    expect(text).toContain('access_token=[redacted]');
    for (const secret of [alice, bob, connectionToken]) expect(text).not.toContain(secret);
  });

  /** Opens a connection with its first request; gives what ends it. */
  async function open(connectionToken: string, headers: Record<string, string>): Promise<() => Promise<unknown>> {
    const requests = new RawPollingClient(hub('/hubs/open'), connectionToken, headers);
    if (transport === 'LongPolling') {
      expect((await requests.poll()).status).toBe(200);
      return () => requests.remove();
    }
    const stream = await RawEventStream.open(requests.url, headers);
    expect(stream.status).toBe(200);
    return async () => stream.close();
  }
});

function invocation(id: string, target: string, ...args: unknown[]): string {
  return `${JSON.stringify({ type: 1, invocationId: id, target, arguments: args })}\u001e`;
}
