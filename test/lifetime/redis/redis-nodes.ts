import { randomUUID } from 'node:crypto';
import { expect, vi } from 'vitest';
import { RedisLifetimeManager, type RedisLifetimeManagerOptions } from '../../../src/lifetime/redis/index.js';
import type { HubMessage } from '../../../src/protocol/hub-message.js';
import type { HubProtocol } from '../../../src/protocol/hub-protocol.js';
import { JsonHubProtocol } from '../../../src/protocol/json-hub-protocol.js';
import type { RedisCluster } from '../../support/redis-cluster-process.js';
import { FakeConnection, FENCE } from '../fake-connection.js';

export const HUB_PATH = '/hubs/test';

/** A protocol that counts how often it serializes: once per message and node is the promise. */
export class CountingProtocol implements HubProtocol {
  writes = 0;
  constructor(private readonly inner: HubProtocol = new JsonHubProtocol()) {}
  get name() {
    return this.inner.name;
  }
  get version() {
    return this.inner.version;
  }
  get transferFormat() {
    return this.inner.transferFormat;
  }
  parseMessages(frame: Buffer): HubMessage[] {
    return this.inner.parseMessages(frame);
  }
  writeMessage(message: HubMessage): string | Uint8Array {
    this.writes++;
    return this.inner.writeMessage(message);
  }
}

let fences = 0;

/**
 * Sends a fence to all from `sender` and waits until every connection has it. Redis keeps the
 * order of one publisher's messages, so everything `sender` sent before has arrived by then: what
 * a connection did not receive, it will not.
 */
export function fence(sender: RedisLifetimeManager, connections: readonly FakeConnection[]): Promise<void> {
  return fenceBy((target, args) => sender.sendAll(target, args), connections);
}

/**
 * A fence sent by `send`. On a cluster, a sender's messages keep their order per channel only
 * (each channel is its own shard's), so the fence goes the way of what it is to follow: the same
 * group, user or connection.
 */
export async function fenceBy(send: (target: string, args: unknown[]) => Promise<void>, connections: readonly FakeConnection[]): Promise<void> {
  const id = ++fences;
  await send(FENCE, [id]);
  await vi.waitFor(
    () => {
      for (const connection of connections) {
        expect(connection.received.some((message) => message.target === FENCE && message.args[0] === id)).toBe(true);
      }
    },
    { timeout: 5_000, interval: 5 },
  );
}

/** `count` managers (nodes) of one hub on one Redis (by URL) or one cluster, each with a prefix of its own test. */
export async function startNodes(
  redis: string | RedisCluster,
  count: number,
  options: RedisLifetimeManagerOptions = {},
): Promise<RedisLifetimeManager[]> {
  const channelPrefix = options.channelPrefix ?? `test-${randomUUID()}`;
  const where: RedisLifetimeManagerOptions = typeof redis === 'string' ? { url: redis } : { cluster: { nodes: redis.startupNodes } };
  const nodes = Array.from({ length: count }, () => new RedisLifetimeManager(HUB_PATH, { ...where, ...options, channelPrefix }));
  await waitForHealth(nodes, 'up');
  return nodes;
}

export async function waitForHealth(nodes: readonly RedisLifetimeManager[], status: 'up' | 'down'): Promise<void> {
  await vi.waitFor(
    () => {
      for (const node of nodes) expect(node.health().status).toBe(status);
    },
    { timeout: 8_000, interval: 10 },
  );
}

export async function connect(node: RedisLifetimeManager, connection: FakeConnection): Promise<FakeConnection> {
  await node.onConnected(connection);
  return connection;
}

