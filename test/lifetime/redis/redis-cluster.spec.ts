import { Logger } from '@nestjs/common';
import { afterAll, afterEach, beforeAll, beforeEach, expect, it, vi } from 'vitest';
import { SignalRError, SignalRErrorCode } from '../../../src/errors/signalr-error-codes.js';
import { backplaneHealthResult, redisLifetimeManager, type RedisLifetimeManager } from '../../../src/lifetime/redis/index.js';
import { RedisChannels } from '../../../src/lifetime/redis/redis-channels.js';
import { RedisCluster } from '../../support/redis-cluster-process.js';
import { describeWithRedis } from '../../support/redis-server.js';
import { sleep } from '../../support/wait.js';
import { FakeConnection } from '../fake-connection.js';
import { connect, fence, fenceBy, HUB_PATH, startNodes } from './redis-nodes.js';

const TTL_MS = 400;

describeWithRedis('RedisLifetimeManager on a Redis Cluster of three masters (sharded pub/sub)', () => {
  let cluster: RedisCluster;
  let prefix: string;
  let channels: RedisChannels;
  let nodes: RedisLifetimeManager[];
  let a: RedisLifetimeManager;
  let b: RedisLifetimeManager;
  let c: RedisLifetimeManager;
  // a1 on A, b1 and b2 on B, c1 on C; alice has a connection on A and one on B; c1 answers client results.
  let a1: FakeConnection;
  let b1: FakeConnection;
  let b2: FakeConnection;
  let c1: FakeConnection;
  let all: FakeConnection[];

  const masterPorts = async () => (await cluster.nodes()).filter((node) => node.master).map((node) => node.port);
  /** The backplane's shard channels each master serves, as Redis lists them (PUBSUB SHARDCHANNELS). */
  const shardChannelsByMaster = async () => {
    const ports = await masterPorts();
    const lists = await Promise.all(ports.map((port) => cluster.on((node) => node.pubsub('SHARDCHANNELS', `${prefix}:*`), port)));
    return new Map(ports.map((port, index) => [port, (lists[index] as string[]).toSorted()]));
  };
  /** How many subscriber connections listen on a shard channel, all masters together. */
  const listeners = async (channel: string) => {
    const counts = await Promise.all(
      (await masterPorts()).map((port) => cluster.on((node) => node.pubsub('SHARDNUMSUB', channel), port).then((reply) => Number((reply as unknown[])[1]))),
    );
    return counts.reduce((total, count) => total + count, 0);
  };

  beforeAll(async () => {
    Logger.overrideLogger(['error']);
    cluster = await RedisCluster.start({ masters: 3 });
  });
  afterAll(() => cluster?.stop());

  beforeEach(async () => {
    prefix = `cluster-${Math.random().toString(36).slice(2)}`;
    channels = new RedisChannels(prefix, HUB_PATH);
    nodes = await startNodes(cluster, 3, { channelPrefix: prefix, ackTimeoutMs: 300, clientResultTimeoutMs: 300, connectionGroupsTtlMs: TTL_MS });
    [a, b, c] = nodes;
    a1 = await connect(a, new FakeConnection('alice'));
    b1 = await connect(b, new FakeConnection('alice'));
    b2 = await connect(b, new FakeConnection('bob'));
    c1 = await connect(
      c,
      new FakeConnection(undefined, undefined, async (method, args) => {
        if (method === 'Add') return (args[0] as number) + (args[1] as number);
        if (method === 'Fail') throw new SignalRError(SignalRErrorCode.ClientResultFailed, 'The client answered with an error: nope');
        return new Promise(() => {}); // never answers
      }),
    );
    all = [a1, b1, b2, c1];
  });
  afterEach(async () => {
    await Promise.all(nodes.map((node) => node.dispose()));
  });

  it('refuses a cluster given together with a url, or without nodes', () => {
    expect(() => redisLifetimeManager({ url: 'redis://127.0.0.1:6379', cluster: { nodes: cluster.startupNodes } })).toThrow(/cluster replaces url and redis/);
    expect(() => redisLifetimeManager({ cluster: { nodes: [] } })).toThrow(/cluster.nodes must name at least one node/);
  });

  it('spreads the channels of groups, users and connections over the shards, each on the master of its slot', async () => {
    for (let index = 0; index < 12; index++) await b.addToGroup(b1.connectionId, `room-${index}`);
    const byMaster = await shardChannelsByMaster();
    const groupChannels = Array.from({ length: 12 }, (_, index) => channels.group(`room-${index}`));
    for (const channel of [...groupChannels, channels.user('alice'), channels.connection(c1.connectionId), channels.all]) {
      const { master } = await cluster.shardOf(channel);
      expect(byMaster.get(master.port)).toContain(channel);
      for (const [port, list] of byMaster) if (port !== master.port) expect(list).not.toContain(channel);
    }
    const mastersUsed = [...byMaster.values()].filter((list) => groupChannels.some((channel) => list.includes(channel)));
    expect(mastersUsed.length).toBeGreaterThan(1);
  });

  it('listens on a group’s and a user’s channel only on the nodes with members there, from the first member to the last', async () => {
    await b.addToGroup(b1.connectionId, 'g');
    await c.addToGroup(c1.connectionId, 'g');
    await b.addToGroup(b2.connectionId, 'g');
    expect(await listeners(channels.group('g'))).toBe(2); // B and C, once each
    expect(await listeners(channels.user('alice'))).toBe(2); // A and B
    expect(await listeners(channels.user('bob'))).toBe(1);
    expect(await listeners(channels.connection(b1.connectionId))).toBe(1);

    await c.removeFromGroup(c1.connectionId, 'g');
    await b.removeFromGroup(b1.connectionId, 'g');
    await vi.waitFor(async () => expect(await listeners(channels.group('g'))).toBe(1), { timeout: 5_000, interval: 20 });
    await b.removeFromGroup(b2.connectionId, 'g');
    await b.onDisconnected(b1);
    await vi.waitFor(
      async () => {
        expect(await listeners(channels.group('g'))).toBe(0);
        expect(await listeners(channels.user('alice'))).toBe(1);
        expect(await listeners(channels.connection(b1.connectionId))).toBe(0);
      },
      { timeout: 5_000, interval: 20 },
    );
  });

  it('sends to all, to connections, groups and users of every node, each once, leaving out the excluded', async () => {
    await a.addToGroup(a1.connectionId, 'red');
    await a.addToGroup(b1.connectionId, 'red');
    await b.addToGroup(b1.connectionId, 'blue');
    await c.addToGroup(b2.connectionId, 'blue');
    await c.addToGroup(c1.connectionId, 'green');

    await a.sendAll('Hello', ['world']);
    await a.sendAll('Hi', [], [a1.connectionId, b2.connectionId]);
    await a.sendConnections([b1.connectionId], 'One', []);
    await a.sendConnections([a1.connectionId, b2.connectionId, c1.connectionId, b2.connectionId, 'nobody'], 'Several', []);
    await a.sendGroups(['red'], 'Red', []);
    await a.sendGroups(['red'], 'RedButB1', [], [b1.connectionId]);
    await a.sendGroups(['red', 'blue', 'red'], 'RedOrBlue', []);
    await a.sendGroups(['blue', 'green'], 'NotC1', [], [c1.connectionId]);
    await a.sendGroups(['nobody-here'], 'Nobody', []);
    await a.sendUsers(['alice'], 'ForAlice', []);
    await a.sendUsers(['alice', 'bob', 'alice', 'nobody'], 'ForBoth', []);

    await fence(a, all);
    await fenceBy((target, args) => a.sendConnections([b1.connectionId], target, args), [b1]);
    await fenceBy((target, args) => a.sendGroups(['red'], target, args), [a1, b1]);
    await fenceBy((target, args) => a.sendUsers(['alice'], target, args), [a1, b1]);
    // A sender's messages keep their order per channel, not across channels: compared as sets.
    expect(a1.targets().toSorted()).toEqual(['ForAlice', 'ForBoth', 'Hello', 'Red', 'RedButB1', 'RedOrBlue', 'Several'].toSorted());
    expect(b1.targets().toSorted()).toEqual(['ForAlice', 'ForBoth', 'Hello', 'Hi', 'NotC1', 'One', 'Red', 'RedOrBlue'].toSorted());
    expect(b2.targets().toSorted()).toEqual(['ForBoth', 'Hello', 'NotC1', 'RedOrBlue', 'Several'].toSorted());
    expect(c1.targets().toSorted()).toEqual(['Hello', 'Hi', 'Several'].toSorted());
  });

  it('keeps one sender’s messages to one group in the order sent', async () => {
    await b.addToGroup(b1.connectionId, 'ordered');
    await c.addToGroup(c1.connectionId, 'ordered');
    const sent = Array.from({ length: 300 }, (_, index) => index);
    for (const index of sent) await a.sendGroups(['ordered'], 'Burst', [index]);
    await fenceBy((target, args) => a.sendGroups(['ordered'], target, args), [b1, c1]);
    for (const connection of [b1, c1]) expect(connection.messages().map((message) => message.args[0])).toEqual(sent);
  });

  it('stops sending to a connection, and through its groups and user, once it disconnected', async () => {
    await b.addToGroup(b1.connectionId, 'red');
    await b.addToGroup(b2.connectionId, 'red');
    await b.onDisconnected(b1);
    await a.sendConnections([b1.connectionId], 'Gone', []);
    await a.sendGroups(['red'], 'Red', []);
    await a.sendUsers(['alice'], 'Alice', []);
    await fenceBy((target, args) => a.sendGroups(['red'], target, args), [b2]);
    await fenceBy((target, args) => a.sendUsers(['alice'], target, args), [a1]);
    expect(b1.messages()).toEqual([]);
    expect(b2.targets()).toEqual(['Red']);
    expect(a1.targets()).toEqual(['Alice']);
  });

  it('adds a connection of another node to a group once that node acknowledged it, refuses past its limit, and times out for no one', async () => {
    await a.addToGroup(c1.connectionId, 'team');
    // Acknowledged means applied: C subscribed the group before answering.
    await a.sendGroups(['team'], 'Joined', []);
    await fenceBy((target, args) => a.sendGroups(['team'], target, args), [c1]);
    expect(c1.targets()).toEqual(['Joined']);

    c1.maximumGroups = 2;
    await b.addToGroup(c1.connectionId, 'two');
    await expect(b.addToGroup(c1.connectionId, 'three')).rejects.toMatchObject({ code: SignalRErrorCode.TooManyGroups });
    await a.removeFromGroup(c1.connectionId, 'team');
    await a.sendGroups(['team'], 'Left', []);
    await fence(a, [c1]);
    expect(c1.targets()).toEqual(['Joined']);

    await expect(a.addToGroup('no-such-connection', 'team')).rejects.toMatchObject({ code: SignalRErrorCode.BackplaneAckTimeout });
  });

  it('keeps each connection’s groups under its own key, readable from every node, with a TTL refreshed while it lives', async () => {
    await b.addToGroup(b1.connectionId, 'blue');
    await a.addToGroup(b1.connectionId, 'red');
    await c.addToGroup(c1.connectionId, 'green');
    expect(await a.groupsOf(b1.connectionId)).toEqual(['blue', 'red']);
    expect(await a.groupsOf(c1.connectionId)).toEqual(['green']);
    // Outlives its TTL while connected (each key refreshed on its own master)...
    await sleep(TTL_MS * 1.5);
    expect(await c.groupsOf(b1.connectionId)).toEqual(['blue', 'red']);
    // ...and a while after it ended (to resume elsewhere), then expires.
    await b.onDisconnected(b1);
    expect(await a.storedGroupsOf(b1.connectionId)).toEqual(['blue', 'red']);
    await sleep(TTL_MS + 200);
    expect(await a.groupsOf(b1.connectionId)).toEqual([]);
  });

  it('relays client results and their errors, rejects at once for a connection no node holds, and times out a silent client', async () => {
    await expect(a.invokeConnection(c1.connectionId, 'Add', [2, 3])).resolves.toBe(5);
    expect(await Promise.all([1, 2, 3].map((n) => b.invokeConnection(c1.connectionId, 'Add', [n, n])))).toEqual([2, 4, 6]);
    await expect(a.invokeConnection(c1.connectionId, 'Fail', [])).rejects.toMatchObject({
      code: SignalRErrorCode.ClientResultFailed,
      message: 'The client answered with an error: nope',
    });
    // Not found (no node listens on the connection's channel on any node of its shard), rather than timed out.
    await expect(a.invokeConnection('no-such-connection', 'Add', [1, 1])).rejects.toMatchObject({ code: SignalRErrorCode.ConnectionNotFound });
    await expect(a.invokeConnection(c1.connectionId, 'Silent', [])).rejects.toMatchObject({ code: SignalRErrorCode.ClientResultTimeout });
  });

  it('reports the cluster’s state with its health', async () => {
    await vi.waitFor(() => expect(a.health().cluster).toEqual({ state: 'ok', masters: 3, slotsServed: 16_384 }), { timeout: 8_000 });
    expect(a.health()).toMatchObject({ status: 'up', droppedMessages: 0, subscriptionGaps: 0 });
    const factory = redisLifetimeManager({ cluster: { nodes: cluster.startupNodes }, channelPrefix: prefix });
    const manager = factory(HUB_PATH);
    try {
      await vi.waitFor(() => expect(factory.health()).toMatchObject({ status: 'up', cluster: { state: 'ok' } }), { timeout: 8_000 });
      expect(backplaneHealthResult(factory.health(), 'backplane')).toMatchObject({
        backplane: { status: 'up', backplane: 'redis', droppedMessages: 0, subscriptionGaps: 0, cluster: { state: 'ok', masters: 3, slotsServed: 16_384 } },
      });
    } finally {
      await manager.dispose();
    }
  });
});
