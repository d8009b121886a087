import { Logger } from '@nestjs/common';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { redisLifetimeManager } from '../../../src/lifetime/redis/index.js';
import type { SignalRModuleOptions } from '../../../src/options/signalr-module-options.js';
import { describeWithRedis, RedisServer } from '../../support/redis-server.js';
import { FakeConnection } from '../fake-connection.js';
import { connect, fence, waitForHealth } from './redis-nodes.js';

describeWithRedis('redisLifetimeManager (the module option)', () => {
  let redis: RedisServer;

  beforeAll(async () => {
    Logger.overrideLogger(['error']);
    redis = await RedisServer.start();
  });
  afterAll(() => redis?.stop());

  it('refuses bad options when the module is configured', () => {
    expect(() => redisLifetimeManager({ channelPrefix: '' })).toThrow(RangeError);
    expect(() => redisLifetimeManager({ ackTimeoutMs: 0 })).toThrow(/ackTimeoutMs must be a positive integer/);
    expect(() => redisLifetimeManager({ clientResultTimeoutMs: 1.5 })).toThrow(RangeError);
    expect(() => redisLifetimeManager({ commandTimeoutMs: -1 })).toThrow(/commandTimeoutMs must be a positive integer/);
    expect(() => redisLifetimeManager({ maximumPendingPublishBytes: 0 })).toThrow(/maximumPendingPublishBytes must be a positive integer/);
  });

  it('creates a manager per hub path, each in its own namespace, and reports their health together', async () => {
    const prefix = `factory-${Math.random().toString(36).slice(2)}`;
    const nodeA = redisLifetimeManager({ url: redis.url, channelPrefix: prefix });
    const nodeB = redisLifetimeManager({ url: redis.url, channelPrefix: prefix });
    const options: SignalRModuleOptions = { lifetimeManager: nodeA };
    expect(options.lifetimeManager).toBe(nodeA);
    expect(nodeA.health()).toMatchObject({ status: 'up', hubs: {} });

    const chatA = nodeA('/hubs/chat');
    const newsA = nodeA('/hubs/news');
    const chatB = nodeB('/hubs/chat');
    const newsB = nodeB('/hubs/news');
    const managers = [chatA, newsA, chatB, newsB];
    try {
      expect(nodeA.managerFor('/hubs/chat')).toBe(chatA);
      expect(nodeA.managerFor('/hubs/other')).toBeUndefined();
      await waitForHealth(managers, 'up');
      expect(nodeA.health()).toMatchObject({
        status: 'up',
        hubs: { '/hubs/chat': { status: 'up' }, '/hubs/news': { status: 'up' } },
      });

      const inChat = await connect(chatB, new FakeConnection('alice'));
      const inNews = await connect(newsB, new FakeConnection('alice'));
      await chatA.sendAll('Chat', []);
      await chatA.sendUsers(['alice'], 'ChatUser', []);
      await newsA.sendAll('News', []);
      await fence(chatA, [inChat]);
      await fence(newsA, [inNews]);
      expect(inChat.targets()).toEqual(['Chat', 'ChatUser']);
      expect(inNews.targets()).toEqual(['News']);

      await newsA.dispose();
      expect(nodeA.health()).toMatchObject({ status: 'down', hubs: { '/hubs/chat': { status: 'up' }, '/hubs/news': { status: 'down' } } });
    } finally {
      await Promise.all(managers.map((manager) => manager.dispose()));
    }
  });
});
