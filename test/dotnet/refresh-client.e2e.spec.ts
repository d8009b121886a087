import { Controller, Get, Query } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { redisLifetimeManager } from '../../src/lifetime/redis/index.js';
import { buildDotnetProject, runDotnetCases, type ObservedCase } from '../support/dotnet.js';
import { startHubApp, type RunningHubApp } from '../support/hub-app.js';
import { TestAuthModule } from '../support/jwt-auth.js';
import { describeWithRedis, RedisServer } from '../support/redis-server.js';
import { RoundRobinProxy } from '../support/round-robin-proxy.js';
import { MembersHub, RefreshHub, RefreshLog } from '../security/refresh-hubs.js';

// The official .NET client 11 (Microsoft.AspNetCore.SignalR.Client 11.0.0, its netstandard build
// on the .NET 10 SDK) refreshing its authentication against the package: the C# program
// (test/dotnet/RefreshClient) runs every case at once, one JSON line each.

/** Signs the test tokens the C# program asks for: it holds no key. */
@Controller('test-tokens')
class TestTokensController {
  constructor(private readonly jwt: JwtService) {}

  @Get()
  issue(@Query('sub') sub: string, @Query('roles') roles: string, @Query('ttl') ttl: string): string {
    return this.jwt.sign({ sub, roles: roles.split(',') }, { expiresIn: Number(ttl) });
  }
}

const TRANSPORTS = ['WebSockets', 'ServerSentEvents', 'LongPolling'] as const;

describeWithRedis('the official .NET client 11 refreshing its authentication', () => {
  let redis: RedisServer;
  let apps: RunningHubApp[];
  let proxy: RoundRobinProxy;
  let observed: Map<string, ObservedCase>;

  beforeAll(async () => {
    const [dll, started] = await Promise.all([buildDotnetProject('dotnet/RefreshClient'), RedisServer.start()]);
    redis = started;
    const channelPrefix = `dotnet-refresh-${Math.random().toString(36).slice(2)}`;
    const factories = [0, 1].map(() => redisLifetimeManager({ url: redis.url, channelPrefix, commandTimeoutMs: 2_000 }));
    apps = await Promise.all(
      factories.map((lifetimeManager) =>
        startHubApp([RefreshHub, MembersHub, RefreshLog], { keys: [Buffer.alloc(32, 7)], authStrategies: ['jwt'], lifetimeManager }, {
          imports: [TestAuthModule],
          controllers: [TestTokensController],
        }),
      ),
    );
    await vi.waitFor(() => factories.forEach((factory) => expect(factory.health().status).toBe('up')), { timeout: 10_000 });
    proxy = await RoundRobinProxy.start(apps.map((app) => app.baseUrl));
    observed = await runDotnetCases(dll, [apps[0].baseUrl, proxy.url]);
  }, 180_000);

  afterAll(async () => {
    await proxy?.close();
    await Promise.all((apps ?? []).map((app) => app.close()));
    await redis?.stop();
  });

  const outcome = (name: string) => {
    const line = observed.get(name);
    if (!line) throw new Error(`the .NET program reported no case '${name}'`);
    return line;
  };

  it.each(TRANSPORTS)('keeps a connection on 6-second tokens open for 30 s across its own refreshes, every echo back in order (%s)', (transport) => {
    const { value, error } = outcome(`held/${transport}`);
    expect(error).toBeUndefined();
    expect(value).toMatchObject({ inOrder: true, state: 'Connected', failed: 0 });
    // At half of each 5–6 s lifetime: about ten refreshes in 30 s.
    expect((value as { refreshed: number }).refreshed).toBeGreaterThanOrEqual(5);
  });

  it.each(TRANSPORTS)('carries the roles of a refreshed token to the next invocation (%s)', (transport) => {
    expect(outcome(`roles/${transport}`)).toEqual({
      case: `roles/${transport}`,
      value: { before: "Failed to invoke 'adminOnly' because user is unauthorized", after: 'admin', lifetimeOver590: true },
    });
  });

  it("refuses another user's token (403) and closes the connection at the old token's expiry", () => {
    expect(outcome('another user').value).toEqual({
      refusal: 'Response status code does not indicate success: 403 (Forbidden).',
      end: 'closed without error',
    });
  });

  it("refuses a token the hub's @Authorize no longer admits (403) and closes the connection", () => {
    expect(outcome('hub authorization revoked').value).toMatchObject({
      refusal: 'Response status code does not indicate success: 403 (Forbidden).',
      end: expect.stringContaining('no longer authorizes'),
    });
  });

  it.each(['ServerSentEvents', 'LongPolling'])('stays open behind a round-robin proxy in front of two nodes, its refreshes reaching both (%s)', async (transport) => {
    const { value, error } = outcome(`two nodes/${transport}`);
    expect(error).toBeUndefined();
    expect(value).toMatchObject({ inOrder: true, state: 'Connected', failed: 0 });
    const sent = await proxy.answered(`/hubs/refresh/refresh?client=dotnet-${transport}`);
    // The client disposes of its connection at the end of the case: a refresh then on its way is
    // cancelled, and only that last one may go unanswered.
    const refreshes = sent.at(-1)?.unanswered === 'left' ? sent.slice(0, -1) : sent;
    expect(new Set(refreshes.map((request) => request.target))).toEqual(new Set([0, 1]));
    expect(refreshes.map((request) => request.status)).toEqual(refreshes.map(() => 200));
  });
});
