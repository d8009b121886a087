import {
  Catch,
  Controller,
  ForbiddenException,
  Get,
  Injectable,
  Module,
  type ArgumentsHost,
  type CallHandler,
  type CanActivate,
  type ExceptionFilter,
  type ExecutionContext,
  type MiddlewareConsumer,
  type NestInterceptor,
  type NestModule,
  type Type,
} from '@nestjs/common';
import { APP_FILTER, APP_GUARD, APP_INTERCEPTOR, HttpAdapterHost } from '@nestjs/core';
import { ThrottlerGuard, ThrottlerModule } from '@nestjs/throttler';
import { HubRequests, SignalRModule } from 'nestjs-signalr';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Observable } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClientPool, TRANSPORT_NAMES } from '../support/client.js';
import { createHubApp, HTTP_PLATFORMS, listenOnLoopback, type HttpPlatformName, type RunningHubApp } from '../support/hub-app.js';
import { rawHttp, upgradeStatus } from '../support/raw-client.js';
import { HubCodeRuns, NotBannedPolicy, OpenHub, PrivateHub } from '../security/security-hubs.js';

const HUB_ORIGIN = 'https://hub-client.example.test';
const APP_ORIGIN = 'https://app-client.example.test';
const API_KEY = { 'X-Api-Key': 'key-1' };
const HUBS = [OpenHub, PrivateHub, HubCodeRuns, NotBannedPolicy];

/** As `helmet()` does: headers on every answer, set before any route runs. */
function securityHeaders(_request: IncomingMessage, response: ServerResponse, next: () => void): void {
  response.setHeader('X-Frame-Options', 'DENY');
  next();
}

function moduleMiddleware(_request: IncomingMessage, response: ServerResponse, next: () => void): void {
  response.setHeader('X-Module-Middleware', 'seen');
  next();
}

/** An application-wide API key, as many applications keep one in a global guard (of HTTP requests: hub invocations pass it too). */
@Injectable()
class ApiKeyGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    if (context.getType() !== 'http') return true;
    return context.switchToHttp().getRequest<{ headers: IncomingMessage['headers'] }>().headers['x-api-key'] === API_KEY['X-Api-Key'];
  }
}

@Injectable()
class RequestLog {
  readonly entries: string[] = [];
}

@Injectable()
class LoggingInterceptor implements NestInterceptor {
  constructor(private readonly log: RequestLog) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const { method, url } = context.switchToHttp().getRequest<{ method: string; url: string }>();
    this.log.entries.push(`${context.getClass().name}.${context.getHandler().name} ${method} ${url}`);
    return next.handle();
  }
}

/** The application's own shape for a guard's refusal. */
@Catch(ForbiddenException)
class RefusalFilter implements ExceptionFilter {
  constructor(private readonly adapterHost: HttpAdapterHost) {}

  catch(_exception: ForbiddenException, host: ArgumentsHost): void {
    this.adapterHost.httpAdapter.reply(host.switchToHttp().getResponse(), { refusedBy: 'application' }, 403);
  }
}

@Controller()
class ApplicationRoutes {
  @Get('elsewhere')
  elsewhere(): string {
    return 'application';
  }
}

@Module({
  imports: [SignalRModule.forRoot({ allowedOrigins: [HUB_ORIGIN], allowedHosts: ['127.0.0.1:*'], allowSkipNegotiation: false })],
  controllers: [ApplicationRoutes],
  providers: [
    ...HUBS,
    RequestLog,
    { provide: APP_GUARD, useClass: ApiKeyGuard },
    { provide: APP_INTERCEPTOR, useClass: LoggingInterceptor },
    { provide: APP_FILTER, useClass: RefusalFilter },
  ],
})
class PipelineModule implements NestModule {
  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(moduleMiddleware).forRoutes('*path');
  }
}

async function startPipelineApp(platform: HttpPlatformName): Promise<RunningHubApp> {
  const app = await createHubApp(PipelineModule, {}, platform);
  app.use(securityHeaders);
  return listenOnLoopback(app);
}

describe.each(HTTP_PLATFORMS)("negotiate in the application's pipeline on %s", (platform) => {
  let server: RunningHubApp;
  const clients = new ClientPool();
  const negotiate = (headers: Record<string, string> = {}, hub = '/hubs/open') =>
    fetch(`${server.baseUrl}${hub}/negotiate?negotiateVersion=1`, { method: 'POST', headers });
  const preflight = (origin: string) =>
    fetch(`${server.baseUrl}/hubs/open/negotiate?negotiateVersion=1`, {
      method: 'OPTIONS',
      headers: { Origin: origin, 'Access-Control-Request-Method': 'POST' },
    });

  beforeAll(async () => (server = await startPipelineApp(platform)));
  afterAll(async () => {
    await clients.stopAll();
    await server.close();
  });

  it("passes the application's middleware and its global interceptor, and keeps the hub's own headers", async () => {
    const log = server.app.get(RequestLog);
    log.entries.length = 0;
    const response = await negotiate(API_KEY);
    expect(response.status).toBe(200);
    expect(response.headers.get('x-frame-options')).toBe('DENY');
    expect(response.headers.get('x-module-middleware')).toBe('seen');
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    expect(log.entries).toEqual(['HubRequests.serve POST /hubs/open/negotiate?negotiateVersion=1']);
    expect(server.app.get(HubRequests)).toBeInstanceOf(HubRequests);
  });

  it("is refused by a global guard that refuses, in the application's filter's shape", async () => {
    const response = await negotiate();
    expect(response.status).toBe(403);
    expect(response.headers.get('x-frame-options')).toBe('DENY');
    expect(await response.json()).toEqual({ refusedBy: 'application' });
    const refused = new ClientPool();
    await expect(refused.connect(`${server.baseUrl}/hubs/open`)).rejects.toThrow("Status code '403'");
  });

  it('lets the official client through when the guard admits it, negotiate and upgrade', async () => {
    const client = await clients.connect(`${server.baseUrl}/hubs/open`, { headers: API_KEY });
    await expect(client.invoke('Ping')).resolves.toBe('pong');
  });

  it('refuses a WebSocket without negotiate when allowSkipNegotiation is off: every connection passed the guards', async () => {
    const skipping = new ClientPool();
    await expect(skipping.connect(`${server.baseUrl}/hubs/open`, { headers: API_KEY, skipNegotiation: true })).rejects.toThrow();
    expect(await upgradeStatus(`${server.baseUrl}/hubs/open`, API_KEY)).toEqual({ status: 400, body: 'Connection ID required' });
  });

  it("keeps the hub's own checks, with their statuses, behind a guard that admits", async () => {
    const foreign = await negotiate({ ...API_KEY, Origin: 'https://evil.example.test' });
    expect(foreign.status).toBe(403);
    expect(await foreign.text()).toBe('Forbidden');
    const anonymous = await negotiate(API_KEY, '/hubs/private');
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toBe('Bearer');
    const wrongHost = await rawHttp(server.baseUrl, 'POST', '/hubs/open/negotiate?negotiateVersion=1', [
      ['Host', 'rebound.example.test'],
      ['X-Api-Key', API_KEY['X-Api-Key']],
      ['Content-Length', '0'],
    ]);
    expect(wrongHost.status).toBe(400);
    expect(wrongHost.body).toBe('The Host header names a host this server does not serve.');
  });

  it('answers a CORS preflight before the guards: browsers send no credentials with one', async () => {
    const allowed = await preflight(HUB_ORIGIN);
    expect(allowed.status).toBe(204);
    expect(allowed.headers.get('access-control-allow-origin')).toBe(HUB_ORIGIN);
    expect((await preflight('https://evil.example.test')).status).toBe(403);
  });

  it("leaves a path no hub serves to the platform's own 404", async () => {
    const platform404 = await fetch(`${server.baseUrl}/nowhere`, { method: 'POST', headers: API_KEY });
    for (const path of ['/hubs/nowhere/negotiate', '/hubs/open/negotiate/more', '/hubs/open/proxy.js']) {
      const response = await fetch(`${server.baseUrl}${path}`, { method: 'POST', headers: API_KEY });
      expect(response.status).toBe(404);
      expect(await response.json()).toEqual({ ...((await platform404.clone().json()) as object), message: `Cannot POST ${path}` });
    }
    expect(await (await fetch(`${server.baseUrl}/elsewhere`, { headers: API_KEY })).text()).toBe('application');
  });
});

@Module({
  imports: [SignalRModule.forRoot({ allowedOrigins: [HUB_ORIGIN] })],
  providers: HUBS,
})
class CorsModule {}

describe.each(HTTP_PLATFORMS)("negotiate under the application's CORS on %s", (platform) => {
  let server: RunningHubApp;
  const negotiate = (origin: string) =>
    fetch(`${server.baseUrl}/hubs/open/negotiate?negotiateVersion=1`, { method: 'POST', headers: { Origin: origin } });

  beforeAll(async () => {
    const app = await createHubApp(CorsModule, {}, platform);
    app.enableCors({ origin: [APP_ORIGIN, HUB_ORIGIN] });
    server = await listenOnLoopback(app);
  });
  afterAll(() => server.close());

  it("leaves preflights to the application's CORS", async () => {
    const preflight = await fetch(`${server.baseUrl}/hubs/open/negotiate?negotiateVersion=1`, {
      method: 'OPTIONS',
      headers: { Origin: APP_ORIGIN, 'Access-Control-Request-Method': 'POST' },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe(APP_ORIGIN);
  });

  it("still refuses an origin the hub does not allow, whatever the application's CORS allows", async () => {
    const refused = await negotiate(APP_ORIGIN);
    expect(refused.status).toBe(403);
    expect(await refused.text()).toBe('Forbidden');
    const allowed = await negotiate(HUB_ORIGIN);
    expect(allowed.status).toBe(200);
    expect(allowed.headers.get('access-control-allow-origin')).toBe(HUB_ORIGIN);
  });
});

const NEGOTIATES_PER_MINUTE = 2;

@Module({
  imports: [SignalRModule.forRoot({}), ThrottlerModule.forRoot([{ ttl: 60_000, limit: NEGOTIATES_PER_MINUTE }])],
  providers: [...HUBS, { provide: APP_GUARD, useClass: ThrottlerGuard }],
})
class ThrottledModule {}

describe.each(HTTP_PLATFORMS)('negotiate under a global rate limiter (@nestjs/throttler) on %s', (platform) => {
  let server: RunningHubApp;
  const clients = new ClientPool();

  beforeAll(async () => (server = await listenOnLoopback(await createHubApp(ThrottledModule, {}, platform))));
  afterAll(async () => {
    await clients.stopAll();
    await server.close();
  });

  it("counts every negotiate, tells the count in the limiter's headers, and refuses past the limit with 429", async () => {
    const client = await clients.connect(`${server.baseUrl}/hubs/open`);
    await expect(client.invoke('Ping')).resolves.toBe('pong');
    const second = await fetch(`${server.baseUrl}/hubs/open/negotiate?negotiateVersion=1`, { method: 'POST' });
    expect(second.status).toBe(200);
    expect(second.headers.get('x-ratelimit-remaining')).toBe('0');
    const third = await fetch(`${server.baseUrl}/hubs/open/negotiate?negotiateVersion=1`, { method: 'POST' });
    expect(third.status).toBe(429);
    expect(Number(third.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await third.json()).toEqual({ statusCode: 429, message: 'ThrottlerException: Too Many Requests' });
    await expect(new ClientPool().connect(`${server.baseUrl}/hubs/open`)).rejects.toThrow("Status code '429'");
  });
});

/** An SPA's fallback: every GET no other route takes gets the page, in each platform's catch-all syntax. */
function singlePageModule(platform: HttpPlatformName): Type {
  @Controller()
  class SinglePageFallback {
    @Get(platform === 'fastify' ? '*' : '{*path}')
    page(): string {
      return 'the single-page app';
    }
  }

  @Module({ imports: [SignalRModule.forRoot({})], controllers: [SinglePageFallback], providers: HUBS })
  class SinglePageModule {}
  return SinglePageModule;
}

describe.each(HTTP_PLATFORMS)("a hub beside the application's catch-all route on %s", (platform) => {
  let server: RunningHubApp;
  const pools = TRANSPORT_NAMES.map((transport) => new ClientPool('json', false, transport));

  beforeAll(async () => (server = await listenOnLoopback(await createHubApp(singlePageModule(platform), {}, platform))));
  afterAll(async () => {
    await Promise.all(pools.map((pool) => pool.stopAll()));
    await server.close();
  });

  it("keeps the hub's path the hub's on every transport, as ASP.NET Core ranks a catch-all below it, and leaves every other GET to the catch-all", async () => {
    for (const pool of pools) {
      const client = await pool.connect(`${server.baseUrl}/hubs/open`);
      await expect(client.invoke('Ping')).resolves.toBe('pong');
    }
    const withoutToken = await fetch(`${server.baseUrl}/hubs/open`);
    expect([withoutToken.status, await withoutToken.text()]).toEqual([400, 'Connection ID required']);
    for (const path of ['/', '/rooms/general', '/hubs/open/other', '/hubs/nowhere']) {
      expect(await (await fetch(`${server.baseUrl}${path}`)).text()).toBe('the single-page app');
    }
  });
});
