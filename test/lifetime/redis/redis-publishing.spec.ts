import { Logger } from '@nestjs/common';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import type { RedisLifetimeManager } from '../../../src/lifetime/redis/index.js';
import { describeWithRedis, RedisServer } from '../../support/redis-server.js';
import { sleep } from '../../support/wait.js';
import { FakeConnection } from '../fake-connection.js';
import { connect, fence, startNodes } from './redis-nodes.js';

const FILLER = 'x'.repeat(1000);

describeWithRedis('RedisLifetimeManager: sends published without waiting for Redis', () => {
  let redis: RedisServer;
  let nodes: RedisLifetimeManager[] = [];

  beforeAll(async () => {
    Logger.overrideLogger(['error']);
    redis = await RedisServer.start();
  });
  afterAll(() => redis?.stop());
  afterEach(async () => {
    redis.resume();
    await Promise.all(nodes.map((node) => node.dispose()));
    nodes = [];
  });

  it('resolves a send once this node’s connections have it, until too many bytes await Redis; then a send waits for its own answer', async () => {
    // Each send publishes a little over 1,000 bytes: two fit under the limit, a third does not.
    // Redis never times out here, so a send that waited for it would wait for the resume.
    nodes = await startNodes(redis.url, 2, { maximumPendingPublishBytes: 2_500, commandTimeoutMs: 60_000 });
    const [a, b] = nodes;
    const a1 = await connect(a, new FakeConnection());
    const b1 = await connect(b, new FakeConnection());
    await a.addToGroup(a1.connectionId, 'room');
    await b.addToGroup(b1.connectionId, 'room');

    redis.pause();
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

    redis.resume();
    await third;
    await a.sendGroups(['room'], 'Fourth', [FILLER]);
    await fence(a, [a1, b1]);
    expect(b1.targets()).toEqual(['First', 'Second', 'Third', 'Fourth']);
  });

  it('brings a burst of sends to every node in the order sent, each once', async () => {
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
