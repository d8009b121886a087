import { HttpTransportType } from '@microsoft/signalr';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { createSampleApp } from '../../sample-app/bootstrap.js';
import { ClassicPage, classicConnection } from '../support/classic-client.js';
import { ClientPool, nextCall } from '../support/client.js';
import { listenOnLoopback, type RunningHubApp } from '../support/hub-app.js';
import { upgradeStatus } from '../support/raw-client.js';
import { RedisCluster } from '../support/redis-cluster-process.js';
import { describeWithRedis, RedisServer } from '../support/redis-server.js';
import { sampleTokenOf } from '../support/sample-login.js';

/** A backplane the sample is pointed at by its environment, which the tests can take down and bring back. */
interface Backplane {
  readonly env: Record<string, string>;
  /** Every Redis process killed: the backplane is gone. */
  kill(): Promise<void>;
  /** Started again, empty. */
  start(): Promise<void>;
  stop(): Promise<void>;
}

const BACKPLANES = [
  {
    variable: 'REDIS_URL',
    start: async (): Promise<Backplane> => {
      const redis = await RedisServer.start();
      return { env: { REDIS_URL: redis.url }, kill: () => redis.kill(), start: () => redis.start(), stop: () => redis.stop() };
    },
  },
  {
    variable: 'REDIS_CLUSTER_NODES',
    start: async (): Promise<Backplane> => {
      const cluster = await RedisCluster.start({ masters: 3 });
      return {
        env: { REDIS_CLUSTER_NODES: cluster.startupNodes.join(',') },
        kill: async () => void (await Promise.all(cluster.servers.map((server) => server.kill()))),
        start: async () => {
          await Promise.all(cluster.servers.map((server) => server.start()));
          await cluster.settled();
        },
        stop: () => cluster.stop(),
      };
    },
  },
];

describeWithRedis.each(BACKPLANES)('sample app with $variable: two nodes, one chat', ({ start }) => {
  let redis: Backplane;
  let nodes: RunningHubApp[];
  const clients = new ClientPool();
  const previous = { ...process.env };

  beforeAll(async () => {
    redis = await start();
    // Both nodes share the key ring and JWT secret, as nodes behind one load balancer would.
    Object.assign(process.env, {
      ...redis.env,
      SIGNALR_KEYS: Buffer.alloc(32, 7).toString('base64'),
      JWT_SECRET: 'shared-test-secret-for-both-nodes-0123456789',
    });
    nodes = [await listenOnLoopback(await createSampleApp({ logger: false })), await listenOnLoopback(await createSampleApp({ logger: false }))];
  });

  afterAll(async () => {
    await clients.stopAll();
    await Promise.all(nodes.map((node) => node.close()));
    await redis.stop();
    for (const key of [...Object.keys(redis.env), 'SIGNALR_KEYS', 'JWT_SECRET']) {
      if (previous[key] === undefined) delete process.env[key];
      else process.env[key] = previous[key];
    }
  });

  const health = async (path: string) => {
    const response = await fetch(`${nodes[0].baseUrl}${path}`);
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };

  const signIn = async (node: RunningHubApp, username: string, transport = HttpTransportType.WebSockets) => {
    const response = await fetch(`${node.baseUrl}/auth/login`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ username, password: `${username}-pass` }),
    });
    const { access_token } = (await response.json()) as { access_token: string };
    return clients.connect(`${node.baseUrl}/hubs/chat`, { accessTokenFactory: () => access_token, transport });
  };

  it('delivers room messages and announcements across nodes', async () => {
    const alice = await signIn(nodes[0], 'alice');
    const bob = await signIn(nodes[1], 'bob');
    const admin = await signIn(nodes[1], 'admin');
    await alice.invoke('JoinRoom', 'general');
    await bob.invoke('JoinRoom', 'general');
    const received = nextCall(alice, 'ReceiveMessage');
    await bob.invoke('SendToRoom', 'general', 'hello from node 2');
    await expect(received).resolves.toEqual(['general', 'bob', 'hello from node 2']);
    const announced = nextCall(alice, 'Announcement');
    await admin.invoke('Announce', 'for every node');
    await expect(announced).resolves.toEqual(['admin', 'for every node']);
  });

  it('delivers across nodes whatever transport each member came over', async () => {
    const members = [
      await signIn(nodes[0], 'alice', HttpTransportType.ServerSentEvents),
      await signIn(nodes[1], 'bob', HttpTransportType.LongPolling),
      await signIn(nodes[1], 'admin', HttpTransportType.WebSockets),
    ];
    for (const member of members) await member.invoke('JoinRoom', 'mixed');
    for (const [index, sender] of members.entries()) {
      const received = members.filter((member) => member !== sender).map((member) => nextCall(member, 'ReceiveMessage'));
      await sender.invoke('SendToRoom', 'mixed', `message ${index}`);
      for (const message of await Promise.all(received)) expect(message[2]).toBe(`message ${index}`);
    }
  });

  it('puts a jQuery client on one node and an official client on the other in one room: each sees the other', async () => {
    const page = await ClassicPage.open(nodes[0].baseUrl);
    const classic = classicConnection(page, nodes[0].baseUrl, await sampleTokenOf(nodes[0].baseUrl, 'alice'));
    try {
      const seenByClassic: unknown[][] = [];
      const chat = classic.createHubProxy('chatHub');
      chat.on('receiveMessage', (...args) => seenByClassic.push(args));
      await classic.start({ transport: 'webSockets' });
      await chat.invoke('joinRoom', 'generations');
      const modern = await signIn(nodes[1], 'bob');
      await modern.invoke('JoinRoom', 'generations');
      const fromClassic = nextCall(modern, 'ReceiveMessage');
      await chat.invoke('sendToRoom', 'generations', 'from jQuery on node 1');
      await expect(fromClassic).resolves.toEqual(['generations', 'alice', 'from jQuery on node 1']);
      await modern.invoke('SendToRoom', 'generations', 'from @microsoft/signalr on node 2');
      await vi.waitFor(() => expect(seenByClassic).toContainEqual(['generations', 'bob', 'from @microsoft/signalr on node 2']), { timeout: 5000 });
    } finally {
      classic.stop();
      page.close();
    }
  });

  it('accepts on one node a token negotiated on the other (no sticky sessions)', async () => {
    const login = await fetch(`${nodes[0].baseUrl}/auth/login`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ username: 'alice', password: 'alice-pass' }),
    });
    const { access_token } = (await login.json()) as { access_token: string };
    const negotiated = await fetch(`${nodes[0].baseUrl}/hubs/chat/negotiate?negotiateVersion=1`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${access_token}` },
    });
    const { connectionToken } = (await negotiated.json()) as { connectionToken: string };
    const status = await upgradeStatus(`${nodes[1].baseUrl}/hubs/chat?id=${connectionToken}`, { Authorization: `Bearer ${access_token}` });
    expect(status.status).toBe(101);
  });

  it('reports the backplane: GET /health stays 200, GET /health/backplane is 503 while Redis is down', async () => {
    expect(await health('/health')).toEqual({
      status: 200,
      body: expect.objectContaining({ status: 'ok', backplane: expect.objectContaining({ status: 'up', backplane: 'redis' }) }),
    });
    expect((await health('/health/backplane')).status).toBe(200);

    await redis.kill();
    await vi.waitFor(async () => expect((await health('/health/backplane')).status).toBe(503), { timeout: 8_000 });
    expect(await health('/health')).toEqual({
      status: 200,
      body: expect.objectContaining({ backplane: expect.objectContaining({ status: 'down' }) }),
    });

    await redis.start();
    await vi.waitFor(async () => expect((await health('/health/backplane')).status).toBe(200), { timeout: 8_000 });
  });
});
