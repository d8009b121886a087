import { HttpTransportType, HubConnectionBuilder, HubConnectionState, LogLevel, type HubConnection } from '@microsoft/signalr';
import { JwtService } from '@nestjs/jwt';
import { AuthenticationRefresh } from 'nestjs-signalr/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { TRANSPORT_NAMES, type TransportName } from '../support/client.js';
import { startHubApp, type RunningHubApp } from '../support/hub-app.js';
import { signFor, TestAuthModule } from '../support/jwt-auth.js';
import { sleep } from '../support/wait.js';
import { MembersHub, RefreshHub, RefreshLog } from '../security/refresh-hubs.js';

// The client extension gives @microsoft/signalr 10 the refresh of the official clients 11: a
// connection with short-lived tokens stays open across their expiries, on every transport.

// The figures: a 6-second token held for 30 s (every transport at once).
const TOKEN_TTL_SECONDS = 6;
const HOLD_MS = 30_000;

interface RefreshingClient {
  readonly connection: HubConnection;
  readonly refresh: AuthenticationRefresh;
  readonly lifetimes: (number | undefined)[];
  readonly failures: Error[];
  closedWith: Error | undefined | 'open';
}

describe('AuthenticationRefresh, the client extension, with @microsoft/signalr 10', () => {
  let server: RunningHubApp;
  let jwt: JwtService;
  const clients: HubConnection[] = [];

  beforeAll(async () => {
    server = await startHubApp([RefreshHub, MembersHub, RefreshLog], { authStrategies: ['jwt'] }, { imports: [TestAuthModule] });
    jwt = server.app.get(JwtService);
  });

  afterAll(async () => {
    await Promise.all(clients.map((connection) => connection.stop()));
    await server.close();
  });

  async function connect(transport: TransportName, token: () => string, hub = '/hubs/refresh'): Promise<RefreshingClient> {
    const url = `${server.baseUrl}${hub}`;
    const lifetimes: (number | undefined)[] = [];
    const failures: Error[] = [];
    const accessTokenFactory = () => token();
    const refresh = new AuthenticationRefresh(url, { accessTokenFactory, onRefreshed: (seconds) => lifetimes.push(seconds), onRefreshFailed: (error) => failures.push(error) });
    const connection = refresh.attach(
      new HubConnectionBuilder()
        .withUrl(url, { transport: HttpTransportType[transport], accessTokenFactory, WebSocket } as never)
        .configureLogging(LogLevel.None)
        .build(),
    );
    const client: RefreshingClient = { connection, refresh, lifetimes, failures, closedWith: 'open' };
    connection.onclose((error) => (client.closedWith = error));
    clients.push(connection);
    await connection.start();
    return client;
  }

  it.concurrent.each(TRANSPORT_NAMES)(
    `keeps a connection with ${TOKEN_TTL_SECONDS}-second tokens open for ${HOLD_MS / 1000} s across refreshes, with no message lost (%s)`,
    async (transport) => {
      const client = await connect(transport, () => signFor(jwt, 'alice', ['user'], TOKEN_TTL_SECONDS));
      const echoed: unknown[] = [];
      let sent = 0;
      const until = Date.now() + HOLD_MS;
      while (Date.now() < until) {
        echoed.push(await client.connection.invoke('echo', sent++));
        await sleep(50);
      }
      expect(echoed).toEqual(Array.from({ length: sent }, (_, index) => index));
      expect(client.closedWith).toBe('open');
      expect(client.connection.state).toBe(HubConnectionState.Connected);
      expect(client.failures).toEqual([]);
      // Each token lives past HOLD_MS only through the refreshes the server announced a lifetime for.
      expect(client.lifetimes.length).toBeGreaterThanOrEqual(HOLD_MS / (TOKEN_TTL_SECONDS * 1000));
      expect(client.lifetimes.every((seconds) => seconds !== undefined && seconds > 0)).toBe(true);
    },
    HOLD_MS + 20_000,
  );

  it.concurrent.each(TRANSPORT_NAMES)('carries the roles of a refreshed token to the next invocation (%s)', async (transport) => {
    let roles = ['user'];
    const client = await connect(transport, () => signFor(jwt, 'bob', roles, 600));
    await expect(client.connection.invoke('adminOnly')).rejects.toThrow();
    roles = ['user', 'admin'];
    expect(await client.refresh.refresh()).toBeGreaterThan(590);
    expect(await client.connection.invoke('adminOnly')).toBe('admin');
  });

  it("rejects a refresh with another user's token; the connection closes at the old expiry", async () => {
    let user = 'carol';
    const client = await connect('WebSockets', () => signFor(jwt, user, ['user'], user === 'carol' ? 2 : 600));
    user = 'mallory';
    await expect(client.refresh.refresh()).rejects.toMatchObject({ statusCode: 403 });
    expect(await client.connection.invoke('roles')).toEqual(['user']);
    await expect.poll(() => client.closedWith, { timeout: 10_000 }).not.toBe('open');
  });

  it("rejects a refresh whose token the hub's @Authorize no longer admits, and the connection ends at once", async () => {
    let roles = ['member'];
    const client = await connect('WebSockets', () => signFor(jwt, 'dave', roles, 600), '/hubs/members');
    expect(await client.connection.invoke('echo', 1)).toBe(1);
    roles = ['user'];
    await expect(client.refresh.refresh()).rejects.toMatchObject({ statusCode: 403 });
    await expect.poll(() => client.closedWith, { timeout: 10_000 }).toBeInstanceOf(Error);
  });
});
