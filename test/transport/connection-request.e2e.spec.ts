import { JwtService } from '@nestjs/jwt';
import type { ConnectionRequest, SignalRModuleOptions } from 'nestjs-signalr';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClientPool, connectStatefulClient } from '../support/client.js';
import { CuttingProxy } from '../support/cutting-proxy.js';
import { startHubApp, type RunningHubApp } from '../support/hub-app.js';
import { signFor, TestAuthModule } from '../support/jwt-auth.js';
import { RequestHub, RequestsAtConnect } from './request-hub.js';

/** A server with the request hub, and the official clients connected to it. */
class RequestServer {
  readonly clients = new ClientPool();

  private constructor(readonly server: RunningHubApp) {}

  static async start(options: SignalRModuleOptions = {}): Promise<RequestServer> {
    const server = await startHubApp([RequestHub, RequestsAtConnect], { authStrategies: ['jwt'], ...options }, { imports: [TestAuthModule] });
    return new RequestServer(server);
  }

  get url(): string {
    return `${this.server.baseUrl}/hubs/request`;
  }

  token(user: string, roles?: string[]): string {
    return signFor(this.server.app.get(JwtService), user, roles);
  }

  /** What the hub sees of a connection opened with these request headers, and `query` on the hub URL. */
  async requestOf(
    headers: Record<string, string>,
    { query = '', credential, method = 'Request' }: { query?: string; credential?: string; method?: string } = {},
  ): Promise<ConnectionRequest> {
    const connection = await this.clients.connect(`${this.url}${query}`, { headers, accessTokenFactory: credential ? () => credential : undefined });
    return connection.invoke<ConnectionRequest>(method);
  }

  async close(): Promise<void> {
    await this.clients.stopAll();
    await this.server.close();
  }
}

const REDACTED = '[redacted]';

describe('the connection request, with the default options', () => {
  let server: RequestServer;

  beforeAll(async () => (server = await RequestServer.start()));
  afterAll(() => server.close());

  it('shows the headers the client sent, a custom one of its `headers` option included, and the transport', async () => {
    const request = await server.requestOf({ 'X-Test': '42', 'X-42': 'test' });
    expect(request.headers['x-test']).toBe('42');
    expect(request.headers['x-42']).toBe('test');
    expect(request.headers.host).toBe(new URL(server.url).host);
    expect(request.headers.upgrade).toBe('websocket');
    expect(request.transport).toBe('WebSockets');
  });

  it('redacts the Authorization header and every cookie, whichever way the hub reaches the request', async () => {
    const credential = server.token('alice');
    const headers = { Cookie: 'session=s3cr3t-session; theme=dark' };
    for (const method of ['Request', 'SignedInRequest', 'CallerRequest']) {
      const request = await server.requestOf(headers, { credential, method });
      expect(request.headers.authorization).toBe(REDACTED);
      expect(request.headers.cookie).toBe(REDACTED);
      expect(request.cookies).toEqual({ session: REDACTED, theme: REDACTED });
      expect(request.user).toMatchObject({ sub: 'alice' });
      expect(JSON.stringify(request)).not.toContain(credential);
      expect(JSON.stringify(request)).not.toContain('s3cr3t-session');
    }
  });

  it('redacts the access_token a browser sends in the query, and the connection token, keeping other parameters', async () => {
    const credential = server.token('alice');
    const request = await server.requestOf({}, { query: `?access_token=${credential}&room=lobby&room=annex` });
    expect(request.query).toEqual({ access_token: REDACTED, room: ['lobby', 'annex'], id: REDACTED });
    expect(request.user).toMatchObject({ sub: 'alice' });
    expect(JSON.stringify(request)).not.toContain(credential);
  });

  it('gives the peer address, ignoring X-Forwarded-For from a peer that is not a trusted proxy', async () => {
    const request = await server.requestOf({ 'X-Forwarded-For': '203.0.113.7' });
    expect(request.remoteAddress).toBe('127.0.0.1');
    expect(request.headers['x-forwarded-for']).toBe('203.0.113.7');
  });

  it('gives an anonymous connection no user', async () => {
    const request = await server.requestOf({});
    expect(request.user).toBeUndefined();
  });

  it('takes the request once per connection: every invocation and onConnected see the same frozen object', async () => {
    const connection = await server.clients.connect(server.url, { headers: { 'X-Test': 'once' } });
    await expect(connection.invoke('SameAsAtConnect')).resolves.toBe(true);
    await expect(connection.invoke('SameAsAtConnect')).resolves.toBe(true);
  });
});

describe('the connection request, with credentials exposed and a trusted proxy', () => {
  let server: RequestServer;

  beforeAll(async () => {
    server = await RequestServer.start({ exposeRequestCredentials: ['authorization', 'cookies', 'accessToken'], trustedProxies: ['127.0.0.1'] });
  });
  afterAll(() => server.close());

  it('shows the Authorization header and the cookies the application asked for', async () => {
    const credential = server.token('alice');
    const request = await server.requestOf({ Cookie: 'session=s3cr3t-session; greeting=hello%20world' }, { credential, method: 'SignedInRequest' });
    expect(request.headers.authorization).toBe(`Bearer ${credential}`);
    expect(request.headers.cookie).toBe('session=s3cr3t-session; greeting=hello%20world');
    expect(request.cookies).toEqual({ session: 's3cr3t-session', greeting: 'hello world' });
  });

  it('shows the access_token, never the connection token', async () => {
    const credential = server.token('alice');
    const request = await server.requestOf({}, { query: `?access_token=${credential}` });
    expect(request.query).toEqual({ access_token: credential, id: REDACTED });
  });

  it('believes the address the trusted proxy appended to X-Forwarded-For, not the ones before it', async () => {
    const request = await server.requestOf({ 'X-Forwarded-For': '198.51.100.1, 203.0.113.7' });
    expect(request.remoteAddress).toBe('203.0.113.7');
  });
});

describe('the connection request across a stateful reconnect', () => {
  let server: RequestServer;
  let proxy: CuttingProxy;

  beforeAll(async () => {
    server = await RequestServer.start({ exposeRequestCredentials: ['authorization'] });
    proxy = await CuttingProxy.start((server.server.app.getHttpServer().address() as AddressInfo).port);
  });
  afterAll(async () => {
    await proxy.close();
    await server.close();
  });

  it('is the request of the socket the connection resumed on, with that request\'s credential and user', async () => {
    let credential = server.token('alice', ['user']);
    const client = await connectStatefulClient(`${proxy.url}/hubs/request`, 'json', () => credential);
    const id = client.connectionId;
    await expect(client.invoke('ReplacedSinceConnect')).resolves.toBe(false);
    credential = server.token('alice', ['user', 'reader']);
    expect(proxy.cutAll()).toBeGreaterThan(0);

    const resumed = await client.invoke<ConnectionRequest>('Request');
    expect(client.connectionId).toBe(id);
    expect(resumed.headers.authorization).toBe(`Bearer ${credential}`);
    expect(resumed.user).toMatchObject({ sub: 'alice', roles: ['user', 'reader'] });
    await expect(client.invoke('ReplacedSinceConnect')).resolves.toBe(true);
    await expect(client.invoke('SameAsAtConnect')).resolves.toBe(false);
    await client.stop();
  });
});
