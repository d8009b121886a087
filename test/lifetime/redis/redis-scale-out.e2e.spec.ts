import type { HubConnection } from '@microsoft/signalr';
import { Caller, Clients, Groups, Hub, type GroupManager, type HubCallerClients, type HubCallerContext } from 'nestjs-signalr';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { redisLifetimeManager, type RedisLifetimeManagerOptions } from '../../../src/lifetime/redis/index.js';
import { connectClient } from '../../support/client.js';
import { startHubApp, type RunningHubApp } from '../../support/hub-app.js';
import { RedisCluster } from '../../support/redis-cluster-process.js';
import { describeWithRedis, RedisServer } from '../../support/redis-server.js';

@Hub('/hubs/scale')
class ScaleHub {
  async join(room: string, @Caller() caller: HubCallerContext, @Groups() groups: GroupManager): Promise<void> {
    await groups.addToGroup(caller.connectionId, room);
  }

  async say(room: string, text: string, @Clients() clients: HubCallerClients): Promise<void> {
    await clients.group(room).send('Said', room, text);
  }

  // Test-only: connection ids are never shared with other clients in a real hub.
  whoAmI(@Caller() caller: HubCallerContext): string {
    return caller.connectionId;
  }

  async askOther(connectionId: string, question: string, @Clients() clients: HubCallerClients): Promise<unknown> {
    return clients.client(connectionId).invoke('Answer', question);
  }
}

/** Where the backplane runs, and how to stop it. */
interface Backplane {
  readonly where: RedisLifetimeManagerOptions;
  stop(): Promise<void>;
}

const BACKPLANES = [
  {
    backplane: 'one Redis',
    start: async (): Promise<Backplane> => {
      const server = await RedisServer.start();
      return { where: { url: server.url }, stop: () => server.stop() };
    },
  },
  {
    backplane: 'a Redis Cluster of three masters',
    start: async (): Promise<Backplane> => {
      const cluster = await RedisCluster.start({ masters: 3 });
      return { where: { cluster: { nodes: cluster.startupNodes } }, stop: () => cluster.stop() };
    },
  },
];

describeWithRedis.each(BACKPLANES)('Two Nest applications scaled out over $backplane, with @microsoft/signalr clients', ({ start }) => {
  let redis: Backplane;
  let apps: RunningHubApp[] = [];
  let clients: HubConnection[] = [];

  beforeAll(async () => {
    redis = await start();
    const channelPrefix = `e2e-${Math.random().toString(36).slice(2)}`;
    const factories = [0, 1].map(() => redisLifetimeManager({ ...redis.where, channelPrefix }));
    apps = await Promise.all(factories.map((lifetimeManager) => startHubApp([ScaleHub], { lifetimeManager })));
    await vi.waitFor(() => factories.forEach((factory) => expect(factory.health().status).toBe('up')), { timeout: 5_000 });
  });
  afterAll(async () => {
    await Promise.all(clients.map((client) => client.stop()));
    await Promise.all(apps.map((app) => app.close()));
    await redis?.stop();
  });

  it('delivers group messages and client results between clients of different applications', async () => {
    const saidTo = [[], []] as [string, string][][];
    clients = await Promise.all(
      apps.map((app, index) =>
        connectClient(
          `${app.baseUrl}/hubs/scale`,
          {},
          (connection) => {
            connection.on('Said', (room: string, text: string) => saidTo[index].push([room, text]));
            connection.on('Answer', (question: string) => `app ${index} answers ${question}`);
          },
          index === 0 ? 'json' : 'messagepack',
        ),
      ),
    );
    const [first, second] = clients;
    await first.invoke('Join', 'lobby');
    await second.invoke('Join', 'lobby');

    await first.invoke('Say', 'lobby', 'hello from app 0');
    await second.invoke('Say', 'lobby', 'hello from app 1');
    await vi.waitFor(() => {
      for (const said of saidTo) {
        expect(said).toEqual(
          expect.arrayContaining([
            ['lobby', 'hello from app 0'],
            ['lobby', 'hello from app 1'],
          ]),
        );
      }
    });
    expect(saidTo.map((said) => said.length)).toEqual([2, 2]);

    const secondId = await second.invoke<string>('WhoAmI');
    await expect(first.invoke('AskOther', secondId, 'why?')).resolves.toBe('app 1 answers why?');
  });
});
