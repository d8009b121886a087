import { HubConnectionState } from '@microsoft/signalr';
import { redisConnectionRegistry, redisLifetimeManager, type SignalRModuleOptions } from 'nestjs-signalr';
import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import { CapturingLogger } from '../support/capturing-logger.js';
import { CuttingProxy } from '../support/cutting-proxy.js';
import { sleep, waitFor } from '../support/wait.js';
import type { RunningHubApp } from '../support/hub-app.js';
import { negotiate, RawHubSocket, RS, upgradeStatus } from '../support/raw-client.js';
import { RedisCluster } from '../support/redis-cluster-process.js';
import { describeWithRedis, RedisServer } from '../support/redis-server.js';
import {
  afterNewToken,
  bearer,
  connectionTokenOf,
  endedOn,
  isInRoom,
  jwt,
  PATIENCE_MS,
  portOf,
  rawResume,
  resumableClient,
  resumeUrl,
  roomMessagesOf,
  startNode,
} from './resumption-support.js';
import { signFor } from '../support/jwt-auth.js';
import { RoomEvents } from './resumption-hub.js';
import { Redis } from 'ioredis';

let redis: RedisServer;
let redisCluster: RedisCluster;
const nodes: RunningHubApp[] = [];

beforeAll(async () => {
  [redis, redisCluster] = await Promise.all([RedisServer.start(), RedisCluster.start({ masters: 3 })]);
});

afterAll(async () => {
  await Promise.all(nodes.map((node) => node.close().catch(() => undefined)));
  await Promise.all([redis?.stop(), redisCluster?.stop()]);
});

/** Nodes sharing one Redis namespace: `start()` adds one. */
function cluster(shared: (prefix: string) => SignalRModuleOptions) {
  const prefix = `resume-${Math.random().toString(36).slice(2)}`;
  return {
    async start(): Promise<RunningHubApp> {
      const node = await startNode(shared(prefix));
      nodes.push(node);
      return node;
    },
  };
}

/**
 * Alice joins `a` and `b`, then leaves `a`: the token from before the leave, and the latest. Then
 * her network to the node goes away for good, as when she moves: the node still holds the
 * connection (waiting for her), and lets it go when another node takes it over.
 */
async function joinedThenLeft(node: RunningHubApp) {
  const proxy = await CuttingProxy.start(portOf(node));
  const client = await resumableClient(`${proxy.url}/hubs/rooms`, 'json', () => signFor(jwt, 'alice'));
  await afterNewToken(client, () => client.connection.invoke('Join', 'a'));
  const stale = await afterNewToken(client, () => client.connection.invoke('Join', 'b'));
  const latest = await afterNewToken(client, () => client.connection.invoke('Leave', 'a'));
  await proxy.close();
  return { client, stale, latest };
}

/**
 * Alice on `node` by hand, as the client extension opts in: a stateful connection in room `held`,
 * with the groups token it was sent.
 */
async function statefulOptIn(node: RunningHubApp) {
  const hubUrl = `${node.baseUrl}/hubs/rooms`;
  const { connectionId, connectionToken } = await negotiate(hubUrl, { headers: bearer('alice') });
  const raw = await RawHubSocket.openUrl(`${hubUrl}?id=${encodeURIComponent(connectionToken)}&groupsToken=true`, bearer('alice'));
  raw.send(`{"protocol":"json","version":2}${RS}`);
  raw.send(`{"type":1,"invocationId":"j","target":"Join","arguments":["held"]}${RS}`);
  const completed = (id: string) => raw.messages().findIndex((message) => message.invocationId === id);
  await raw.until(() => completed('j') !== -1, PATIENCE_MS);
  // The join's token leaves in the turn after the join, before or after its completion (which
  // waits for Redis with the backplane); it has left by the time a later call is answered.
  raw.send(`{"type":1,"invocationId":"w","target":"WhoAmI","arguments":[]}${RS}`);
  await raw.until(() => completed('w') !== -1, PATIENCE_MS);
  const tokens = raw.messages().slice(0, completed('w')).filter((message) => message.target === 'nestjs-signalr:groups-token');
  const groupsToken = (tokens.at(-1)!.arguments as string[])[0];
  return { raw, connectionId, connectionToken, groupsToken };
}

/** The prefix of the registry's keys, found from the key of a live connection. */
async function registryKeyPrefixOf(client: Redis, connectionId: string): Promise<string> {
  const [key] = await client.keys(`*${connectionId}`);
  return key.slice(0, -connectionId.length);
}

/** The Redis backplane on one Redis, and on a Redis Cluster (sharded pub/sub): the same behaviour is expected of both. */
const BACKPLANES = [
  { backplane: 'one Redis', options: (channelPrefix: string): SignalRModuleOptions => ({ lifetimeManager: redisLifetimeManager({ url: redis.url, channelPrefix }) }) },
  {
    backplane: 'a Redis Cluster',
    options: (channelPrefix: string): SignalRModuleOptions => ({
      lifetimeManager: redisLifetimeManager({ cluster: { nodes: redisCluster.startupNodes }, channelPrefix }),
    }),
  },
];

const withSharedRegistry = (channelPrefix: string): SignalRModuleOptions => ({
  connectionRegistry: redisConnectionRegistry({ url: redis.url, channelPrefix }),
});

describeWithRedis.each(BACKPLANES)('resumption across nodes on the Redis backplane of $backplane', ({ options: withBackplane }) => {
  it('moves a client with its groups from a node that shuts down to another, with no sticky sessions', async () => {
    const nodesOf = cluster(withBackplane);
    const [leaving, staying] = [await nodesOf.start(), await nodesOf.start()];
    const proxy = await CuttingProxy.start(portOf(leaving));
    try {
      const client = await resumableClient(`${proxy.url}/hubs/rooms`, 'messagepack', () => signFor(jwt, 'alice'));
      const id = client.connection.connectionId;
      await afterNewToken(client, () => client.connection.invoke('Join', 'survivors'));
      proxy.retarget(portOf(staying));
      await leaving.close();
      await waitFor(() => client.socketUrls.length === 2, PATIENCE_MS);
      await expect(client.connection.invoke('WhoAmI')).resolves.toBe(id);
      expect(client.connection.state).toBe(HubConnectionState.Connected);
      expect(await isInRoom(staying, 'survivors', roomMessagesOf(client.connection))).toBe(true);
      await client.connection.stop();
    } finally {
      await proxy.close();
    }
  });

  it('rejoins the groups Redis holds, not those of a stale token', async () => {
    const nodesOf = cluster(withBackplane);
    const [origin, other] = [await nodesOf.start(), await nodesOf.start()];
    const { client, stale } = await joinedThenLeft(origin);
    const raw = await rawResume(resumeUrl(other, connectionTokenOf(client), stale), bearer('alice'));
    expect(await isInRoom(other, 'b', raw)).toBe(true);
    expect(await isInRoom(other, 'a', raw)).toBe(false);
    raw.socket.terminate();
    await client.connection.stop();
  });

  it('refuses, on every node, a token whose connection ended on one', async () => {
    const nodesOf = cluster(withBackplane);
    const [origin, other] = [await nodesOf.start(), await nodesOf.start()];
    const client = await resumableClient(`${origin.baseUrl}/hubs/rooms`, 'json', () => signFor(jwt, 'alice'));
    const [connectionToken, groupsToken, id] = [connectionTokenOf(client), client.tokens.at(-1)!, client.connection.connectionId];
    await client.connection.stop();
    await endedOn(origin, id);
    expect((await upgradeStatus(resumeUrl(other, connectionToken, groupsToken), bearer('alice'))).status).toBe(404);

    // A fresh token used on one node, then replayed on another within its unused lifetime.
    const fresh = await negotiate(`${origin.baseUrl}/hubs/rooms`);
    const used = await RawHubSocket.open(`${origin.baseUrl}/hubs/rooms`, fresh.connectionToken);
    used.send(`{"protocol":"json","version":1}${RS}`);
    await used.nextFrame();
    expect((await upgradeStatus(`${other.baseUrl}/hubs/rooms?id=${encodeURIComponent(fresh.connectionToken)}`)).status).toBe(409);
    used.socket.close();
    await endedOn(origin, fresh.connectionId);
    expect((await upgradeStatus(`${other.baseUrl}/hubs/rooms?id=${encodeURIComponent(fresh.connectionToken)}`)).status).toBe(404);
  });

  it('takes over a connection still live on another node only once that node let it go', async () => {
    const nodesOf = cluster(withBackplane);
    const [origin, other] = [await nodesOf.start(), await nodesOf.start()];
    const holder = await statefulOptIn(origin);
    const resumed = await rawResume(resumeUrl(other, holder.connectionToken, holder.groupsToken), bearer('alice'));
    expect((await holder.raw.closed).code).toBe(1006);
    expect(await isInRoom(other, 'held', resumed)).toBe(true);
    resumed.socket.terminate();
  });
});

describeWithRedis('a shared connection registry without the backplane (redisConnectionRegistry)', () => {
  const nodesOf = cluster(withSharedRegistry);
  const log = new CapturingLogger();
  let origin: RunningHubApp;
  let other: RunningHubApp;

  beforeAll(async () => {
    [origin, other] = [await nodesOf.start(), await nodesOf.start()];
  });

  beforeEach(() => other.app.useLogger(log));

  it('restores the groups of the latest token (the control case)', async () => {
    const { client, latest } = await joinedThenLeft(origin);
    const raw = await rawResume(resumeUrl(other, connectionTokenOf(client), latest), bearer('alice'));
    expect(await isInRoom(other, 'b', raw)).toBe(true);
    expect(await isInRoom(other, 'a', raw)).toBe(false);
    raw.socket.terminate();
    await client.connection.stop();
  });

  it('drops every group of a token older than the recorded membership, so a removed group stays removed', async () => {
    const { client, stale } = await joinedThenLeft(origin);
    const raw = await rawResume(resumeUrl(other, connectionTokenOf(client), stale), bearer('alice'));
    expect(await isInRoom(other, 'a', raw)).toBe(false);
    expect(await isInRoom(other, 'b', raw)).toBe(false);
    expect(log.text()).toContain('presented a stale groups token; its 2 groups were dropped');
    raw.socket.terminate();
    await client.connection.stop();
  });

  it('records the membership version even when the groups no longer fit in a token, so an older token stays stale', async () => {
    log.lines.length = 0;
    const client = await resumableClient(`${origin.baseUrl}/hubs/rooms`, 'json', () => signFor(jwt, 'alice'));
    await afterNewToken(client, () => client.connection.invoke('Join', 'a'));
    // Rooms with 200-character names, until the groups no longer fit in a token: the last one the
    // client got still holds `a`.
    for (let i = 0; !log.text().includes('do not fit in a groups token'); i++) {
      await client.connection.invoke('Join', `${String(i).padStart(2, '0')}${'r'.repeat(198)}`);
      await sleep(20);
    }
    const older = client.tokens.at(-1)!;
    await client.connection.invoke('Leave', 'a');
    // The version of the leave is written to Redis right after it; no token will say so.
    await sleep(500);
    expect(client.tokens.at(-1)).toBe(older);

    const raw = await rawResume(resumeUrl(other, connectionTokenOf(client), older), bearer('alice'));
    expect(await isInRoom(other, 'a', raw)).toBe(false);
    expect(log.text()).toContain('presented a stale groups token');
    raw.socket.terminate();
    await client.connection.stop();
  });

  it('takes over a connection still live on another node only once that node let it go: never two sockets', async () => {
    const holder = await statefulOptIn(origin);
    const resumed = await rawResume(resumeUrl(other, holder.connectionToken, holder.groupsToken), bearer('alice'));
    // The holder's socket is ended by its node before the resumption is answered.
    const { code } = await holder.raw.closed;
    expect(code).toBe(1006);
    expect(origin.app.get(RoomEvents).disconnected.has(holder.connectionId)).toBe(true);
    expect(await isInRoom(other, 'held', resumed)).toBe(true);
    resumed.socket.terminate();
  });

  it('refuses to take over a connection whose node is up but does not let it go in time (409)', async () => {
    const holder = await statefulOptIn(origin);
    // A node that is up (its heartbeat is fresh) but never answers: the connection's record names it.
    const silent = new Redis(redis.url);
    try {
      const keyPrefix = await registryKeyPrefixOf(silent, holder.connectionId);
      await silent.set(`${keyPrefix}${holder.connectionId}`, 'live|silent-node|', 'PX', 60_000);
      await silent.set(`${keyPrefix}~up~silent-node`, '1', 'PX', 60_000);
      const answer = await upgradeStatus(resumeUrl(other, holder.connectionToken, holder.groupsToken), bearer('alice'));
      expect(answer.status).toBe(409);
      // Once that node is gone (no heartbeat), the connection can be taken.
      await silent.del(`${keyPrefix}~up~silent-node`);
      const resumed = await rawResume(resumeUrl(other, holder.connectionToken, holder.groupsToken), bearer('alice'));
      resumed.socket.terminate();
    } finally {
      holder.raw.socket.terminate();
      silent.disconnect();
    }
  });

  it('still refuses an ended connection after the node that ended it restarted', async () => {
    const ending = await nodesOf.start();
    const client = await resumableClient(`${ending.baseUrl}/hubs/rooms`, 'json', () => signFor(jwt, 'alice'));
    const [connectionToken, groupsToken, id] = [connectionTokenOf(client), client.tokens.at(-1)!, client.connection.connectionId];
    await client.connection.stop();
    await endedOn(ending, id);
    await ending.close();
    const restarted = await nodesOf.start();
    const answer = await upgradeStatus(resumeUrl(restarted, connectionToken, groupsToken), bearer('alice'));
    expect(answer.status).toBe(404);
  });
});

/** Redis gone (killed, then started again), or stalled with its connections open (SIGSTOP, then SIGCONT). */
const OUTAGES = [
  { outage: 'down', begin: (server: RedisServer) => server.kill(), end: (server: RedisServer) => server.start() },
  { outage: 'stalled', begin: async (server: RedisServer) => server.pause(), end: async (server: RedisServer) => server.resume() },
];

describeWithRedis('the shared registry while Redis is down or stalled', () => {
  it.each(OUTAGES)('keeps admitting new connections, refuses resumptions it cannot check (503), and recovers: Redis $outage', async ({ begin, end }) => {
    const own = await RedisServer.start();
    const channelPrefix = `down-${Math.random().toString(36).slice(2)}`;
    const options = { connectionRegistry: redisConnectionRegistry({ url: own.url, channelPrefix, commandTimeoutMs: 500 }) };
    const [origin, other] = [await startNode(options), await startNode(options)];
    nodes.push(origin, other);
    try {
      const client = await resumableClient(`${origin.baseUrl}/hubs/rooms`, 'json', () => signFor(jwt, 'alice'));
      const resumption = resumeUrl(other, connectionTokenOf(client), client.tokens.at(-1)!);
      await begin(own);

      const during = await resumableClient(`${origin.baseUrl}/hubs/rooms`, 'json', () => signFor(jwt, 'bob'));
      await expect(during.connection.invoke('WhoAmI')).resolves.toBe(during.connection.connectionId);
      expect((await upgradeStatus(resumption, bearer('alice'))).status).toBe(503);

      await end(own);
      await sleep(2500); // ioredis reconnects within its retry strategy (at most 2 s between attempts)
      const raw = await RawHubSocket.openUrl(resumption, bearer('alice'));
      expect(raw.socket.readyState).toBe(raw.socket.OPEN);
      raw.socket.terminate();
      await Promise.all([client.connection.stop(), during.connection.stop()]);
    } finally {
      own.resume();
      await own.stop();
    }
  });
});
