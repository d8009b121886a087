import { Logger } from '@nestjs/common';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import type { RedisLifetimeManager } from '../../../src/lifetime/redis/index.js';
import { RedisChannels } from '../../../src/lifetime/redis/redis-channels.js';
import { RedisCluster } from '../../support/redis-cluster-process.js';
import { describeWithRedis, RedisServer } from '../../support/redis-server.js';
import { sleep } from '../../support/wait.js';
import { FakeConnection } from '../fake-connection.js';
import { connect, fence, fenceBy, HUB_PATH, startNodes } from './redis-nodes.js';

const FILLER = 'x'.repeat(1000);

describeWithRedis('RedisLifetimeManager: sends published without waiting for Redis', () => {
  let redis: RedisServer;
  let cluster: RedisCluster;
  let nodes: RedisLifetimeManager[] = [];
  let stalled: RedisServer | undefined;

  beforeAll(async () => {
    Logger.overrideLogger(['error']);
    [redis, cluster] = await Promise.all([RedisServer.start(), RedisCluster.start({ masters: 3 })]);
  });
  afterAll(() => Promise.all([redis?.stop(), cluster?.stop()]));
  afterEach(async () => {
    stalled?.resume();
    await Promise.all(nodes.map((node) => node.dispose()));
    nodes = [];
  });

  /** Where the nodes run, and the redis-server that carries a channel's messages. */
  const BACKPLANES = [
    { backplane: 'one Redis', on: () => redis.url, carrying: async () => redis },
    { backplane: 'a Redis Cluster', on: () => cluster, carrying: async (channel: string) => cluster.server((await cluster.shardOf(channel)).master.port) },
  ];

  it.each(BACKPLANES)('resolves a send once this node’s connections have it, until too many bytes await Redis; then a send waits for its own answer: $backplane', async ({ on, carrying }) => {
    // Each send publishes a little over 1,000 bytes: two fit under the limit, a third does not.
    // Redis never times out here, so a send that waited for it would wait for the resume.
    const channelPrefix = `publishing-${Math.random().toString(36).slice(2)}`;
    nodes = await startNodes(on(), 2, { channelPrefix, maximumPendingPublishBytes: 2_500, commandTimeoutMs: 60_000 });
    const [a, b] = nodes;
    const a1 = await connect(a, new FakeConnection());
    const b1 = await connect(b, new FakeConnection());
    await a.addToGroup(a1.connectionId, 'room');
    await b.addToGroup(b1.connectionId, 'room');

    // On a cluster, the master of the group's channel stops answering; the other shards do not matter here.
    stalled = await carrying(new RedisChannels(channelPrefix, HUB_PATH).group('room'));
    stalled.pause();
    await a.sendGroups(['room'], 'First', [FILLER]);
    await a.sendGroups(['room'], 'Second', [FILLER]);
    let thirdResolved = false;
    const third = a.sendGroups(['room'], 'Third', [FILLER]).then(() => {
      thirdResolved = true;
    });
    expect(a1.targets()).toEqual(['First', 'Second', 'Third']);
    await sleep(100);
    expect(thirdResolved).toBe(false); // Redis is stopped: it cannot have answered
    expect(b1.targets()).toEqual([]);

    stalled.resume();
    await third;
    await a.sendGroups(['room'], 'Fourth', [FILLER]);
    await fenceBy((target, args) => a.sendGroups(['room'], target, args), [a1, b1]);
    expect(b1.targets()).toEqual(['First', 'Second', 'Third', 'Fourth']);
  });

  it('brings a burst of sends to every node in the order sent, each once, across channels on one Redis', async () => {
    nodes = await startNodes(redis.url, 2);
    const [a, b] = nodes;
    const a1 = await connect(a, new FakeConnection('alice'));
    const b1 = await connect(b, new FakeConnection('alice'));
    const sent = Array.from({ length: 500 }, (_, index) => index);
    for (const index of sent) {
      if (index % 2 === 0) await a.sendUsers(['alice'], 'Burst', [index]);
      else await a.sendAll('Burst', [index]);
    }
    await fence(a, [a1, b1]);
    for (const connection of [a1, b1]) expect(connection.messages().map((message) => message.args[0])).toEqual(sent);
  });
});
