// What telemetry records of flow control and of the Redis backplane, on the real SDK.
import type { Histogram } from '@opentelemetry/sdk-metrics';
import { redisLifetimeManager } from 'nestjs-signalr';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { FlowHub, FlowProbe } from '../flow/flow-hub.js';
import { ClientPool } from '../support/client.js';
import { startHubApp, type RunningHubApp } from '../support/hub-app.js';
import { OpenTelemetrySdk } from '../support/open-telemetry-sdk.js';
import { PausableSockets } from '../support/pausable-websocket.js';
import { describeWithRedis, RedisServer } from '../support/redis-server.js';

let sdk: OpenTelemetrySdk | undefined;
let server: RunningHubApp | undefined;
let redis: RedisServer | undefined;
const clients = new ClientPool();

afterEach(async () => {
  await clients.stopAll();
  await server?.close();
  await sdk?.shutdown();
  await redis?.stop();
  redis = undefined;
});

describe('telemetry of flow control', () => {
  it('counts a client closed as a slow consumer, by its transport', async () => {
    sdk = OpenTelemetrySdk.register();
    server = await startHubApp([FlowHub, FlowProbe], { maximumBufferedBytesPerClient: 256 * 1024 });
    const url = `${server.baseUrl}/hubs/flow`;
    const sockets = new PausableSockets();
    const slow = await clients.connect(url, sockets.options());
    const fast = await clients.connect(url);
    for (const member of [slow, fast]) await member.invoke('join', 'room');

    sockets.current.pause();
    await fast.invoke('flood', 'room', 6000, 16 * 1024, slow.connectionId);
    sockets.current.resume();

    const slowConsumers = await sdk.metric('signalr.server.slow_consumers');
    expect(slowConsumers.descriptor.unit).toBe('{connection}');
    expect(OpenTelemetrySdk.point(slowConsumers, { 'signalr.transport': 'web_sockets' })?.value).toBe(1);
  }, 60_000);
});

describeWithRedis('telemetry of the Redis backplane', () => {
  it("times each hub's publishes and counts its outages, the messages it dropped and its subscription gaps", async () => {
    redis = await RedisServer.start();
    sdk = OpenTelemetrySdk.register();
    const lifetimeManager = redisLifetimeManager({ url: redis.url });
    server = await startHubApp([FlowHub, FlowProbe], { lifetimeManager });
    const client = await clients.connect(`${server.baseUrl}/hubs/flow`);
    await vi.waitFor(() => expect(lifetimeManager.managerFor('/hubs/flow')?.health().status).toBe('up'), { timeout: 8_000 });
    await client.invoke('join', 'room');
    await client.invoke('flood', 'room', 3, 10, '');

    const metrics = sdk;
    const published = async () => {
      const duration = await metrics.metric('signalr.server.backplane.publish.duration');
      return OpenTelemetrySdk.point<Histogram>(duration, { 'signalr.hub': 'FlowHub' })?.value;
    };
    await vi.waitFor(async () => expect((await published())?.count).toBe(3), { timeout: 8_000 });
    expect((await metrics.metric('signalr.server.backplane.publish.duration')).descriptor.unit).toBe('s');
    expect((await published())?.buckets.boundaries).toEqual([0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10]);

    await redis.kill();
    await vi.waitFor(async () => {
      const outages = await metrics.metric('signalr.server.backplane.outages');
      expect(OpenTelemetrySdk.point(outages, { 'signalr.hub': 'FlowHub' })?.value).toBe(1);
    }, { timeout: 8_000 });
    const gaps = await metrics.metric('signalr.server.backplane.subscription_gaps');
    expect(gaps.descriptor.unit).toBe('{gap}');
    expect(OpenTelemetrySdk.point(gaps, { 'signalr.hub': 'FlowHub' })?.value).toBe(1);

    // Sent while Redis is gone: delivered here, dropped for the other nodes, and counted so.
    await client.invoke('flood', 'room', 2, 10, '');
    const dropped = await metrics.metric('signalr.server.backplane.dropped_messages');
    expect(dropped.descriptor.unit).toBe('{message}');
    expect(OpenTelemetrySdk.point(dropped, { 'signalr.hub': 'FlowHub' })?.value).toBe(2);
    expect(lifetimeManager.managerFor('/hubs/flow')?.health()).toMatchObject({ droppedMessages: 2, subscriptionGaps: 1 });
  }, 30_000);
});
