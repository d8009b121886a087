import { JwtService } from '@nestjs/jwt';
import type { HubConnection } from '@microsoft/signalr';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClientPool } from '../support/client.js';
import { startHubApp, type RunningHubApp } from '../support/hub-app.js';
import { signFor, TestAuthModule } from '../support/jwt-auth.js';
import { AdminsHub, HubCodeRuns, NotBannedPolicy, OpenHub, PrivateHub } from '../security/security-hubs.js';

const hubs = [OpenHub, PrivateHub, AdminsHub, HubCodeRuns, NotBannedPolicy];
const PUBLIC_METHODS = ['ping', 'whoami'];
const methodsIn = (source: string) => [...source.matchAll(/^ {4}"(\w+)": /gm)].map((match) => match[1]);

describe('client proxies (on)', () => {
  let server: RunningHubApp;
  let jwt: JwtService;
  const clients = new ClientPool();
  const fetchProxy = (hub: string, file: 'proxy.js' | 'proxy.d.ts', user?: { sub: string; roles?: string[] }) =>
    fetch(`${server.baseUrl}${hub}/${file}`, {
      headers: user ? { Authorization: `Bearer ${signFor(jwt, user.sub, user.roles)}` } : {},
    });

  beforeAll(async () => {
    server = await startHubApp(hubs, { authStrategies: ['jwt'], proxies: true }, { imports: [TestAuthModule] });
    jwt = server.app.get(JwtService);
  });

  afterAll(async () => {
    await clients.stopAll();
    await server.close();
  });

  it('shows anonymous callers no @Authorize method', async () => {
    const response = await fetchProxy('/hubs/open', 'proxy.js');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/javascript');
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(methodsIn(await response.text()).toSorted()).toEqual(PUBLIC_METHODS);
  });

  it('shows a user what that user may call, and an admin more', async () => {
    const alice = methodsIn(await (await fetchProxy('/hubs/open', 'proxy.js', { sub: 'alice' })).text());
    expect(alice.toSorted()).toEqual(['aliceOnly', 'notBanned', 'ping', 'secret', 'startsWithA', 'whoami']);
    const admin = methodsIn(await (await fetchProxy('/hubs/open', 'proxy.js', { sub: 'root', roles: ['admin'] })).text());
    expect(admin.toSorted()).toEqual(['adminOnly', 'notBanned', 'ping', 'secret', 'whoami']);
  });

  it('refuses the proxy of a hub the caller may not connect to', async () => {
    expect((await fetchProxy('/hubs/private', 'proxy.js')).status).toBe(401);
    expect((await fetchProxy('/hubs/admins', 'proxy.js', { sub: 'alice' })).status).toBe(403);
  });

  it('serves a module that works with the official client', async () => {
    const token = signFor(jwt, 'alice');
    const source = await (await fetchProxy('/hubs/open', 'proxy.js', { sub: 'alice' })).text();
    const module = (await import(`data:text/javascript,${encodeURIComponent(source)}`)) as {
      hubPath: string;
      createOpenHubProxy(connection: HubConnection): Record<string, () => Promise<unknown>>;
    };
    expect(module.hubPath).toBe('/hubs/open');
    const connection = await clients.connect(`${server.baseUrl}${module.hubPath}`, { accessTokenFactory: () => token });
    const proxy = module.createOpenHubProxy(connection);
    await expect(proxy.ping()).resolves.toBe('pong');
    await expect(proxy.secret()).resolves.toBe('secret');
    await expect(proxy.aliceOnly()).resolves.toBe('alice');
  });

  it('serves matching TypeScript declarations', async () => {
    const typings = await (await fetchProxy('/hubs/open', 'proxy.d.ts', { sub: 'alice' })).text();
    expect(typings).toContain('export interface OpenHubProxy {');
    expect(typings).toContain('"secret"(): Promise<unknown>;');
    expect(typings).not.toContain('adminOnly');
    expect(typings).toContain('export declare function createOpenHubProxy(connection: HubConnection): OpenHubProxy;');
  });
});

describe('client proxies (off, the default)', () => {
  it('answers 404', async () => {
    const server = await startHubApp(hubs);
    try {
      expect((await fetch(`${server.baseUrl}/hubs/open/proxy.js`)).status).toBe(404);
      expect((await fetch(`${server.baseUrl}/hubs/open/proxy.d.ts`)).status).toBe(404);
    } finally {
      await server.close();
    }
  });
});
