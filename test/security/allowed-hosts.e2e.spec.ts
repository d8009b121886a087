import { Module } from '@nestjs/common';
import { SignalRModule, type SignalRModuleOptions } from 'nestjs-signalr';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CapturingLogger } from '../support/capturing-logger.js';
import { createHubApp, listenOnLoopback, startHubApp, type RunningHubApp } from '../support/hub-app.js';
import { rawHttp, UPGRADE_HEADERS } from '../support/raw-client.js';
import { HubCodeRuns, NotBannedPolicy, OpenHub } from './security-hubs.js';

const HOST_NOT_ALLOWED = 'The Host header names a host this server does not serve.';
const ALLOWED_HOSTS = ['localhost:*', '127.0.0.1:*', 'chat.example.test', 'tls.example.test:8443'];
const hubs = [OpenHub, HubCodeRuns, NotBannedPolicy];
type Header = readonly [string, string];

async function startLogged(options: SignalRModuleOptions, logger: CapturingLogger): Promise<RunningHubApp> {
  @Module({ imports: [SignalRModule.forRoot(options)], providers: hubs })
  class HostsAppModule {}
  return listenOnLoopback(await createHubApp(HostsAppModule, { logger }));
}

/** Every kind of hub request, each sent with exactly the given Host (and Origin) headers when called. */
function hubRequests(server: RunningHubApp, headers: readonly Header[]) {
  return {
    negotiate: () => rawHttp(server.baseUrl, 'POST', '/hubs/open/negotiate?negotiateVersion=1', [...headers, ['Content-Length', '0']]),
    upgrade: () => rawHttp(server.baseUrl, 'GET', '/hubs/open', [...headers, ...UPGRADE_HEADERS]),
    proxy: () => rawHttp(server.baseUrl, 'GET', '/hubs/open/proxy.js', headers),
    preflight: () => rawHttp(server.baseUrl, 'OPTIONS', '/hubs/open/negotiate', [...headers, ['Access-Control-Request-Method', 'POST']]),
  };
}

async function statuses(server: RunningHubApp, headers: readonly Header[]) {
  const { negotiate, upgrade, proxy } = hubRequests(server, headers);
  return { negotiate: (await negotiate()).status, upgrade: (await upgrade()).status, proxy: (await proxy()).status };
}

/** Host and Origin of a page served under `name` and re-pointed at the server by DNS rebinding. */
const rebinding = (server: RunningHubApp, name = 'rebind.attacker.test'): Header[] => {
  const port = new URL(server.baseUrl).port;
  return [
    ['Host', `${name}:${port}`],
    ['Origin', `http://${name}:${port}`],
  ];
};

describe('Host allowlist against DNS rebinding (allowedHosts)', () => {
  const logger = new CapturingLogger();
  let server: RunningHubApp;
  let runs: HubCodeRuns;
  let port: string;
  const hostWarnings = () => logger.lines.filter((line) => line.includes('is not in allowedHosts'));

  beforeAll(async () => {
    server = await startLogged({ allowedHosts: ALLOWED_HOSTS, allowedOrigins: ['https://app.example.test'], proxies: true }, logger);
    runs = server.app.get(HubCodeRuns);
    port = new URL(server.baseUrl).port;
  });

  afterAll(() => server.close());

  it('refuses a rebinding page (its own name in Host and Origin) with 400 on negotiate, upgrade, proxy and preflight, before any hub code', async () => {
    const requests = hubRequests(server, rebinding(server));
    for (const request of Object.values(requests)) {
      const { status, head, body } = await request();
      expect(status).toBe(400);
      expect(body).toBe(HOST_NOT_ALLOWED);
      expect(head.toLowerCase()).not.toContain('access-control-allow-origin');
    }
    expect(runs.count).toBe(0);
  });

  it('admits the listed hosts: any port for name:*, the default port for a bare name, that port for name:port', async () => {
    const admitted = { negotiate: 200, upgrade: 101, proxy: 200 };
    for (const host of [`localhost:${port}`, '127.0.0.1:1', 'LOCALHOST', 'chat.example.test', 'Chat.Example.Test:80', 'tls.example.test:8443']) {
      expect(await statuses(server, [['Host', host]]), host).toEqual(admitted);
    }
    for (const host of ['chat.example.test:3000', 'tls.example.test', 'tls.example.test:443', 'localhost.', '[::1]', 'user@localhost', 'localhost:99999']) {
      expect(await statuses(server, [['Host', host]]), host).toEqual({ negotiate: 400, upgrade: 400, proxy: 400 });
    }
  });

  it('compares Origin with an allowed Host only: same-origin under a listed name passes, the rebinding name does not', async () => {
    const sameOrigin = await statuses(server, [
      ['Host', `localhost:${port}`],
      ['Origin', `http://localhost:${port}`],
    ]);
    expect(sameOrigin).toEqual({ negotiate: 200, upgrade: 101, proxy: 200 });
    const foreignOrigin = await statuses(server, [
      ['Host', `localhost:${port}`],
      ['Origin', `http://rebind.attacker.test:${port}`],
    ]);
    expect(foreignOrigin).toEqual({ negotiate: 403, upgrade: 403, proxy: 403 });
  });

  it('refuses two Host headers, whichever comes first (RFC 9112: 400)', async () => {
    for (const hosts of [
      ['127.0.0.1', 'rebind.attacker.test'],
      ['rebind.attacker.test', '127.0.0.1'],
    ]) {
      const { negotiate, upgrade } = hubRequests(
        server,
        hosts.map((host): Header => ['Host', host]),
      );
      for (const { status, body } of [await negotiate(), await upgrade()]) {
        expect(status).toBe(400);
        expect(body).toBe('A request must carry exactly one Host header.');
      }
    }
  });

  it('logs refusals at warn, naming the host and the hub, at most once per interval however many come', async () => {
    const before = hostWarnings().length;
    const refusals = 20;
    for (let i = 0; i < refusals; i++) expect((await hubRequests(server, rebinding(server, `rebind${i}.attacker.test`)).negotiate()).status).toBe(400);
    const after = hostWarnings();
    expect(after.length - before).toBeLessThan(refusals);
    expect(after.join('\n')).toMatch(/Refused a request to \/hubs\/open: Host rebind\d*\.attacker\.test:\d+ is not in allowedHosts/);
  });

  it('refuses to start with an entry that is not a host, naming it', async () => {
    for (const entry of ['http://localhost', 'localhost/hubs', 'user@localhost', '', 'localhost:99999', '*.example.test']) {
      await expect(startHubApp(hubs, { allowedHosts: [entry] }), entry).rejects.toMatchObject({
        code: 'SIGNALR_INVALID_OPTION',
        message: expect.stringContaining(JSON.stringify(entry)),
      });
    }
  });
});

describe('allowedHosts unset (the library default) and in production', () => {
  it('keeps the present behaviour: any Host passes, so the rebinding page passes the same-origin check', async () => {
    const server = await startHubApp(hubs);
    try {
      expect(await statuses(server, rebinding(server))).toEqual({ negotiate: 200, upgrade: 101, proxy: 404 });
    } finally {
      await server.close();
    }
  });

  it("accepts ['*'] as any Host, said explicitly", async () => {
    const server = await startHubApp(hubs, { allowedHosts: ['*'] });
    try {
      expect((await statuses(server, rebinding(server))).negotiate).toBe(200);
    } finally {
      await server.close();
    }
  });

  it("warns at start-up in production when unset, and not once set (['*'] included)", async () => {
    const environment = process.env.NODE_ENV;
    process.env.NODE_ENV = 'production';
    try {
      const warned = async (options: SignalRModuleOptions) => {
        const logger = new CapturingLogger();
        await (await startLogged({ keys: [randomBytes(32)], ...options }, logger)).close();
        return logger.lines.some((line) => line.includes('allowedHosts is not set'));
      };
      expect(await warned({})).toBe(true);
      expect(await warned({ allowedHosts: ['chat.example.test'] })).toBe(false);
      expect(await warned({ allowedHosts: ['*'] })).toBe(false);
    } finally {
      process.env.NODE_ENV = environment;
    }
  });
});
