import { Logger } from '@nestjs/common';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach, expect, it, vi } from 'vitest';
import type { RedisLifetimeManager } from '../../../src/lifetime/redis/index.js';
import { RedisChannels } from '../../../src/lifetime/redis/redis-channels.js';
import { SignalRError, SignalRErrorCode } from '../../../src/errors/signalr-error-codes.js';
import { describeWithRedis, RedisServer } from '../../support/redis-server.js';
import { FakeConnection } from '../fake-connection.js';
import { connect, fence, HUB_PATH, startNodes } from './redis-nodes.js';

const TTL_MS = 400;

describeWithRedis('RedisLifetimeManager: groups and client results across nodes', () => {
  let redis: RedisServer;
  let raw: Redis;
  let prefix: string;
  let nodes: RedisLifetimeManager[];
  let a: RedisLifetimeManager;
  let b: RedisLifetimeManager;
  let a1: FakeConnection;
  let b1: FakeConnection;

  const clients = async () => String(await raw.client('LIST')).trim().split('\n').length;
  const listeners = async (channel: string) => Number(((await raw.pubsub('NUMSUB', channel)) as unknown[])[1]);

  beforeAll(async () => {
    Logger.overrideLogger(['error']);
    redis = await RedisServer.start();
    raw = new Redis(redis.url);
  });
  afterAll(async () => {
    raw?.disconnect();
    await redis?.stop();
  });

  beforeEach(async () => {
    prefix = `groups-${Math.random().toString(36).slice(2)}`;
    nodes = await startNodes(redis.url, 2, {
      channelPrefix: prefix,
      ackTimeoutMs: 300,
      clientResultTimeoutMs: 300,
      connectionGroupsTtlMs: TTL_MS,
    });
    [a, b] = nodes;
    a1 = await connect(a, new FakeConnection());
    b1 = await connect(
      b,
      new FakeConnection(undefined, undefined, async (method, args) => {
        if (method === 'Add') return (args[0] as number) + (args[1] as number);
        if (method === 'Fail') throw new SignalRError(SignalRErrorCode.ClientResultFailed, 'Error: nope');
        if (method === 'Closed') throw new SignalRError(SignalRErrorCode.ConnectionClosed, 'The connection closed before the client answered.');
        return new Promise(() => {}); // never answers
      }),
    );
  });
  afterEach(async () => {
    await Promise.all(nodes.map((node) => node.dispose()));
  });

  it('adds a connection of another node to a group once that node acknowledged it, and removes it', async () => {
    await a.addToGroup(b1.connectionId, 'team');
    // Acknowledged means applied: B subscribed the group before answering.
    await a.sendGroups(['team'], 'Joined', []);
    await fence(a, [a1, b1]);
    expect(b1.targets()).toEqual(['Joined']);
    expect(await a.groupsOf(b1.connectionId)).toEqual(['team']);

    await a.removeFromGroup(b1.connectionId, 'team');
    await a.sendGroups(['team'], 'Left', []);
    await fence(a, [a1, b1]);
    expect(b1.targets()).toEqual(['Joined']);
    expect(await a.groupsOf(b1.connectionId)).toEqual([]);
  });

  it('rejects a group change for a connection no node holds once the ack is overdue', async () => {
    const started = Date.now();
    const error = await a.addToGroup('no-such-connection', 'team').catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(SignalRError);
    expect((error as SignalRError).code).toBe(SignalRErrorCode.BackplaneAckTimeout);
    expect((error as Error).message).toMatch(/No server acknowledged the request to add connection .* to group 'team' within 300 ms/);
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    await expect(a.removeFromGroup('no-such-connection', 'team')).rejects.toMatchObject({
      code: SignalRErrorCode.BackplaneAckTimeout,
    });
  });

  it('refuses, on the node holding the connection, a join past its group limit, and the asking node rejects with it', async () => {
    b1.maximumGroups = 2;
    await a.addToGroup(b1.connectionId, 'one');
    await b.addToGroup(b1.connectionId, 'two');
    await a.addToGroup(b1.connectionId, 'one'); // already in it: no new group
    const refused = { code: SignalRErrorCode.TooManyGroups, message: 'A connection may be in at most 2 groups. (SIGNALR_TOO_MANY_GROUPS)' };
    // Refused at once by the node holding it, not timed out waiting for an ack.
    await expect(a.addToGroup(b1.connectionId, 'three')).rejects.toMatchObject(refused);
    await expect(b.addToGroup(b1.connectionId, 'three')).rejects.toMatchObject(refused);
    expect(await a.groupsOf(b1.connectionId)).toEqual(['one', 'two']);
    await a.removeFromGroup(b1.connectionId, 'one');
    await a.addToGroup(b1.connectionId, 'three');
    expect(await a.groupsOf(b1.connectionId)).toEqual(['three', 'two']);
  });

  it('sends Redis one group per join and leave, however many groups the connection is in', async () => {
    const key = new RedisChannels(prefix, HUB_PATH).connectionGroupsKey(b1.connectionId);
    for (let i = 0; i < 50; i++) await b.addToGroup(b1.connectionId, `g${i}`);
    const monitor = await raw.monitor();
    const seen: string[][] = [];
    monitor.on('monitor', (_time: string, args: string[]) => seen.push(args));
    try {
      await b.addToGroup(b1.connectionId, 'g50');
      await b.removeFromGroup(b1.connectionId, 'g0');
      // MONITOR shows commands in the order Redis ran them: once this shows, the changes have.
      await raw.echo('changes done');
      await vi.waitFor(() => expect(seen.some((args) => args[0] === 'echo')).toBe(true), { timeout: 5_000, interval: 5 });
    } finally {
      monitor.disconnect();
    }
    expect(seen.filter((args) => args.includes(key))).toEqual([
      ['sadd', key, 'g50'],
      ['pexpire', key, String(TTL_MS)],
      ['srem', key, 'g0'],
      ['pexpire', key, String(TTL_MS)],
    ]);
    expect(await a.groupsOf(b1.connectionId)).toHaveLength(50);
  });

  it('listens on a group’s and a user’s channel while this node has members there, and lets go after the last', async () => {
    const channels = new RedisChannels(prefix, HUB_PATH);
    const carol1 = await connect(a, new FakeConnection('carol'));
    const carol2 = await connect(a, new FakeConnection('carol'));
    await a.addToGroup(carol1.connectionId, 'g');
    await a.addToGroup(carol2.connectionId, 'g');
    expect(await listeners(channels.group('g'))).toBe(1);
    expect(await listeners(channels.user('carol'))).toBe(1);

    await a.removeFromGroup(carol1.connectionId, 'g');
    await a.onDisconnected(carol1);
    // Unsubscribing is not awaited: a later command on the same connection shows it was done.
    await a.addToGroup(a1.connectionId, 'marker');
    expect(await listeners(channels.group('g'))).toBe(1);
    expect(await listeners(channels.user('carol'))).toBe(1);
    expect(await listeners(channels.connection(carol1.connectionId))).toBe(0);

    await a.onDisconnected(carol2);
    await a.removeFromGroup(a1.connectionId, 'marker');
    await a.addToGroup(a1.connectionId, 'marker again');
    expect(await listeners(channels.group('g'))).toBe(0);
    expect(await listeners(channels.user('carol'))).toBe(0);
    expect(await listeners(channels.group('marker'))).toBe(0);
  });

  it('replaces the stored groups a connection had on another node with its first group on the new one', async () => {
    await b.addToGroup(b1.connectionId, 'kept');
    await b.addToGroup(b1.connectionId, 'left behind');
    await b.onDisconnected(b1);
    const moved = await connect(a, Object.assign(new FakeConnection(), { connectionId: b1.connectionId }));
    await a.addToGroup(moved.connectionId, 'kept');
    expect(await b.groupsOf(b1.connectionId)).toEqual(['kept']);
  });

  it('keeps group memberships in Redis, with a TTL refreshed while the connection lives', async () => {
    await b.addToGroup(b1.connectionId, 'blue');
    await a.addToGroup(b1.connectionId, 'red');
    await a.addToGroup(a1.connectionId, 'red');
    expect(await a.groupsOf(b1.connectionId)).toEqual(['blue', 'red']);
    expect(await b.groupsOf(a1.connectionId)).toEqual(['red']);
    expect(await a.groupsOf('unknown')).toEqual([]);

    const key = new RedisChannels(prefix, HUB_PATH).connectionGroupsKey(b1.connectionId);
    expect(key).toBe(`${prefix}:${HUB_PATH}:conn-groups:${b1.connectionId}`);
    const ttl = await raw.pttl(key);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(TTL_MS);

    // Outlives its TTL while connected...
    await new Promise((resolve) => setTimeout(resolve, TTL_MS * 1.5));
    expect(await a.groupsOf(b1.connectionId)).toEqual(['blue', 'red']);
    // ...and a while after it ended (to resume elsewhere), then expires.
    await b.onDisconnected(b1);
    expect(await a.groupsOf(b1.connectionId)).toEqual(['blue', 'red']);
    await new Promise((resolve) => setTimeout(resolve, TTL_MS + 200));
    expect(await a.groupsOf(b1.connectionId)).toEqual([]);
  });

  it('relays a client result from a connection of another node', async () => {
    await expect(a.invokeConnection(b1.connectionId, 'Add', [2, 3])).resolves.toBe(5);
    const results = await Promise.all([1, 2, 3].map((n) => a.invokeConnection(b1.connectionId, 'Add', [n, n])));
    expect(results).toEqual([2, 4, 6]);
  });

  it('relays a client error with its code', async () => {
    const error = await a.invokeConnection(b1.connectionId, 'Fail', []).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(SignalRError);
    expect(error).toMatchObject({
      code: SignalRErrorCode.ClientResultFailed,
      message: 'Error: nope',
    });
    await expect(a.invokeConnection(b1.connectionId, 'Closed', [])).rejects.toMatchObject({
      code: SignalRErrorCode.ConnectionClosed,
    });
  });

  it('times out a client result the other node never relays', async () => {
    const started = Date.now();
    await expect(a.invokeConnection(b1.connectionId, 'Silent', [])).rejects.toMatchObject({
      code: SignalRErrorCode.ClientResultTimeout,
      message: "The client did not answer 'Silent' within 300 ms. (SIGNALR_CLIENT_RESULT_TIMEOUT)",
    });
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
  });

  it('rejects at once a client result for a connection no node holds', async () => {
    // Not found (no node subscribed the connection's channel), rather than timed out.
    await expect(a.invokeConnection('no-such-connection', 'Add', [1, 1])).rejects.toMatchObject({
      code: SignalRErrorCode.ConnectionNotFound,
    });
  });

  it('asks a connection of its own node directly', async () => {
    const local = await connect(a, new FakeConnection(undefined, undefined, async () => 'local answer'));
    await expect(a.invokeConnection(local.connectionId, 'Anything', [])).resolves.toBe('local answer');
  });

  it('quits both of its Redis connections when disposed, and rejects what still waits', async () => {
    const before = await clients();
    const [extra] = await startNodes(redis.url, 1, { channelPrefix: prefix, clientResultTimeoutMs: 5_000 });
    expect(await clients()).toBe(before + 2);
    const pending = extra.invokeConnection(b1.connectionId, 'Silent', []).catch((caught: unknown) => caught);
    await new Promise((resolve) => setTimeout(resolve, 50));
    await extra.dispose();
    expect(await pending).toMatchObject({ code: SignalRErrorCode.BackplaneDisposed });
    expect(await clients()).toBe(before);
    expect(extra.health().status).toBe('down');
  });
});
