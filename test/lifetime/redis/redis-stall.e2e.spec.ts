import { HttpTransportType, HubConnectionBuilder, JsonHubProtocol, LogLevel, type HubConnection } from '@microsoft/signalr';
import { redisLifetimeManager, SignalRErrorCode, type RedisLifetimeManagerFactory } from 'nestjs-signalr';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { CapturingLogger } from '../../support/capturing-logger.js';
import type { RunningHubApp } from '../../support/hub-app.js';
import { signFor } from '../../support/jwt-auth.js';
import { negotiate, RawHubSocket, upgradeStatus } from '../../support/raw-client.js';
import { describeWithRedis, RedisServer } from '../../support/redis-server.js';
import { waitFor } from '../../support/wait.js';
import {
  bearer,
  connectionTokenOf,
  jwt,
  PATIENCE_MS,
  resumableClient,
  resumeUrl,
  startNode,
  type ResumableClient,
} from '../../reconnect/resumption-support.js';

const COMMAND_TIMEOUT_MS = 500;
const HUB = '/hubs/rooms';

const healthOf = (factory: RedisLifetimeManagerFactory) => factory.health().status;

/** Collects the room messages a client receives. */
function roomMessages(connection: HubConnection): string[] {
  const texts: string[] = [];
  connection.on('RoomMessage', (_room: string, text: string) => texts.push(text));
  return texts;
}

describeWithRedis('a Redis that stops answering (SIGSTOP) without closing its connections', () => {
  let redis: RedisServer;
  let factories: RedisLifetimeManagerFactory[];
  let a: RunningHubApp;
  let b: RunningHubApp;
  const log = new CapturingLogger();

  beforeAll(async () => {
    redis = await RedisServer.start();
    const channelPrefix = `stall-${Math.random().toString(36).slice(2)}`;
    factories = [0, 1].map(() => redisLifetimeManager({ url: redis.url, channelPrefix, commandTimeoutMs: COMMAND_TIMEOUT_MS }));
    [a, b] = [await startNode({ lifetimeManager: factories[0] }), await startNode({ lifetimeManager: factories[1] })];
    a.app.useLogger(log);
  });

  afterAll(async () => {
    redis?.resume();
    await Promise.all([a?.close(), b?.close()]);
    await redis?.stop();
  });

  it('serves its own connections while Redis is stalled, fails what needs Redis with a clear error, and recovers after', async () => {
    await waitFor(() => factories.every((factory) => healthOf(factory) === 'up'), PATIENCE_MS);
    const alice: ResumableClient = await resumableClient(`${a.baseUrl}${HUB}`, 'json', () => signFor(jwt, 'alice'));
    const bob = new HubConnectionBuilder()
      .withUrl(`${b.baseUrl}${HUB}`, { transport: HttpTransportType.WebSockets, accessTokenFactory: () => signFor(jwt, 'bob') })
      .withHubProtocol(new JsonHubProtocol())
      .configureLogging(LogLevel.None)
      .build();
    bob.on('Ask', () => 'from bob');
    await bob.start();
    const aliceHears = roomMessages(alice.connection);
    const bobHears = roomMessages(bob);
    await alice.connection.invoke('Join', 'room');
    await bob.invoke('Join', 'room');
    const managerA = factories[0].managerFor(HUB)!;
    // The routes work before the stall, so what fails below fails because of it.
    await alice.connection.invoke('SendToRoom', 'room', 'before');
    await waitFor(() => bobHears.includes('before'), PATIENCE_MS);
    await expect(managerA.invokeConnection(bob.connectionId!, 'Ask', [])).resolves.toBe('from bob');
    const resumption = resumeUrl(b, connectionTokenOf(alice), alice.tokens.at(-1)!);

    redis.pause();
    try {
      // An invocation that sends to a room: its own node's members get it, the call completes
      // (without waiting for Redis); what was for the other node is dropped once Redis times out.
      await alice.connection.invoke('SendToRoom', 'room', 'during');
      expect(aliceHears).toContain('during');
      await waitFor(
        () => /Could not publish to Redis for hub \/hubs\/rooms: Command timed out|Messages for other nodes of hub \/hubs\/rooms are dropped/.test(log.text()),
        PATIENCE_MS,
      );

      // A client result from a connection of the other node rejects, saying why.
      await expect(managerA.invokeConnection(bob.connectionId!, 'Ask', [])).rejects.toMatchObject({
        code: SignalRErrorCode.BackplaneUnavailable,
        message: "Redis is unreachable: cannot invoke 'Ask' on a connection of another node. (SIGNALR_BACKPLANE_UNAVAILABLE)",
      });
      // The stalled connection was dropped, as if Redis had gone away.
      await waitFor(() => healthOf(factories[0]) === 'down', PATIENCE_MS);
      expect(log.text()).toMatch(/backplane of hub \/hubs\/rooms is unreachable \((Socket timeout|Command timed out)/);

      // Negotiate and new connections go on (their ids are checked on this node only meanwhile).
      await expect(negotiate(`${a.baseUrl}${HUB}`, { headers: bearer('carol') })).resolves.toHaveProperty('connectionToken');
      const carol = await resumableClient(`${a.baseUrl}${HUB}`, 'json', () => signFor(jwt, 'carol'));
      await expect(carol.connection.invoke('WhoAmI')).resolves.toBe(carol.connection.connectionId);
      await carol.connection.stop();

      // A resumption needs the shared registry to know the connection has not ended elsewhere.
      expect((await upgradeStatus(resumption, bearer('alice'))).status).toBe(503);
    } finally {
      redis.resume();
    }

    await waitFor(() => factories.every((factory) => healthOf(factory) === 'up'), PATIENCE_MS);
    await alice.connection.invoke('SendToRoom', 'room', 'after');
    await waitFor(() => bobHears.includes('after'), PATIENCE_MS);
    await expect(managerA.invokeConnection(bob.connectionId!, 'Ask', [])).resolves.toBe('from bob');
    const resumed = await RawHubSocket.openUrl(resumption, bearer('alice'));
    expect(resumed.socket.readyState).toBe(resumed.socket.OPEN);
    resumed.socket.terminate();
    await Promise.all([alice.connection.stop(), bob.stop()]);
  });
});
