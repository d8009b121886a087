import type { HubConnection } from '@microsoft/signalr';
import { Controller, Get } from '@nestjs/common';
import { HealthCheck, HealthCheckService, TerminusModule } from '@nestjs/terminus';
import { Hub, redisLifetimeManager, SignalRBackplaneHealthIndicator, type SignalRModuleOptions } from 'nestjs-signalr';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { connectClient } from '../../support/client.js';
import { startHubApp, type RunningHubApp } from '../../support/hub-app.js';
import { RedisCluster } from '../../support/redis-cluster-process.js';
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
  details: Record<string, { status: string; backplane: string; cluster?: { state: string }; hubs?: Record<string, { status: string }> }>;
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

describeWithRedis('SignalRBackplaneHealthIndicator with @nestjs/terminus and a Redis Cluster', () => {
  let cluster: RedisCluster;
  let app: RunningHubApp;

  beforeAll(async () => {
    cluster = await RedisCluster.start({ masters: 3 });
    const channelPrefix = `health-${Math.random().toString(36).slice(2)}`;
    app = await startWithTerminus({ lifetimeManager: redisLifetimeManager({ cluster: { nodes: cluster.startupNodes }, channelPrefix }) });
  });
  afterAll(async () => {
    await app?.close();
    await cluster?.stop();
  });

  it('answers 200 with the cluster’s state while it serves every slot, 503 while a master is down, and 200 once it is back', async () => {
    await vi.waitFor(async () => expect((await getHealth(app)).body.details['signalr-backplane'].cluster).toBeDefined(), { timeout: 8_000 });
    expect(await getHealth(app)).toMatchObject({
      status: 200,
      body: { details: { 'signalr-backplane': { status: 'up', backplane: 'redis', cluster: { state: 'ok', masters: 3, slotsServed: 16_384 } } } },
    });

    // A master without a replica: its slots are served by no one until it is back.
    const master = cluster.servers[0];
    await master.kill();
    await vi.waitFor(async () => expect((await getHealth(app)).body.details['signalr-backplane'].cluster?.state).toBe('fail'), { timeout: 8_000 });
    expect((await getHealth(app)).status).toBe(503);

    await master.start();
    await vi.waitFor(async () => expect((await getHealth(app)).status).toBe(200), { timeout: 8_000 });
    expect((await getHealth(app)).body.details['signalr-backplane'].cluster?.state).toBe('ok');
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
