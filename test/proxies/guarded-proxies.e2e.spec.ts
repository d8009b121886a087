import { Injectable, UseGuards, type CanActivate, type ExecutionContext, type Provider } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { JwtService } from '@nestjs/jwt';
import { Hub, type HubCallerContext, type ProxyAwareGuard, type SignalRModuleOptions } from 'nestjs-signalr';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClientPool } from '../support/client.js';
import { startHubApp, type RunningHubApp } from '../support/hub-app.js';
import { signFor, TestAuthModule } from '../support/jwt-auth.js';

const ALLOWED = 'https://app.example.test';
const methodsIn = (source: string) => [...source.matchAll(/^ {4}"(\w+)": /gm)].map((match) => match[1]).toSorted();
const isAlice = (user: unknown) => (user as { sub?: string } | undefined)?.sub === 'alice';

/**
 * Admits alice only, and cannot say so without an invocation: the proxy cannot evaluate it.
 * Made global, it also sees HTTP requests (negotiate, the proxy files), which it lets through.
 */
@Injectable()
class OnlyAliceGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    if (context.getType() !== 'ws') return true;
    return isAlice(context.switchToWs().getClient<HubCallerContext>().user);
  }
}

/** The same rule, told to the proxy as well. */
@Injectable()
class OnlyAliceProxyAwareGuard extends OnlyAliceGuard implements ProxyAwareGuard {
  wouldAdmit(user: unknown): boolean {
    return isAlice(user);
  }
}

@Hub('/hubs/guarded')
class GuardedHub {
  ping(): string {
    return 'pong';
  }

  @UseGuards(OnlyAliceGuard)
  opaque(): string {
    return 'opaque';
  }

  @UseGuards(OnlyAliceProxyAwareGuard)
  aware(): string {
    return 'aware';
  }
}

describe('client proxies and the application guards (issue 14, item 4)', () => {
  let jwt: JwtService;
  const servers: RunningHubApp[] = [];
  const clients = new ClientPool();
  const start = async (options: SignalRModuleOptions, providers: Provider[] = []) => {
    const server = await startHubApp([GuardedHub], { authStrategies: ['jwt'], allowedOrigins: [ALLOWED], ...options }, { imports: [TestAuthModule], providers });
    servers.push(server);
    jwt = server.app.get(JwtService);
    return server;
  };
  const fetchProxy = (server: RunningHubApp, file: 'proxy.js' | 'proxy.d.ts', sub?: string, headers: Record<string, string> = {}) =>
    fetch(`${server.baseUrl}/hubs/guarded/${file}`, { headers: sub ? { ...headers, Authorization: `Bearer ${signFor(jwt, sub)}` } : headers });
  const listedFor = async (server: RunningHubApp, sub?: string) => methodsIn(await (await fetchProxy(server, 'proxy.js', sub)).text());

  let hiding: RunningHubApp;
  beforeAll(async () => {
    hiding = await start({ proxies: true });
  });

  afterAll(async () => {
    await clients.stopAll();
    await Promise.all(servers.map((server) => server.close()));
  });

  it('hides a method behind a guard the proxy cannot evaluate from everyone, even from the user the guard admits', async () => {
    expect(await listedFor(hiding)).toEqual(['ping']);
    expect(await listedFor(hiding, 'bob')).toEqual(['ping']);
    expect(await listedFor(hiding, 'alice')).toEqual(['aware', 'ping']);
    const typings = await (await fetchProxy(hiding, 'proxy.d.ts', 'alice')).text();
    expect(typings).not.toContain('opaque');
    // Hidden is a matter of the proxy only: the guard still decides the invocation.
    const token = signFor(jwt, 'alice');
    const alice = await clients.connect(`${hiding.baseUrl}/hubs/guarded`, { accessTokenFactory: () => token });
    await expect(alice.invoke('opaque')).resolves.toBe('opaque');
  });

  it('asks a ProxyAwareGuard, and lists its method only to the users it would admit', async () => {
    expect(await listedFor(hiding, 'bob')).not.toContain('aware');
    expect(await listedFor(hiding)).not.toContain('aware');
    expect(await listedFor(hiding, 'alice')).toContain('aware');
  });

  it("lists what no guard can evaluate only when the option says so (proxies: { unknownGuards: 'list' })", async () => {
    const listing = await start({ proxies: { unknownGuards: 'list' } });
    expect(await listedFor(listing, 'bob')).toEqual(['opaque', 'ping']);
    expect(await listedFor(listing, 'alice')).toEqual(['aware', 'opaque', 'ping']);
  });

  it('refuses to start with an unknownGuards value it does not know, rather than guess', async () => {
    const typo = { proxies: { unknownGuards: 'show' } } as unknown as SignalRModuleOptions;
    await expect(startHubApp([GuardedHub], typo)).rejects.toMatchObject({ code: 'SIGNALR_INVALID_OPTION' });
  });

  it('asks global guards (APP_GUARD) too', async () => {
    const global = await start({ proxies: true }, [{ provide: APP_GUARD, useClass: OnlyAliceProxyAwareGuard }]);
    expect(await listedFor(global, 'bob')).toEqual([]);
    expect(await listedFor(global, 'alice')).toEqual(['aware', 'ping']);
  });

  it('appends to Vary (Origin stays beside Authorization and Cookie) for an allowed cross origin', async () => {
    const response = await fetchProxy(hiding, 'proxy.js', 'alice', { Origin: ALLOWED });
    expect(response.status).toBe(200);
    expect(response.headers.get('access-control-allow-origin')).toBe(ALLOWED);
    const vary = response.headers.get('vary')!.split(',').map((name) => name.trim().toLowerCase());
    expect(vary.toSorted()).toEqual(['authorization', 'cookie', 'origin']);
  });
});
