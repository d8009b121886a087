import { HttpTransportType, HubConnectionBuilder, LogLevel, type HubConnection } from '@microsoft/signalr';
import 'reflect-metadata';
import { afterAll, bench, describe } from 'vitest';
import { redisLifetimeManager } from '../src/lifetime/redis/index.js';
import { startHubApp } from '../test/support/hub-app.js';
import { RedisServer } from '../test/support/redis-process.js';
import { RoundRobinProxy } from '../test/support/round-robin-proxy.js';
import { EchoHub } from '../test/transport/transport-hubs.js';

// What the relay costs a round trip (an invocation and its completion) of the official client over
// SSE and long polling: two nodes on one redis-server, the client behind the same test proxy either
// sticky (it sends every request to the first node) or round-robin (every other request reaches the
// node that does not hold the connection, which forwards it over Redis). Everything on one machine.
const redis = await RedisServer.start();
const channelPrefix = `bench-relay-${process.pid}`;
const nodes = await Promise.all(
  [0, 1].map(() => startHubApp([EchoHub], { keys: [Buffer.alloc(32, 3)], lifetimeManager: redisLifetimeManager({ url: redis.url, channelPrefix }) })),
);
const sticky = await RoundRobinProxy.start([nodes[0].baseUrl]);
const roundRobin = await RoundRobinProxy.start(nodes.map((node) => node.baseUrl));
const clients: HubConnection[] = [];

async function connect(baseUrl: string, transport: HttpTransportType): Promise<HubConnection> {
  const client = new HubConnectionBuilder().withUrl(`${baseUrl}/hubs/echo`, { transport }).configureLogging(LogLevel.None).build();
  await client.start();
  clients.push(client);
  return client;
}

for (const transport of [HttpTransportType.LongPolling, HttpTransportType.ServerSentEvents]) {
  const name = HttpTransportType[transport];
  const [onOneNode, relayed] = [await connect(sticky.url, transport), await connect(roundRobin.url, transport)];
  describe(`${name}: one invocation round trip`, () => {
    bench(`${name}, sticky (every request to the node holding the connection)`, () => onOneNode.invoke('Echo', 1).then(() => undefined), { time: 4000, warmupTime: 1000 });
    bench(`${name}, round-robin over two nodes (every other request relayed)`, () => relayed.invoke('Echo', 1).then(() => undefined), { time: 4000, warmupTime: 1000 });
  });
}

afterAll(async () => {
  await Promise.all(clients.map((client) => client.stop()));
  await Promise.all([sticky.close(), roundRobin.close()]);
  await Promise.all(nodes.map((node) => node.close()));
  await redis.stop();
});
