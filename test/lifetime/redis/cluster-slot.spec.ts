import { afterAll, beforeAll, expect, it } from 'vitest';
import { clusterSlot } from '../../../src/lifetime/redis/cluster-slot.js';
import { RedisCluster } from '../../support/redis-cluster-process.js';
import { describeWithRedis } from '../../support/redis-server.js';

describeWithRedis('clusterSlot', () => {
  let cluster: RedisCluster;

  beforeAll(async () => {
    cluster = await RedisCluster.start({ masters: 1 });
  });
  afterAll(() => cluster?.stop());

  it('places names, hash tags and UTF-8 included, in the slot Redis places them (CLUSTER KEYSLOT)', async () => {
    const names = [
      '',
      'a',
      '123456789',
      'nestjs-signalr:/hubs/chat:all',
      'nestjs-signalr:/hubs/chat:group:room 1',
      'nestjs-signalr:/hubs/chat:connection:3q2-7wEAAAB4y1Lz_Q',
      'grüße ✓ 日本',
      '{user1000}.following',
      'foo{}{bar}',
      'foo{{bar}}zap',
      'foo{bar}{zap}',
      '}{x}',
      '{',
      'a{b',
    ];
    const expected = await cluster.on((node) => Promise.all(names.map((name) => node.cluster('KEYSLOT', name))));
    expect(names.map(clusterSlot)).toEqual(expected.map(Number));
    // A tag names the slot: everything with the same tag shares it.
    expect(clusterSlot('{room}:a')).toBe(clusterSlot('room'));
  });
});
