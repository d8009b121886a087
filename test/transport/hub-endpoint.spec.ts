import { Controller, Get, Post } from '@nestjs/common';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HTTP_PLATFORMS, startHubApp, type HttpPlatformName, type RunningHubApp } from '../support/hub-app.js';
import { upgradeStatus } from '../support/raw-client.js';
import { HubCodeRuns, NotBannedPolicy, OpenHub, PrivateHub } from '../security/security-hubs.js';

const ALLOWED = 'https://app.example.test';
const HUB_PATHS = new Set(['/hubs/open', '/hubs/private']);

/**
 * The application's own routes, some beside or under the hub paths: the endpoint must leave them
 * alone. One is on a hub's own proxy path: the application's routes come first.
 */
@Controller()
class ApplicationRoutes {
  @Get('hubs/open/other')
  other(): string {
    return 'application';
  }

  @Post('hubs/openly/negotiate')
  lookalike(): string {
    return 'application';
  }

  @Get('hubs/private/proxy.d.ts')
  proxy(): string {
    return 'application';
  }
}

async function startFace(platform: HttpPlatformName, proxies: boolean): Promise<RunningHubApp> {
  const running = await startHubApp([OpenHub, PrivateHub, HubCodeRuns, NotBannedPolicy], { allowedOrigins: [ALLOWED], proxies }, {
    controllers: [ApplicationRoutes],
    platform,
  });
  // Another upgrade listener on the same server, as a second WebSocket library would add. It answers
  // what the hubs leave a turn later, after anything an endpoint that took the upgrade would have written.
  running.app.getHttpServer().on('upgrade', (request: IncomingMessage, socket: Duplex) => {
    if (HUB_PATHS.has(new URL(request.url!, 'http://server').pathname)) return;
    setImmediate(() => socket.end("HTTP/1.1 418 I'm a Teapot\r\nContent-Length: 0\r\n\r\n"));
  });
  return running;
}

describe.each(HTTP_PLATFORMS)('HubEndpoint on %s: negotiate', (platform) => {
  let face: RunningHubApp;
  const negotiate = (query: string, init: RequestInit = {}, hub = '/hubs/open') =>
    fetch(`${face.baseUrl}${hub}/negotiate${query}`, { method: 'POST', ...init });
  const preflight = (origin: string) =>
    negotiate('?negotiateVersion=1', { method: 'OPTIONS', headers: { Origin: origin, 'Access-Control-Request-Method': 'POST' } });

  beforeAll(async () => (face = await startFace(platform, false)));
  afterAll(() => face.close());

  it('answers POST {hub}/negotiate with a fresh id and token, never cached', async () => {
    const response = await negotiate('?negotiateVersion=1');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(response.headers.get('cache-control')).toBe('no-store');
    const body = (await response.json()) as Record<string, unknown>;
    expect(body).toEqual({
      negotiateVersion: 1,
      connectionId: expect.stringMatching(/^[A-Za-z0-9_-]{22}$/),
      connectionToken: expect.any(String),
      availableTransports: [
        { transport: 'WebSockets', transferFormats: ['Text', 'Binary'] },
        { transport: 'ServerSentEvents', transferFormats: ['Text'] },
        { transport: 'LongPolling', transferFormats: ['Text', 'Binary'] },
      ],
    });
  });

  it('gives a version 0 client its token as its id, which then opens the socket', async () => {
    const body = (await (await negotiate('')).json()) as Record<string, unknown>;
    expect(body).toMatchObject({ negotiateVersion: 0, connectionId: expect.any(String) });
    expect(body).not.toHaveProperty('connectionToken');
    const id = encodeURIComponent(body.connectionId as string);
    expect((await upgradeStatus(`${face.baseUrl}/hubs/open?id=${id}`)).status).toBe(101);
  });

  it('grants stateful reconnect only to a client that asks for it', async () => {
    expect(await (await negotiate('?negotiateVersion=1&useStatefulReconnect=true')).json()).toMatchObject({ useStatefulReconnect: true });
    expect(await (await negotiate('?negotiateVersion=1')).json()).not.toHaveProperty('useStatefulReconnect');
  });

  it('answers other methods with 405 and Allow: POST, with the CORS headers an allowed origin is owed', async () => {
    for (const method of ['GET', 'PUT', 'DELETE']) {
      const response = await negotiate('?negotiateVersion=1', { method, headers: { Origin: ALLOWED } });
      expect(response.status).toBe(405);
      expect(response.headers.get('allow')).toBe('POST');
      expect(response.headers.get('access-control-allow-origin')).toBe(ALLOWED);
      expect(await response.text()).toBe('Method Not Allowed');
    }
  });

  it('answers a preflight through the gatekeeper: 204 for an allowed origin, 403 otherwise', async () => {
    const allowed = await preflight(ALLOWED);
    expect(allowed.status).toBe(204);
    expect(allowed.headers.get('access-control-allow-origin')).toBe(ALLOWED);
    expect(allowed.headers.get('access-control-allow-methods')).toBe('GET, POST, DELETE, OPTIONS');
    const foreign = await preflight('https://evil.example.test');
    expect(foreign.status).toBe(403);
    expect(await foreign.text()).toBe('Forbidden');
  });

  it("answers with the gatekeeper's refusal before anything else", async () => {
    const response = await negotiate('?negotiateVersion=1', { method: 'GET' }, '/hubs/private');
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toBe('Bearer');
    expect(await response.text()).toBe('Unauthorized');
  });
});

describe.each(HTTP_PLATFORMS)('HubEndpoint on %s: what it passes on', (platform) => {
  let face: RunningHubApp;

  beforeAll(async () => (face = await startFace(platform, false)));
  afterAll(() => face.close());

  it("leaves the application's routes beside and under a hub path to the application", async () => {
    expect(await (await fetch(`${face.baseUrl}/hubs/open/other`)).text()).toBe('application');
    expect(await (await fetch(`${face.baseUrl}/hubs/openly/negotiate`, { method: 'POST' })).text()).toBe('application');
    expect((await fetch(`${face.baseUrl}/hubs/open/negotiate/more`, { method: 'POST' })).status).toBe(404);
  });

  it("serves no proxy files when proxies are off: the paths stay the application's", async () => {
    expect(await (await fetch(`${face.baseUrl}/hubs/private/proxy.d.ts`)).text()).toBe('application');
    expect((await fetch(`${face.baseUrl}/hubs/open/proxy.js`)).status).toBe(404);
  });

  it('takes upgrades on the hub path only, and leaves the others to other listeners', async () => {
    expect((await upgradeStatus(`${face.baseUrl}/hubs/open`)).status).toBe(101);
    for (const path of ['/hubs/open/negotiate', '/hubs/openly', '/hubs/open/', '/elsewhere']) {
      expect((await upgradeStatus(`${face.baseUrl}${path}`)).status).toBe(418);
    }
  });
});

describe.each(HTTP_PLATFORMS)('HubEndpoint on %s: proxy files, when on', (platform) => {
  let face: RunningHubApp;
  const proxyFile = (path: string, method = 'GET') => fetch(`${face.baseUrl}${path}`, { method });

  beforeAll(async () => (face = await startFace(platform, true)));
  afterAll(() => face.close());

  it('serves {hub}/proxy.js and {hub}/proxy.d.ts, uncached and varying by credential', async () => {
    const javascript = await proxyFile('/hubs/open/proxy.js');
    expect(javascript.status).toBe(200);
    expect(javascript.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(javascript.headers.get('cache-control')).toBe('no-store');
    expect(javascript.headers.get('vary')).toBe('Authorization, Cookie');
    expect(await javascript.text()).toContain('export const hubPath = "/hubs/open"');
    const typings = await proxyFile('/hubs/open/proxy.d.ts');
    expect(typings.headers.get('content-type')).toBe('application/typescript; charset=utf-8');
    expect(await typings.text()).toContain('export interface OpenHubProxy {');
  });

  it('answers HEAD with the headers of GET and no body', async () => {
    const full = await proxyFile('/hubs/open/proxy.js');
    const head = await proxyFile('/hubs/open/proxy.js', 'HEAD');
    expect(head.status).toBe(200);
    expect(head.headers.get('content-length')).toBe(full.headers.get('content-length'));
    expect(await head.text()).toBe('');
  });

  it('answers other methods with 405 and Allow: GET', async () => {
    for (const method of ['POST', 'PUT']) {
      const response = await proxyFile('/hubs/open/proxy.js', method);
      expect(response.status).toBe(405);
      expect(response.headers.get('allow')).toBe('GET');
    }
  });

  it('admits the request as negotiate would', async () => {
    const refused = await proxyFile('/hubs/private/proxy.js');
    expect(refused.status).toBe(401);
    expect(await refused.text()).toBe('Unauthorized');
  });

  it('leaves every other path under the hub to the application, and a path its own routes take', async () => {
    expect(await (await proxyFile('/hubs/open/other')).text()).toBe('application');
    expect(await (await proxyFile('/hubs/private/proxy.d.ts')).text()).toBe('application');
    expect((await proxyFile('/hubs/open/proxy.jsx')).status).toBe(404);
    expect((await proxyFile('/hubs/openproxy.js')).status).toBe(404);
  });
});
