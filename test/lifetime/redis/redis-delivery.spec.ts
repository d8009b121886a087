import { Logger } from '@nestjs/common';
import { afterAll, afterEach, beforeAll, beforeEach, expect, it } from 'vitest';
import type { RedisLifetimeManager } from '../../../src/lifetime/redis/index.js';
import { MessagePackHubProtocol } from '../../../src/protocol/messagepack-hub-protocol.js';
import { describeWithRedis, RedisServer } from '../../support/redis-server.js';
import { FakeConnection } from '../fake-connection.js';
import { connect, CountingProtocol, fence, startNodes } from './redis-nodes.js';

describeWithRedis('RedisLifetimeManager: sends across nodes', () => {
  let redis: RedisServer;
  let nodes: RedisLifetimeManager[];
  let a: RedisLifetimeManager;
  let b: RedisLifetimeManager;
  let c: RedisLifetimeManager;
  // a1 on A, b1 and b2 on B, c1 on C; alice has a connection on A and one on B.
  let a1: FakeConnection;
  let b1: FakeConnection;
  let b2: FakeConnection;
  let c1: FakeConnection;
  let all: FakeConnection[];

  beforeAll(async () => {
    Logger.overrideLogger(['error']);
    redis = await RedisServer.start();
  });
  afterAll(() => redis?.stop());

  beforeEach(async () => {
    nodes = await startNodes(redis.url, 3);
    [a, b, c] = nodes;
    a1 = await connect(a, new FakeConnection('alice'));
    b1 = await connect(b, new FakeConnection('alice'));
    b2 = await connect(b, new FakeConnection('bob'));
    c1 = await connect(c, new FakeConnection(undefined));
    all = [a1, b1, b2, c1];
  });
  afterEach(async () => {
    await Promise.all(nodes.map((node) => node.dispose()));
  });

  it('sends to all, once to every connection of every node', async () => {
    await a.sendAll('Hello', ['world', 1]);
    await fence(a, all);
    for (const connection of all) expect(connection.messages()).toEqual([{ target: 'Hello', args: ['world', 1] }]);
  });

  it('sends to all except the excluded connections, local and remote', async () => {
    await b.sendAll('Hi', [], [a1.connectionId, b2.connectionId]);
    await fence(b, all);
    expect(a1.targets()).toEqual([]);
    expect(b1.targets()).toEqual(['Hi']);
    expect(b2.targets()).toEqual([]);
    expect(c1.targets()).toEqual(['Hi']);
  });

  it('sends to one connection of another node, and to several, each once', async () => {
    await a.sendConnections([b1.connectionId], 'One', []);
    await a.sendConnections([a1.connectionId, b2.connectionId, c1.connectionId, b2.connectionId, 'nobody'], 'Several', []);
    await fence(a, all);
    expect(a1.targets()).toEqual(['Several']);
    expect(b1.targets()).toEqual(['One']);
    expect(b2.targets()).toEqual(['Several']);
    expect(c1.targets()).toEqual(['Several']);
  });

  it('sends to a group and to groups, once per member however many of the groups it is in', async () => {
    await a.addToGroup(a1.connectionId, 'red');
    await b.addToGroup(b1.connectionId, 'red');
    await b.addToGroup(b1.connectionId, 'blue');
    await b.addToGroup(b2.connectionId, 'blue');
    await c.addToGroup(c1.connectionId, 'green');

    await c.sendGroups(['red'], 'Red', []);
    await c.sendGroups(['red', 'blue', 'red'], 'RedOrBlue', []);
    await c.sendGroups(['nobody-here'], 'Nobody', []);
    await fence(c, all);
    expect(a1.targets()).toEqual(['Red', 'RedOrBlue']);
    expect(b1.targets()).toEqual(['Red', 'RedOrBlue']);
    expect(b2.targets()).toEqual(['RedOrBlue']);
    expect(c1.targets()).toEqual([]);
  });

  it('sends to a group except some of its members', async () => {
    for (const [node, connection] of [[a, a1], [b, b1], [b, b2], [c, c1]] as const) {
      await node.addToGroup(connection.connectionId, 'room');
    }
    await a.sendGroups(['room'], 'Others', [], [a1.connectionId, b1.connectionId]);
    await a.sendGroups(['room', 'other'], 'OthersOfTwo', [], [c1.connectionId]);
    await fence(a, all);
    expect(a1.targets()).toEqual(['OthersOfTwo']);
    expect(b1.targets()).toEqual(['OthersOfTwo']);
    expect(b2.targets()).toEqual(['Others', 'OthersOfTwo']);
    expect(c1.targets()).toEqual(['Others']);
  });

  it('stops sending to a group on a node once its last member there left', async () => {
    await b.addToGroup(b1.connectionId, 'red');
    await b.addToGroup(b2.connectionId, 'red');
    await b.removeFromGroup(b1.connectionId, 'red');
    await a.sendGroups(['red'], 'StillB2', []);
    await fence(a, all);
    await b.removeFromGroup(b2.connectionId, 'red');
    await a.sendGroups(['red'], 'NoOne', []);
    await fence(a, all);
    expect(b1.targets()).toEqual([]);
    expect(b2.targets()).toEqual(['StillB2']);
  });

  it('sends to a user on every node it is connected to, and to users, each connection once', async () => {
    await c.sendUsers(['alice'], 'ForAlice', []);
    await c.sendUsers(['alice', 'bob', 'alice', 'nobody'], 'ForBoth', []);
    await fence(c, all);
    expect(a1.targets()).toEqual(['ForAlice', 'ForBoth']);
    expect(b1.targets()).toEqual(['ForAlice', 'ForBoth']);
    expect(b2.targets()).toEqual(['ForBoth']);
    expect(c1.targets()).toEqual([]);
  });

  it('keeps connection ids, group names and user keys apart across nodes: a name reaches only what it names', async () => {
    // b2's id also names a group a1 is in and the user of a connection on C.
    const name = b2.connectionId;
    const user = await connect(c, new FakeConnection(name));
    await a.addToGroup(a1.connectionId, name);
    await c.sendConnections([name], 'ToConnection', []);
    await c.sendGroups([name], 'ToGroup', []);
    await c.sendUsers([name], 'ToUser', []);
    await fence(c, [...all, user]);
    expect([b2.targets(), a1.targets(), user.targets(), b1.targets(), c1.targets()]).toEqual([['ToConnection'], ['ToGroup'], ['ToUser'], [], []]);
  });

  it('stops sending to a connection once it disconnected', async () => {
    await b.addToGroup(b1.connectionId, 'red');
    await b.onDisconnected(b1);
    await a.sendConnections([b1.connectionId], 'Gone', []);
    await a.sendGroups(['red'], 'Gone', []);
    await a.sendUsers(['alice'], 'Alice', []);
    await fence(a, [a1, b2, c1]);
    expect(b1.messages()).toEqual([]);
    expect(a1.targets()).toEqual(['Alice']);
  });

  it('encodes a send once and serializes it once per protocol on each node', async () => {
    const json = new CountingProtocol();
    const messagepack = new CountingProtocol(new MessagePackHubProtocol());
    const onB = [
      await connect(b, new FakeConnection(undefined, json)),
      await connect(b, new FakeConnection(undefined, json)),
      await connect(b, new FakeConnection(undefined, messagepack)),
      await connect(b, new FakeConnection(undefined, messagepack)),
    ];
    await a.sendAll('Broadcast', [{ big: 'x'.repeat(1000) }]);
    await fence(a, onB);
    // One Broadcast and one fence each.
    expect(json.writes).toBe(2);
    expect(messagepack.writes).toBe(2);
    for (const connection of onB) expect(connection.targets()).toEqual(['Broadcast']);
  });

  it('carries arguments so that each protocol writes them as for a local connection', async () => {
    const jsonOnB = await connect(b, new FakeConnection());
    const packOnB = await connect(b, new FakeConnection(undefined, new MessagePackHubProtocol()));
    const when = new Date('2024-05-06T07:08:09.010Z');
    const money = { amount: 12.5, toJSON: () => '12.50 EUR' };
    const args = [
      null,
      true,
      -3,
      2 ** 40,
      1.5,
      'text ✓',
      [1, [2, [3]]],
      { nested: { list: ['a'], missing: undefined } },
      Uint8Array.of(1, 2, 255),
      when,
      money,
    ];
    await a.sendConnections([jsonOnB.connectionId, packOnB.connectionId], 'Values', args);
    await fence(a, [jsonOnB, packOnB]);

    const [jsonArgs] = jsonOnB.messages().map((message) => message.args);
    // As the JSON protocol writes them locally: bytes in base64, the date as ASP.NET Core writes it.
    expect(jsonArgs).toEqual([...JSON.parse(JSON.stringify(args.slice(0, 8))), 'AQL/', '2024-05-06T07:08:09.01Z', '12.50 EUR']);
    const [packArgs] = packOnB.messages().map((message) => message.args);
    expect(packArgs.slice(0, 7)).toEqual(args.slice(0, 7));
    expect(packArgs[7]).toEqual({ nested: { list: ['a'] } });
    expect(packArgs[8]).toEqual(Uint8Array.of(1, 2, 255));
    expect(packArgs[9]).toEqual(when);
    expect(packArgs[10]).toBe('12.50 EUR');
  });

  it('gives each hub path and channel prefix its own namespace', async () => {
    const [otherApp] = await startNodes(redis.url, 1);
    const elsewhere = await connect(otherApp, new FakeConnection('alice'));
    try {
      await a.sendAll('Mine', []);
      await a.sendUsers(['alice'], 'Mine', []);
      await fence(a, all);
      await fence(otherApp, [elsewhere]);
      expect(elsewhere.targets()).toEqual([]);
    } finally {
      await otherApp.dispose();
    }
  });
});
