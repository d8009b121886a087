import { Logger } from '@nestjs/common';
import { afterAll, afterEach, beforeAll, beforeEach, expect, it } from 'vitest';
import { RedisLifetimeManager } from '../../../src/lifetime/redis/index.js';
import { SignalRErrorCode } from '../../../src/errors/signalr-error-codes.js';
import { CapturingLogger } from '../../support/capturing-logger.js';
import { describeWithRedis, RedisServer } from '../../support/redis-server.js';
import { FakeConnection } from '../fake-connection.js';
import { connect, fence, HUB_PATH, startNodes, waitForHealth } from './redis-nodes.js';

describeWithRedis('RedisLifetimeManager: Redis outages', () => {
  let redis: RedisServer;
  let logs: CapturingLogger;
  let nodes: RedisLifetimeManager[] = [];

  const count = (pattern: RegExp) => logs.lines.filter((line) => pattern.test(line)).length;

  beforeAll(async () => {
    redis = await RedisServer.start();
  });
  afterAll(() => redis?.stop());
  beforeEach(() => {
    logs = new CapturingLogger();
    Logger.overrideLogger(logs);
  });
  afterEach(async () => {
    await Promise.all(nodes.map((node) => node.dispose()));
    nodes = [];
    await redis.start().catch(() => undefined); // running again for the next test
  });

  it('keeps delivering locally while Redis is down, and resubscribes everything when it is back', async () => {
    nodes = await startNodes(redis.url, 2);
    const [a, b] = nodes;
    const a1 = await connect(a, new FakeConnection('alice'));
    const b1 = await connect(b, new FakeConnection('alice'));
    await b.addToGroup(b1.connectionId, 'before');
    await a.addToGroup(a1.connectionId, 'before');
    const upSince = a.health().since;

    await redis.kill();
    await waitForHealth(nodes, 'down');
    expect(a.health().since).toBeGreaterThanOrEqual(upSince);

    // Local delivery goes on; nothing throws; what was for B is dropped, not queued.
    await a.sendAll('All', []);
    await a.sendGroups(['before'], 'Group', []);
    await a.sendUsers(['alice'], 'User', []);
    await a.sendConnections([a1.connectionId, b1.connectionId], 'Connections', []);
    for (let i = 0; i < 100; i++) await a.sendGroups(['before'], 'Burst', [i]);
    expect(a1.targets().slice(0, 4)).toEqual(['All', 'Group', 'User', 'Connections']);
    expect(a1.targets()).toHaveLength(104);
    expect(b1.targets()).toEqual([]);

    // What needs another node fails fast and clearly; a node still answers for its own.
    await expect(a.addToGroup(b1.connectionId, 'x')).rejects.toMatchObject({ code: SignalRErrorCode.BackplaneUnavailable });
    await expect(a.invokeConnection(b1.connectionId, 'Ask', [])).rejects.toMatchObject({
      code: SignalRErrorCode.BackplaneUnavailable,
    });
    await expect(a.groupsOf(b1.connectionId)).rejects.toMatchObject({ code: SignalRErrorCode.BackplaneUnavailable });
    expect(await b.groupsOf(b1.connectionId)).toEqual(['before']);

    // Changes during the outage: a new connection, a group joined.
    const b2 = await connect(b, new FakeConnection());
    await b.addToGroup(b1.connectionId, 'during');

    // Several reconnection attempts fail meanwhile; the outage is logged once per node.
    await new Promise((resolve) => setTimeout(resolve, 700));
    expect(count(/backplane of hub .* is unreachable/)).toBe(2);
    expect(count(/Messages for other nodes of hub .* are dropped/)).toBeLessThanOrEqual(2);
    expect(count(/recovered/)).toBe(0);

    await redis.start();
    await waitForHealth(nodes, 'up');
    expect(count(/recovered after \d+ ms/)).toBe(2);
    expect(count(/backplane of hub .* is unreachable/)).toBe(2);

    // Channels subscribed before and during the outage both work again, both ways.
    await a.sendGroups(['before'], 'Before', []);
    await a.sendGroups(['during'], 'During', []);
    await a.sendConnections([b2.connectionId], 'New', []);
    await a.sendAll('Everyone', []);
    await b.sendUsers(['alice'], 'FromB', []);
    await fence(a, [a1, b1, b2]);
    await fence(b, [a1, b1, b2]);
    // Each once; messages of different senders may interleave either way.
    expect(b1.targets().toSorted()).toEqual(['Before', 'During', 'Everyone', 'FromB']);
    expect(b2.targets()).toEqual(['New', 'Everyone']);
    expect(a1.targets().slice(104).toSorted()).toEqual(['Before', 'Everyone', 'FromB']);

    // The restarted Redis was empty: the group sets were written again.
    expect(await a.groupsOf(b1.connectionId)).toEqual(['before', 'during']);
    await a.addToGroup(b2.connectionId, 'after');
    expect(await a.groupsOf(b2.connectionId)).toEqual(['after']);
    expect(logs.text()).not.toContain(b1.connectionId); // logs never name connections
  });

  it('starts without Redis, serves its own connections, and joins the others when Redis comes', async () => {
    await redis.kill();
    const a = new RedisLifetimeManager(HUB_PATH, { url: redis.url, channelPrefix: 'late' });
    nodes = [a];
    const a1 = await connect(a, new FakeConnection());
    await a.addToGroup(a1.connectionId, 'g');
    await a.sendGroups(['g'], 'Local', []);
    expect(a1.targets()).toEqual(['Local']);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(a.health().status).toBe('down');
    expect(count(/backplane of hub .* is unreachable \(.*ECONNREFUSED.*\)/)).toBe(1);

    await redis.start();
    const [b] = await startNodes(redis.url, 1, { channelPrefix: 'late' });
    nodes.push(b);
    await waitForHealth([a], 'up');
    await b.sendGroups(['g'], 'Remote', []);
    await fence(b, [a1]);
    expect(a1.targets()).toEqual(['Local', 'Remote']);
  });
});
