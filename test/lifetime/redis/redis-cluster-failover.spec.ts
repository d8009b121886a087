import { randomUUID } from 'node:crypto';
import { Logger } from '@nestjs/common';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach, expect, it, vi } from 'vitest';
import { SignalRErrorCode } from '../../../src/errors/signalr-error-codes.js';
import { clusterSlot } from '../../../src/lifetime/redis/cluster-slot.js';
import type { RedisLifetimeManager } from '../../../src/lifetime/redis/index.js';
import { RedisChannels } from '../../../src/lifetime/redis/redis-channels.js';
import { CapturingLogger } from '../../support/capturing-logger.js';
import { RedisCluster, type ClusterNodeView } from '../../support/redis-cluster-process.js';
import { describeWithRedis } from '../../support/redis-server.js';
import { sleep } from '../../support/wait.js';
import { FakeConnection } from '../fake-connection.js';
import { connect, fence, fenceBy, HUB_PATH, startNodes, waitForHealth } from './redis-nodes.js';

function* candidates(stem: string) {
  for (let index = 0; ; index++) yield `${stem}-${index}`;
}

function* connectionIds() {
  for (;;) yield randomUUID();
}

describeWithRedis('RedisLifetimeManager on a Redis Cluster of three masters with a replica each: failovers', () => {
  let cluster: RedisCluster;
  let logs: CapturingLogger;
  let channels: RedisChannels;
  let nodes: RedisLifetimeManager[];
  let a: RedisLifetimeManager;
  let b: RedisLifetimeManager;
  /** The master that fails over in each test, and what lives on it. */
  let doomed: ClusterNodeView;
  let group: string;
  let user: string;
  // On B: member of the group (added from A, acknowledged), the user's connection, and one whose own channel is the doomed master's.
  let member: FakeConnection;
  let ofUser: FakeConnection;
  let onDoomed: FakeConnection;

  /** The first of `names` whose channel `channelOf(name)` the doomed master serves. */
  const servedByDoomed = (names: Iterable<string>, channelOf: (name: string) => string) => {
    for (const name of names) {
      const slot = clusterSlot(channelOf(name));
      if (doomed.slots.some(([from, to]) => slot >= from && slot <= to)) return name;
    }
    throw new Error('no name lands on the doomed master');
  };

  beforeAll(async () => {
    cluster = await RedisCluster.start({ masters: 3, replicasPerMaster: 1 });
  });
  afterAll(() => cluster?.stop());

  beforeEach(async () => {
    logs = new CapturingLogger();
    Logger.overrideLogger(logs);
    const prefix = `failover-${Math.random().toString(36).slice(2)}`;
    channels = new RedisChannels(prefix, HUB_PATH);
    [doomed] = (await cluster.nodes()).filter((node) => node.master && node.slots.length > 0);
    group = servedByDoomed(candidates('room'), (name) => channels.group(name));
    user = servedByDoomed(candidates('user'), (name) => channels.user(name));
    const connectionId = servedByDoomed(connectionIds(), (id) => channels.connection(id));
    nodes = await startNodes(cluster, 2, { channelPrefix: prefix, clientResultTimeoutMs: 2_000 });
    [a, b] = nodes;
    member = await connect(b, new FakeConnection());
    ofUser = await connect(b, new FakeConnection(user));
    onDoomed = await connect(b, Object.assign(new FakeConnection(undefined, undefined, async () => 'still here'), { connectionId }));
    await a.addToGroup(member.connectionId, group);
  });
  afterEach(async () => {
    await Promise.all(nodes.map((node) => node.dispose()));
  });

  /** Sends numbered messages to the group from A every few milliseconds until stopped; returns what it sent. */
  const keepSending = () => {
    const sent: number[] = [];
    const stop = new AbortController();
    const done = (async () => {
      for (let index = 0; !stop.signal.aborted; index++) {
        await a.sendGroups([group], 'Tick', [index]);
        sent.push(index);
        await sleep(5);
      }
    })();
    return async () => {
      stop.abort();
      await done;
      return sent;
    };
  };

  /** Every route across nodes works: the group, the user, a connection and all, group commands and client results. */
  const everyRouteWorks = async () => {
    await a.sendGroups([group], 'Group', []);
    await a.sendUsers([user], 'User', []);
    await a.sendConnections([onDoomed.connectionId], 'Connection', []);
    await fenceBy((target, args) => a.sendGroups([group], target, args), [member]);
    await fenceBy((target, args) => a.sendUsers([user], target, args), [ofUser]);
    await fenceBy((target, args) => a.sendConnections([onDoomed.connectionId], target, args), [onDoomed]);
    await fence(a, [member, ofUser, onDoomed]);
    expect(member.targets().filter((target) => target !== 'Tick')).toEqual(['Group']);
    expect(ofUser.targets()).toEqual(['User']);
    expect(onDoomed.targets()).toEqual(['Connection']);
    await expect(a.invokeConnection(onDoomed.connectionId, 'Ask', [])).resolves.toBe('still here');
    await a.addToGroup(onDoomed.connectionId, 'after');
    expect(await a.groupsOf(onDoomed.connectionId)).toContain('after');
  };

  /** What B did not receive of what A sent: none, or the loss was counted and logged on one side. */
  const expectNoSilentLoss = (sent: number[]) => {
    const received = new Set(member.messages().filter((message) => message.target === 'Tick').map((message) => message.args[0] as number));
    const missed = sent.filter((index) => !received.has(index));
    const reported = a.health().droppedMessages + b.health().subscriptionGaps;
    if (missed.length > 0) {
      expect(reported).toBeGreaterThan(0);
      expect(logs.text()).toMatch(/Could not publish to Redis|Messages for other nodes .* are dropped|Redis Cluster subscriptions of hub .* broke/);
    }
    return { missed, reported };
  };

  it('survives a manual failover (CLUSTER FAILOVER) of the master serving a group, a user and a connection', async () => {
    const stop = keepSending();
    await sleep(100);
    const [replica] = (await cluster.nodes()).filter((node) => node.masterId === doomed.id);
    await cluster.failover(replica.port);
    await sleep(200);
    const sent = await stop();
    await waitForHealth(nodes, 'up');

    // The group joined before (acknowledged) is still joined, on B and in Redis.
    expect(await a.groupsOf(member.connectionId)).toEqual([group]);
    expectNoSilentLoss(sent);
    await everyRouteWorks();
  });

  it('survives a master that crashes: health goes down, its replica takes over, and health comes back', async () => {
    const health: string[] = [];
    const watching = setInterval(() => health.push(b.health().status), 5);
    try {
      const stop = keepSending();
      await sleep(100);
      await cluster.crash(doomed.port);
      const sent = await stop();
      await waitForHealth(nodes, 'up');
      expect(health).toContain('down');

      expect(await a.groupsOf(member.connectionId)).toEqual([group]);
      const { missed, reported } = expectNoSilentLoss(sent);
      // B lost its subscriber connection to that master: a gap, logged, whatever was missed.
      expect(b.health().subscriptionGaps).toBeGreaterThan(0);
      expect(reported).toBeGreaterThanOrEqual(missed.length > 0 ? 1 : 0);
      expect(logs.text()).toMatch(/Redis Cluster subscriptions of hub \/hubs\/test broke \(127\.0\.0\.1:\d+ lost its connection with \d+ channels\)/);
      await everyRouteWorks();
    } finally {
      clearInterval(watching);
      await cluster.server(doomed.port).start(); // back, as a replica
      await cluster.whole();
    }
  });

  it('finds a connection whose node listens through a replica of its shard, which SPUBLISH does not count', async () => {
    const ghost = servedByDoomed(candidates('ghost'), (id) => channels.connection(id));
    const shard = await cluster.shardOf(channels.connection(ghost));
    const listener = new Redis(shard.replicas[0].port, '127.0.0.1');
    try {
      await listener.ssubscribe(channels.connection(ghost));
      expect(await cluster.on((node) => node.spublish(channels.connection(ghost), 'probe'), shard.master.port)).toBe(0);
      // Someone listens, so no "not found": the invocation waits for an answer, which never comes.
      await expect(a.invokeConnection(ghost, 'Ask', [])).rejects.toMatchObject({ code: SignalRErrorCode.ClientResultTimeout });
    } finally {
      listener.disconnect();
    }
    await expect(a.invokeConnection(ghost, 'Ask', [])).rejects.toMatchObject({ code: SignalRErrorCode.ConnectionNotFound });
  });

  it('comes back from a cluster that restarted empty: subscriptions again, memberships written again', async () => {
    await b.addToGroup(onDoomed.connectionId, 'kept');
    await Promise.all(cluster.servers.map((server) => server.kill()));
    await waitForHealth(nodes, 'down');
    await Promise.all(cluster.servers.map((server) => server.start()));
    await cluster.settled();
    await waitForHealth(nodes, 'up');
    // Rewritten once the backplane is up again, each connection's set on its own shard.
    await vi.waitFor(
      async () => {
        expect(await a.groupsOf(onDoomed.connectionId)).toEqual(['kept']);
        expect(await a.groupsOf(member.connectionId)).toEqual([group]);
      },
      { timeout: 8_000, interval: 50 },
    );
    expect(b.health().subscriptionGaps).toBeGreaterThan(0);
    await everyRouteWorks();
  });
});
