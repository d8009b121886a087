import type { HubConnection } from '@microsoft/signalr';
import { Controller, Get } from '@nestjs/common';
import { HealthCheck, HealthCheckService, TerminusModule } from '@nestjs/terminus';
import { Hub, redisLifetimeManager, SignalRBackplaneHealthIndicator, type SignalRModuleOptions } from 'nestjs-signalr';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { connectClient } from '../../support/client.js';
import { startHubApp, type RunningHubApp } from '../../support/hub-app.js';
import { describeWithRedis, RedisServer } from '../../support/redis-server.js';

@Hub('/hubs/health')
class PingHub {
  ping(): string {
    return 'pong';
  }
}

@Controller('health')
class BackplaneHealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly backplane: SignalRBackplaneHealthIndicator,
  ) {}

  @Get('backplane')
  @HealthCheck()
  check() {
    return this.health.check([() => this.backplane.isHealthy()]);
  }
}

interface HealthBody {
  status: string;
  details: Record<string, { status: string; backplane: string; hubs?: Record<string, { status: string }> }>;
}

async function getHealth(app: RunningHubApp): Promise<{ status: number; body: HealthBody }> {
  const response = await fetch(`${app.baseUrl}/health/backplane`);
  return { status: response.status, body: (await response.json()) as HealthBody };
}

const startWithTerminus = (options: SignalRModuleOptions) =>
  startHubApp([PingHub], options, {
    imports: [TerminusModule.forRoot({ logger: false })],
    controllers: [BackplaneHealthController],
  });

describeWithRedis('SignalRBackplaneHealthIndicator with @nestjs/terminus and a real redis-server', () => {
  let redis: RedisServer;
  let app: RunningHubApp;
  let client: HubConnection;

  beforeAll(async () => {
    redis = await RedisServer.start();
    const channelPrefix = `health-${Math.random().toString(36).slice(2)}`;
    app = await startWithTerminus({ lifetimeManager: redisLifetimeManager({ url: redis.url, channelPrefix }) });
    client = await connectClient(`${app.baseUrl}/hubs/health`);
  });
  afterAll(async () => {
    await client?.stop();
    await app?.close();
    await redis?.stop();
  });

  it('answers 200 while Redis runs, 503 once it is killed, and 200 again after it restarts', async () => {
    await vi.waitFor(async () => expect((await getHealth(app)).status).toBe(200), { timeout: 8_000 });
    const up = await getHealth(app);
    expect(up.body).toMatchObject({
      status: 'ok',
      details: { 'signalr-backplane': { status: 'up', backplane: 'redis', hubs: { '/hubs/health': { status: 'up' } } } },
    });

    await redis.kill();
    await vi.waitFor(async () => expect((await getHealth(app)).status).toBe(503), { timeout: 8_000 });
    const down = await getHealth(app);
    expect(down.body).toMatchObject({
      status: 'error',
      details: { 'signalr-backplane': { status: 'down', hubs: { '/hubs/health': { status: 'down' } } } },
    });
    // Down means cut off from the other nodes, not out of service: this node's hubs still answer.
    await expect(client.invoke('Ping')).resolves.toBe('pong');

    await redis.start();
    await vi.waitFor(async () => expect((await getHealth(app)).status).toBe(200), { timeout: 8_000 });
    expect((await getHealth(app)).body.details['signalr-backplane'].status).toBe('up');
  });
});

describe('SignalRBackplaneHealthIndicator with @nestjs/terminus, in-process hubs', () => {
  let app: RunningHubApp | undefined;
  afterEach(() => app?.close());

  it('is up, since there is no backplane to lose', async () => {
    app = await startWithTerminus({});
    const health = await getHealth(app);
    expect(health.status).toBe(200);
    expect(health.body.details).toEqual({ 'signalr-backplane': { status: 'up', backplane: 'in-process' } });
  });
});
