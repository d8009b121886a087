import { HttpTransportType, HubConnectionBuilder, LogLevel, type HubConnection } from '@microsoft/signalr';
import 'reflect-metadata';
import { afterAll, bench, describe } from 'vitest';
import { redisLifetimeManager } from '../src/lifetime/redis/index.js';
import { startHubApp } from '../test/support/hub-app.js';
import { RedisServer } from '../test/support/redis-process.js';
import { RoundRobinProxy } from '../test/support/round-robin-proxy.js';
import { EchoHub } from '../test/transport/transport-hubs.js';

// What the relay adds to a round trip (an invocation and its completion) of the official client
// over SSE and long polling: two nodes on one redis-server; one client whose requests all reach the
// node holding its connection (sticky), one whose requests after the first all reach the other node,
// which forwards each over Redis (for SSE its POSTs; the event stream stays where it opened), and one
// behind a round-robin proxy (every other request forwarded). Each sample runs one round trip of each
// client back to back, so that the load of the machine weighs on all of them alike; the medians and
// the median of the paired differences are printed at the end.
const redis = await RedisServer.start();
const channelPrefix = `bench-relay-${process.pid}`;
const nodes = await Promise.all(
  [0, 1].map(() => startHubApp([EchoHub], { keys: [Buffer.alloc(32, 3)], lifetimeManager: redisLifetimeManager({ url: redis.url, channelPrefix }) })),
);
const proxies: RoundRobinProxy[] = [];
const clients: HubConnection[] = [];

async function connect(proxy: RoundRobinProxy, transport: HttpTransportType): Promise<HubConnection> {
  const client = new HubConnectionBuilder().withUrl(`${proxy.url}/hubs/echo`, { transport }).configureLogging(LogLevel.None).build();
  await client.start();
  clients.push(client);
  return client;
}

async function behindProxy(transport: HttpTransportType, route: 'sticky' | 'other node' | 'round-robin'): Promise<HubConnection> {
  const proxy = await RoundRobinProxy.start(nodes.map((node) => node.baseUrl));
  proxies.push(proxy);
  if (route === 'round-robin') return connect(proxy, transport);
  proxy.drop(1);
  const client = await connect(proxy, transport);
  if (route === 'other node') {
    proxy.admit(1);
    proxy.drop(0);
  }
  return client;
}

const ROUTES = ['sticky', 'other node', 'round-robin'] as const;

function median(values: number[]): number {
  return values.toSorted((a, b) => a - b)[Math.floor(values.length / 2)];
}
const samples = new Map<string, number[]>();

for (const transport of [HttpTransportType.LongPolling, HttpTransportType.ServerSentEvents]) {
  const name = HttpTransportType[transport];
  const routed = await Promise.all(ROUTES.map((route) => behindProxy(transport, route)));
  for (const route of ROUTES) samples.set(`${name}, ${route}`, []);
  describe(`${name}: one invocation round trip`, () => {
    bench(
      `${name}: sticky, other node, round-robin, one after the other`,
      async () => {
        for (const [index, client] of routed.entries()) {
          const startedAt = performance.now();
          await client.invoke('Echo', 1);
          samples.get(`${name}, ${ROUTES[index]}`)!.push(performance.now() - startedAt);
        }
      },
      { time: 8000, warmupTime: 1000 },
    );
  });
}

afterAll(async () => {
  for (const [label, values] of samples) {
    const sticky = samples.get(`${label.split(',')[0]}, sticky`)!;
    const added = values.map((value, index) => value - sticky[index]);
    console.log(`${label}: ${values.length} round trips, median ${median(values).toFixed(2)} ms, median added to sticky ${median(added).toFixed(2)} ms`);
  }
  await Promise.all(clients.map((client) => client.stop()));
  await Promise.all(proxies.map((proxy) => proxy.close()));
  await Promise.all(nodes.map((node) => node.close()));
  await redis.stop();
});
