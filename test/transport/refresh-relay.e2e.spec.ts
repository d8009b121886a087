import { HubConnectionState } from '@microsoft/signalr';
import { JwtService } from '@nestjs/jwt';
import { AuthenticationRefresh } from 'nestjs-signalr/client';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { redisLifetimeManager } from '../../src/lifetime/redis/index.js';
import { ClientPool } from '../support/client.js';
import { startHubApp, type RunningHubApp } from '../support/hub-app.js';
import { signFor, TestAuthModule } from '../support/jwt-auth.js';
import { RawFallbackConnection } from '../support/http-transport-client.js';
import { negotiate, RawHubSocket, RS } from '../support/raw-client.js';
import { describeWithRedis, RedisServer } from '../support/redis-server.js';
import { RoundRobinProxy } from '../support/round-robin-proxy.js';
import { sleep } from '../support/wait.js';
import { LimitedRefreshHub, RefreshHub, RefreshLog } from '../security/refresh-hubs.js';

// No sticky sessions: a refresh that reaches the node not holding its connection is run by the
// node holding it, as the SSE and long-polling requests are.

const HUB = '/hubs/refresh';
const TRANSPORTS = ['ServerSentEvents', 'LongPolling'] as const;
const TOKEN_TTL_SECONDS = 3;
const HOLD_MS = 8_000;

describeWithRedis('authentication refresh behind a round-robin proxy in front of two nodes on one Redis', () => {
  let redis: RedisServer;
  let apps: RunningHubApp[];
  let proxy: RoundRobinProxy;
  let jwt: JwtService;
  const pools = TRANSPORTS.map((transport) => new ClientPool('json', false, transport));
  const accessTokenFactory = () => signFor(jwt, 'alice', ['user'], TOKEN_TTL_SECONDS);
  const bearer = (sub: string, roles: string[]) => ({ Authorization: `Bearer ${signFor(jwt, sub, roles, 600)}` });

  beforeAll(async () => {
    redis = await RedisServer.start();
    const channelPrefix = `refresh-${Math.random().toString(36).slice(2)}`;
    const factories = [0, 1].map(() => redisLifetimeManager({ url: redis.url, channelPrefix, commandTimeoutMs: 2_000 }));
    apps = await Promise.all(
      factories.map((lifetimeManager) =>
        startHubApp([RefreshHub, LimitedRefreshHub, RefreshLog], { keys: [Buffer.alloc(32, 9)], authStrategies: ['jwt'], lifetimeManager }, { imports: [TestAuthModule] }),
      ),
    );
    await vi.waitFor(() => factories.forEach((factory) => expect(factory.health().status).toBe('up')), { timeout: 10_000 });
    proxy = await RoundRobinProxy.start(apps.map((app) => app.baseUrl));
    jwt = apps[0].app.get(JwtService);
  });

  afterAll(async () => {
    await Promise.all(pools.map((pool) => pool.stopAll()));
    await proxy?.close();
    await Promise.all((apps ?? []).map((app) => app.close()));
    await redis?.stop();
  });

  it.concurrent.each(TRANSPORTS.map((transport, index) => [transport, index] as const))(
    `keeps a %s connection with ${TOKEN_TTL_SECONDS}-second tokens open through refreshes reaching both nodes`,
    async (transport, index) => {
      const url = `${proxy.url}${HUB}?client=${transport}`;
      const refresh = new AuthenticationRefresh(url, { accessTokenFactory });
      const connection = await pools[index].connect(url, { accessTokenFactory }, (built) => refresh.attach(built));
      const echoed: number[] = [];
      let sent = 0;
      // Which node a refresh reaches turns with every other request through the proxy, so two in a
      // row can reach the same one: the hold goes on, up to three times as long, until both had one.
      const refreshUrl = `${HUB}/refresh?client=${transport}`;
      const reachedBoth = async () => new Set((await proxy.answered(refreshUrl)).map((request) => request.target)).size === 2;
      const until = Date.now() + HOLD_MS;
      const latest = Date.now() + 3 * HOLD_MS;
      while (Date.now() < until || (Date.now() < latest && !(await reachedBoth()))) {
        echoed.push((await connection.invoke('echo', sent++)) as number);
        await sleep(50);
      }
      expect(echoed).toEqual(Array.from({ length: sent }, (_, value) => value));
      expect(connection.state).toBe(HubConnectionState.Connected);
      const refreshes = await proxy.answered(refreshUrl);
      expect(refreshes.map((request) => request.status)).toEqual(refreshes.map(() => 200));
      expect(new Set(refreshes.map((request) => request.target))).toEqual(new Set([0, 1]));
    },
    3 * HOLD_MS + 20_000,
  );

  it("runs a refresh on the holding node: the new roles there, another user's token refused there", async () => {
    const onA = await RawFallbackConnection.open(`${apps[0].baseUrl}${HUB}`, 'LongPolling', bearer('bob', ['user']));
    const refreshOnB = (headers: Record<string, string>) =>
      fetch(`${apps[1].baseUrl}${HUB}/refresh`, { method: 'POST', headers: { ...headers, 'X-SignalR-Connection-Token': onA.requests.token } });
    const other = await refreshOnB(bearer('mallory', ['admin']));
    expect([other.status, await other.text()]).toEqual([403, '{"error":"user_changed"}']);
    expect((await onA.invoke('1', 'roles')).result).toEqual(['user']);
    const accepted = await refreshOnB(bearer('bob', ['user', 'admin']));
    expect(accepted.status).toBe(200);
    expect(((await accepted.json()) as { tokenLifetimeSeconds: number }).tokenLifetimeSeconds).toBeGreaterThan(590);
    // Only the holding node ran the hub's hook (only this test's credentials carry the admin role).
    const adminRefreshes = (index: number) => apps[index].app.get(RefreshLog).refreshed.filter(({ roles }) => roles.includes('admin'));
    await expect.poll(() => adminRefreshes(0).length).toBe(1);
    expect(adminRefreshes(1)).toEqual([]);
    expect((await onA.invoke('2', 'roles')).result).toEqual(['user', 'admin']);
    await onA.stop();
  });

  it("refuses a token of another hub's connection, on either node, though the holding node would take the refresh", async () => {
    const onA = await RawFallbackConnection.open(`${apps[0].baseUrl}${HUB}`, 'LongPolling', bearer('erin', ['user']));
    for (const app of apps) {
      const answer = await fetch(`${app.baseUrl}/hubs/refresh-limited/refresh`, {
        method: 'POST',
        headers: { ...bearer('erin', ['user', 'admin']), 'X-SignalR-Connection-Token': onA.requests.token },
      });
      expect([answer.status, await answer.text()]).toEqual([404, '{"error":"connection_not_found"}']);
    }
    expect((await onA.invoke('1', 'roles')).result).toEqual(['user']);
    await onA.stop();
  });

  it('answers 404 on either node for a connection no node holds any more', async () => {
    const gone = await RawFallbackConnection.open(`${apps[0].baseUrl}${HUB}`, 'LongPolling', bearer('frank', ['user']));
    await gone.stop();
    for (const app of apps) {
      const answer = await fetch(`${app.baseUrl}${HUB}/refresh`, {
        method: 'POST',
        headers: { ...bearer('frank', ['user']), 'X-SignalR-Connection-Token': gone.requests.token },
      });
      expect([answer.status, await answer.text()]).toEqual([404, '{"error":"connection_not_found"}']);
    }
  });

  it('runs a refresh of a WebSocket connection of one node that reached the other', async () => {
    const headers = bearer('dave', ['user']);
    const { connectionToken } = await negotiate(`${apps[0].baseUrl}${HUB}`, { headers });
    const onA = await RawHubSocket.connected(`${apps[0].baseUrl}${HUB}`, connectionToken, headers);
    const accepted = await fetch(`${apps[1].baseUrl}${HUB}/refresh`, {
      method: 'POST',
      headers: { ...bearer('dave', ['user', 'admin']), 'X-SignalR-Connection-Token': connectionToken },
    });
    expect([accepted.status, accepted.headers.get('content-type')]).toEqual([200, 'application/json; charset=utf-8']);
    onA.send(`${JSON.stringify({ type: 1, invocationId: '1', target: 'roles', arguments: [] })}${RS}`);
    await onA.until(() => onA.messages().some((message) => message.invocationId === '1'));
    expect(onA.messages().find((message) => message.invocationId === '1')).toMatchObject({ result: ['user', 'admin'] });
    onA.socket.close();
  });
});
