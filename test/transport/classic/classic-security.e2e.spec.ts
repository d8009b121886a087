import { JwtService } from '@nestjs/jwt';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ClassicPage, classicConnection, hubsInProxy, methodsInProxy, type ClassicHubConnection } from '../../support/classic-client.js';
import { startHubApp, type RunningHubApp } from '../../support/hub-app.js';
import { signFor, TestAuthModule } from '../../support/jwt-auth.js';
import { rawHttp, UPGRADE_HEADERS } from '../../support/raw-client.js';
import { HubCodeRuns } from '../../security/security-hubs.js';
import { CLASSIC_HUBS } from './classic-hubs.js';

const IDENTITY_CHANGED = 'Unrecognized user identity.  The user identity cannot change during an active SignalR connection.';
const data = (...hubs: string[]) => encodeURIComponent(JSON.stringify(hubs.map((name) => ({ name }))));

const pollQuery = (hub: string, token: string, transport = 'longPolling') =>
  `transport=${transport}&clientProtocol=2.1&connectionToken=${encodeURIComponent(token)}&connectionData=${data(hub)}`;
const refusal = async (response: Response) => ({ status: response.status, text: await response.text() });

describe('classic endpoint security', () => {
  let server: RunningHubApp;
  let jwt: JwtService;
  const pages: ClassicPage[] = [];
  const connections: ClassicHubConnection[] = [];
  const bearer = (user: string, roles?: string[]) => ({ Authorization: `Bearer ${signFor(jwt, user, roles)}` });

  /** GET or POST `{path}?{query}` on the endpoint, as the given user. */
  const call = (operation: string, query: string, headers: Record<string, string> = {}, method = 'GET') =>
    fetch(`${server.baseUrl}/signalr/${operation}?${query}`, { method, headers });

  const negotiate = async (hub: string, headers: Record<string, string> = {}) => {
    const response = await call('negotiate', `clientProtocol=2.1&connectionData=${data(hub)}`, headers);
    expect(response.status).toBe(200);
    return (await response.json()) as { ConnectionToken: string; ConnectionId: string; ProtocolVersion: string; Url: string };
  };


  beforeAll(async () => {
    server = await startHubApp(CLASSIC_HUBS, { authStrategies: ['jwt'], classic: true }, { imports: [TestAuthModule] });
    jwt = server.app.get(JwtService);
  });

  afterEach(() => {
    for (const connection of connections.splice(0)) connection.stop();
    for (const page of pages.splice(0)) page.close();
  });

  afterAll(() => server.close());

  it('answers negotiate as classic SignalR 2.x does, with a sealed token under its path', async () => {
    const negotiated = await negotiate('chathub', bearer('alice'));
    expect(negotiated).toMatchObject({ Url: '/signalr', ProtocolVersion: '2.0', TryWebSockets: true, KeepAliveTimeout: 20, DisconnectTimeout: 30, ConnectionTimeout: 110, TransportConnectTimeout: 5, LongPollDelay: 0 });
    expect(negotiated.ConnectionToken).not.toContain(negotiated.ConnectionId);
  });

  it("refuses a token presented by another user, or anonymously, with 403 and the seed's text", async () => {
    const { ConnectionToken } = await negotiate('openhub', bearer('alice'));
    expect(await refusal(await call('connect', pollQuery('openhub', ConnectionToken), bearer('bob'), 'POST'))).toEqual({ status: 403, text: IDENTITY_CHANGED });
    expect(await refusal(await call('connect', pollQuery('openhub', ConnectionToken), {}, 'POST'))).toEqual({ status: 403, text: IDENTITY_CHANGED });
    const anonymous = await negotiate('openhub');
    expect(await refusal(await call('connect', pollQuery('openhub', anonymous.ConnectionToken), bearer('alice'), 'POST'))).toEqual({ status: 403, text: IDENTITY_CHANGED });
  });

  it('refuses a missing, broken or foreign token with 400 and the classic texts', async () => {
    const missing = `transport=longPolling&clientProtocol=2.1&connectionData=${data('openhub')}`;
    expect(await refusal(await call('connect', missing, {}, 'POST'))).toEqual({ status: 400, text: 'Protocol error: Missing connection token.' });
    const { ConnectionToken } = await negotiate('openhub');
    const broken = `${ConnectionToken.slice(0, -4)}AAAA`;
    expect(await refusal(await call('connect', pollQuery('openhub', broken), {}, 'POST'))).toEqual({ status: 400, text: 'The ConnectionId is in the incorrect format.' });
    // A modern hub's token is sealed for its own path: not a classic one.
    const modern = (await (await fetch(`${server.baseUrl}/hubs/public/negotiate?negotiateVersion=1`, { method: 'POST' })).json()) as { connectionToken: string };
    expect(await refusal(await call('connect', pollQuery('openhub', modern.connectionToken), {}, 'POST'))).toEqual({ status: 400, text: 'The ConnectionId is in the incorrect format.' });
    expect(await refusal(await call('connect', pollQuery('openhub', ConnectionToken, 'foreverFrame')))).toEqual({ status: 400, text: 'Protocol error: Unknown transport.' });
  });

  it('checks hub authorization on negotiate and again on every request of the connection', async () => {
    expect((await call('negotiate', `clientProtocol=2.1&connectionData=${data('chathub')}`)).status).toBe(401);
    expect((await call('negotiate', `clientProtocol=2.1&connectionData=${data('adminhub')}`, bearer('alice'))).status).toBe(403);
    expect((await call('negotiate', `clientProtocol=2.1&connectionData=${data('adminhub')}`, bearer('root', ['admin']))).status).toBe(200);
    const { ConnectionToken } = await negotiate('adminhub', bearer('root', ['admin']));
    // The same user without the role (a new credential) is refused on the next request, before any token check.
    for (const operation of ['connect', 'start', 'send', 'poll', 'reconnect', 'abort']) {
      const response = await call(operation, pollQuery('adminhub', ConnectionToken), bearer('root'), 'POST');
      expect(response.status, operation).toBe(403);
    }
  });

  it('refuses connectionData that names no hub, an unknown hub or one hub twice', async () => {
    expect(await refusal(await call('negotiate', 'clientProtocol=2.1&connectionData=%5B%5D'))).toEqual({ status: 400, text: 'Protocol error: connectionData names no hub.' });
    expect(await refusal(await call('negotiate', `clientProtocol=2.1&connectionData=${data('nohub')}`))).toEqual({ status: 400, text: "'nohub' Hub could not be resolved." });
    expect(await refusal(await call('negotiate', `clientProtocol=2.1&connectionData=${data('openhub', 'OpenHub')}`))).toEqual({ status: 400, text: 'Protocol error: Duplicate Hub names found.' });
  });

  it('refuses a cross-origin request on every operation and the upgrade, and JSONP, with 403', async () => {
    const { ConnectionToken } = await negotiate('openhub');
    const foreign: [string, string][] = [
      ['Host', new URL(server.baseUrl).host],
      ['Origin', 'http://evil.example.test'],
    ];
    for (const operation of ['negotiate', 'connect', 'start', 'send', 'poll', 'abort', 'ping']) {
      const { status, head } = await rawHttp(server.baseUrl, 'POST', `/signalr/${operation}?${pollQuery('openhub', ConnectionToken)}`, [...foreign, ['Content-Length', '0']]);
      expect(status, operation).toBe(403);
      expect(head.toLowerCase()).not.toContain('access-control-allow-origin');
    }
    const upgrade = await rawHttp(server.baseUrl, 'GET', `/signalr/connect?${pollQuery('openhub', ConnectionToken, 'webSockets')}`, [...foreign, ...UPGRADE_HEADERS]);
    expect(upgrade.status).toBe(403);
    expect(await refusal(await call('negotiate', `clientProtocol=2.1&connectionData=${data('openhub')}&callback=steal`))).toEqual({ status: 403, text: 'Forbidden: SignalR cross domain is disabled.' });
  });

  it('refuses JSONP on every operation of a connection while it is off, and the jQuery client asking for it does not connect', async () => {
    const { ConnectionToken } = await negotiate('openhub');
    for (const operation of ['connect', 'poll', 'start', 'send', 'reconnect', 'abort', 'ping']) {
      const response = await call(operation, `${pollQuery('openhub', ConnectionToken)}&callback=steal&data=${encodeURIComponent('{"H":"openhub","M":"ping","I":0}')}`);
      expect(await refusal(response), operation).toEqual({ status: 403, text: 'Forbidden: SignalR cross domain is disabled.' });
    }
    const page = await ClassicPage.open(server.baseUrl.replace('127.0.0.1', 'localhost'), { scriptTags: true });
    pages.push(page);
    const connection = classicConnection(page, server.baseUrl);
    connection.createHubProxy('OpenHub').on('nothing', () => undefined);
    const runs = server.app.get(HubCodeRuns).count;
    await expect(Promise.resolve(connection.start({ jsonp: true }))).rejects.toBeDefined();
    expect(server.app.get(HubCodeRuns).count).toBe(runs);
  });

  it('refuses a method the user may not call with the generic text, and keeps the connection', async () => {
    const page = await ClassicPage.open(server.baseUrl);
    pages.push(page);
    const connection = classicConnection(page, server.baseUrl);
    connections.push(connection);
    const openHub = connection.createHubProxy('OpenHub');
    openHub.on('nothing', () => undefined);
    await connection.start({ transport: 'longPolling' });
    const refused = (await Promise.resolve(openHub.invoke('secret')).then(() => undefined, (error: unknown) => error)) as { message: string };
    expect(refused.message).toBe("Failed to invoke 'secret' because user is unauthorized");
    await expect(openHub.invoke('ping')).resolves.toBe('pong');
  });

  it('does not serve the generated proxy unless it is turned on', async () => {
    expect((await fetch(`${server.baseUrl}/signalr/hubs`)).status).toBe(404);
  });
});

describe('classic endpoint with the proxy and JSONP on', () => {
  let server: RunningHubApp;
  let jwt: JwtService;
  const proxyFor = async (user?: string, roles?: string[]) => {
    const response = await fetch(`${server.baseUrl}/signalr/hubs`, { headers: user ? { Authorization: `Bearer ${signFor(jwt, user, roles)}` } : {} });
    expect(response.status).toBe(200);
    return response.text();
  };

  beforeAll(async () => {
    server = await startHubApp(CLASSIC_HUBS, { authStrategies: ['jwt'], classic: { hubsProxy: true, jsonp: true }, allowedHosts: ['127.0.0.1:*'], allowedOrigins: ['http://app.example.test'] }, { imports: [TestAuthModule] });
    jwt = server.app.get(JwtService);
  });

  afterAll(() => server.close());

  it('lists only the hubs and methods the requester may call', async () => {
    const anonymous = await proxyFor();
    expect(hubsInProxy(anonymous)).toEqual(['OpenHub', 'StatelessHub']);
    expect(methodsInProxy(anonymous, 'OpenHub')).toEqual(['ping', 'whoami']);
    const alice = await proxyFor('alice');
    expect(hubsInProxy(alice)).toEqual(['OpenHub', 'StatelessHub', 'chatHub']);
    expect(methodsInProxy(alice, 'chatHub')).not.toContain('announce');
    expect(methodsInProxy(alice, 'OpenHub')).toEqual(['aliceOnly', 'notBanned', 'ping', 'secret', 'startsWithA', 'whoami']);
    const admin = await proxyFor('root', ['admin']);
    expect(hubsInProxy(admin)).toEqual(['OpenHub', 'StatelessHub', 'adminHub', 'chatHub']);
    expect(methodsInProxy(admin, 'chatHub')).toContain('announce');
  });

  it('serves a proxy the jQuery client uses as it used the classic one', async () => {
    const page = await ClassicPage.open(server.baseUrl);
    try {
      page.run(await proxyFor());
      const { hub, OpenHub: openHub } = page.connectionGlobal;
      hub.qs = {};
      openHub.client.nothing = () => undefined;
      await hub.start({ transport: 'longPolling' });
      await expect(openHub.server.ping()).resolves.toBe('pong');
      hub.stop();
    } finally {
      page.close();
    }
  });

  it('refuses a Host outside allowedHosts on negotiate, the proxy, ping and the upgrade, before any hub code', async () => {
    const rebinding: [string, string][] = [['Host', `rebind.attacker.test:${new URL(server.baseUrl).port}`]];
    for (const path of [`/signalr/negotiate?connectionData=${data('openhub')}`, '/signalr/hubs', '/signalr/ping']) {
      const { status, body } = await rawHttp(server.baseUrl, 'GET', path, rebinding);
      expect(status, path).toBe(400);
      expect(body).toBe('The Host header names a host this server does not serve.');
    }
    const upgrade = await rawHttp(server.baseUrl, 'GET', `/signalr/connect?transport=webSockets&connectionToken=x&connectionData=${data('openhub')}`, [...rebinding, ...UPGRADE_HEADERS]);
    expect(upgrade.status).toBe(400);
  });

  it('answers a preflight and the requests of an allowed cross origin with CORS headers, a foreign one with 403', async () => {
    const preflight = (origin: string) =>
      fetch(`${server.baseUrl}/signalr/negotiate?clientProtocol=2.1&connectionData=${data('openhub')}`, {
        method: 'OPTIONS',
        headers: { Origin: origin, 'Access-Control-Request-Method': 'GET' },
      });
    const allowed = await preflight('http://app.example.test');
    expect(allowed.status).toBe(204);
    expect(allowed.headers.get('access-control-allow-origin')).toBe('http://app.example.test');
    expect((await preflight('http://evil.example.test')).status).toBe(403);
    const negotiated = await fetch(`${server.baseUrl}/signalr/negotiate?clientProtocol=2.1&connectionData=${data('openhub')}`, { headers: { Origin: 'http://app.example.test' } });
    expect(negotiated.status).toBe(200);
    expect(negotiated.headers.get('access-control-allow-origin')).toBe('http://app.example.test');
  });

  it('serves the jQuery client over JSONP long polling from another origin: connect, start, send and poll by script tags', async () => {
    // The page's origin is not the server's: the client goes cross-domain, and JSONP makes every request a script's GET.
    const page = await ClassicPage.open(server.baseUrl.replace('127.0.0.1', 'localhost'), { scriptTags: true });
    try {
      const connection = classicConnection(page, server.baseUrl);
      const openHub = connection.createHubProxy('OpenHub');
      openHub.on('nothing', () => undefined);
      await connection.start({ jsonp: true });
      expect(connection.transport?.name).toBe('longPolling');
      // Results travel on the receive channel: each one came back on a poll.
      await expect(openHub.invoke('ping')).resolves.toBe('pong');
      await expect(openHub.invoke('whoami')).resolves.toBeNull();
      connection.stop();
    } finally {
      page.close();
    }
  });

  it('answers JSONP with a call of the named callback when it is on', async () => {
    const response = await fetch(`${server.baseUrl}/signalr/negotiate?clientProtocol=2.1&connectionData=${data('openhub')}&callback=jQuery123_456`);
    expect(response.headers.get('content-type')).toContain('application/javascript');
    expect(await response.text()).toMatch(/^jQuery123_456\(\{"Url":"\/signalr",.*\}\);$/);
  });
});
