import { JwtService } from '@nestjs/jwt';
import type { AuthenticationRefreshContext, SignalRModuleOptions } from 'nestjs-signalr';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHubApp, type RunningHubApp } from '../support/hub-app.js';
import { signFor, TestAuthModule } from '../support/jwt-auth.js';
import { negotiate, RawHubSocket, RS } from '../support/raw-client.js';
import { sleep } from '../support/wait.js';
import { LimitedRefreshHub, MembersHub, NoRefreshHub, RefreshHub, RefreshLog } from './refresh-hubs.js';

// POST {hub}/refresh as ASP.NET Core 11 serves it (shared/docs/authentication-refresh.md), driven
// by hand: the statuses and bodies the clients see, and what each does to the live connection.

const ALLOWED_ORIGIN = 'https://app.example.test';
const CONNECTION_TOKEN = 'X-SignalR-Connection-Token';
const rolesOf = (user: unknown): readonly string[] => (user as { roles?: string[] }).roles ?? [];

/** One hand-driven WebSocket connection and the token its client would refresh with. */
interface RawConnection {
  readonly raw: RawHubSocket;
  readonly connectionToken: string;
}

let invocationIds = 0;

/** Invokes a method without arguments; resolves with its completion. */
async function invoke(raw: RawHubSocket, target: string): Promise<{ result?: unknown; error?: string }> {
  const invocationId = String(++invocationIds);
  raw.send(`${JSON.stringify({ type: 1, invocationId, target, arguments: [] })}${RS}`);
  const completion = () => raw.messages().find((message) => message.type === 3 && message.invocationId === invocationId);
  await raw.until(() => completion() !== undefined);
  return completion() as { result?: unknown; error?: string };
}

async function startRefreshApp(options: SignalRModuleOptions = {}): Promise<RunningHubApp> {
  return startHubApp([RefreshHub, MembersHub, NoRefreshHub, LimitedRefreshHub, RefreshLog], { authStrategies: ['jwt'], allowedOrigins: [ALLOWED_ORIGIN], ...options }, { imports: [TestAuthModule] });
}

describe('authentication refresh, by hand (ASP.NET Core 11 wire)', () => {
  let server: RunningHubApp;
  let jwt: JwtService;
  let log: RefreshLog;
  const policyCalls: AuthenticationRefreshContext[] = [];

  const bearer = (sub: string, roles = ['user'], ttlSeconds = 60) => ({ Authorization: `Bearer ${signFor(jwt, sub, roles, ttlSeconds)}` });
  const refresh = (hub: string, connectionToken: string | undefined, headers: Record<string, string>, method = 'POST') =>
    fetch(`${server.baseUrl}${hub}/refresh`, { method, headers: { ...headers, ...(connectionToken === undefined ? {} : { [CONNECTION_TOKEN]: connectionToken }) } });
  const connect = async (hub: string, headers: Record<string, string>): Promise<RawConnection> => {
    const { connectionToken } = await negotiate(`${server.baseUrl}${hub}`, { headers });
    return { raw: await RawHubSocket.connected(`${server.baseUrl}${hub}`, connectionToken, headers), connectionToken };
  };

  beforeAll(async () => {
    server = await startRefreshApp({
      onAuthenticationRefresh: (context) => {
        policyCalls.push(context);
        return !rolesOf(context.newUser).includes('blocked');
      },
    });
    jwt = server.app.get(JwtService);
    log = server.app.get(RefreshLog);
  });

  afterAll(() => server.close());

  it('announces the whole seconds the credential has left in negotiate, as a JSON integer, only where refresh is on', async () => {
    const headers = bearer('alice', ['user'], 60);
    const announced = (await (await fetch(`${server.baseUrl}/hubs/refresh/negotiate?negotiateVersion=1`, { method: 'POST', headers })).text()) as string;
    const lifetime = (JSON.parse(announced) as { tokenLifetimeSeconds: number }).tokenLifetimeSeconds;
    expect(announced).toMatch(/"tokenLifetimeSeconds":\d+[,}]/);
    expect(lifetime).toBeGreaterThanOrEqual(58);
    expect(lifetime).toBeLessThanOrEqual(60);
    const optedOut = (await (await fetch(`${server.baseUrl}/hubs/no-refresh/negotiate?negotiateVersion=1`, { method: 'POST', headers })).json()) as object;
    expect(optedOut).not.toHaveProperty('tokenLifetimeSeconds');
  });

  it('answers every refusal with its status and a JSON {"error":"<code>"} body, as ASP.NET Core 11', async () => {
    const { raw, connectionToken } = await connect('/hubs/refresh', bearer('alice'));
    const get = await refresh('/hubs/refresh', connectionToken, bearer('alice'), 'GET');
    expect([get.status, get.headers.get('allow')]).toEqual([405, 'POST']);
    // The hub needs a user: a refresh without one is challenged, as negotiate is.
    expect((await refresh('/hubs/refresh', connectionToken, {})).status).toBe(401);
    const missing = await refresh('/hubs/refresh', undefined, bearer('alice'));
    expect([missing.status, missing.headers.get('content-type'), await missing.text()]).toEqual([400, 'application/json; charset=utf-8', '{"error":"missing_connection_token"}']);
    const empty = await refresh('/hubs/refresh', '', bearer('alice'));
    expect([empty.status, await empty.text()]).toEqual([400, '{"error":"missing_connection_token"}']);
    const forged = await refresh('/hubs/refresh', `${connectionToken}x`, bearer('alice'));
    expect([forged.status, await forged.text()]).toEqual([404, '{"error":"connection_not_found"}']);
    // Authentic, for this hub and user, but no connection opened with it.
    const { connectionToken: unopened } = await negotiate(`${server.baseUrl}/hubs/refresh`, { headers: bearer('alice') });
    expect(await (await refresh('/hubs/refresh', unopened, bearer('alice'))).text()).toBe('{"error":"connection_not_found"}');
    // A live connection of another hub is not this hub's.
    expect((await refresh('/hubs/refresh-limited', connectionToken, bearer('alice'))).status).toBe(404);
    expect((await refresh('/hubs/no-refresh', connectionToken, bearer('alice'))).status).toBe(404);
    expect((await invoke(raw, 'roles')).error).toBeUndefined();
    raw.socket.close();
  });

  it('lets an allowed cross origin send the connection token header', async () => {
    const preflight = await fetch(`${server.baseUrl}/hubs/refresh/refresh`, {
      method: 'OPTIONS',
      headers: { Origin: ALLOWED_ORIGIN, 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'authorization, x-signalr-connection-token' },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-headers')?.toLowerCase()).toContain('x-signalr-connection-token');
    const foreign = await fetch(`${server.baseUrl}/hubs/refresh/refresh`, { method: 'OPTIONS', headers: { Origin: 'https://evil.example.test', 'Access-Control-Request-Method': 'POST' } });
    expect(foreign.status).toBe(403);
  });

  it('swaps the credential: new roles on the next invocation, the hub and the policy hear of it, the expiry moves', async () => {
    const { raw, connectionToken } = await connect('/hubs/refresh', bearer('alice', ['user'], 2));
    expect((await invoke(raw, 'adminOnly')).error).toBeDefined();
    const answer = await refresh('/hubs/refresh', connectionToken, bearer('alice', ['user', 'admin'], 60));
    expect(answer.status).toBe(200);
    expect((await answer.json()) as object).toEqual({ tokenLifetimeSeconds: expect.any(Number) });
    expect((await invoke(raw, 'adminOnly')).result).toBe('admin');
    await expect.poll(() => log.refreshed.map(({ roles }) => roles)).toContainEqual(['user', 'admin']);
    const seen = policyCalls.at(-1)!;
    expect([rolesOf(seen.previousUser), rolesOf(seen.newUser), seen.newExpiration instanceof Date]).toEqual([['user'], ['user', 'admin'], true]);
    // Past the first credential's expiry: the new one holds the connection open.
    await sleep(3_000);
    expect((await invoke(raw, 'roles')).error).toBeUndefined();
    raw.socket.close();
  });

  it("refuses another user's credential with 403 user_changed: the connection keeps its user and closes at the old expiry", async () => {
    const { raw, connectionToken } = await connect('/hubs/refresh', bearer('alice', ['user'], 2));
    const answer = await refresh('/hubs/refresh', connectionToken, bearer('bob', ['user', 'admin'], 60));
    expect([answer.status, await answer.text()]).toEqual([403, '{"error":"user_changed"}']);
    expect((await invoke(raw, 'roles')).result).toEqual(['user']);
    expect((await raw.closed).code).toBe(1000);
    expect(raw.frames.at(-1)).toBe(`{"type":7,"allowReconnect":true}${RS}`);
  });

  it('changes nothing for an invalid or expired token', async () => {
    const { raw, connectionToken } = await connect('/hubs/refresh', bearer('alice'));
    expect((await refresh('/hubs/refresh', connectionToken, bearer('alice', ['admin'], -10))).status).toBe(401);
    expect((await refresh('/hubs/refresh', connectionToken, { Authorization: 'Bearer not-a-jwt' })).status).toBe(401);
    expect((await invoke(raw, 'roles')).result).toEqual(['user']);
    raw.socket.close();
  });

  it('accepts a credential older than the one held (stale) with 200 and changes nothing', async () => {
    const { raw, connectionToken } = await connect('/hubs/refresh', bearer('alice', ['user'], 600));
    const answer = await refresh('/hubs/refresh', connectionToken, bearer('alice', ['admin'], 60));
    expect(answer.status).toBe(200);
    expect(((await answer.json()) as { tokenLifetimeSeconds: number }).tokenLifetimeSeconds).toBeLessThanOrEqual(60);
    expect((await invoke(raw, 'roles')).result).toEqual(['user']);
    raw.socket.close();
  });

  it("refuses a credential the hub's @Authorize no longer admits, and ends the connection", async () => {
    const { raw, connectionToken } = await connect('/hubs/members', bearer('carol', ['member']));
    const answer = await refresh('/hubs/members', connectionToken, bearer('carol', ['user'], 120));
    expect([answer.status, await answer.text()]).toEqual([403, '{"error":"hub_authorization_failed"}']);
    await raw.closed;
    expect(JSON.parse(raw.frames.at(-1)!.slice(0, -1)) as object).toMatchObject({ type: 7, error: expect.stringContaining('no longer authorizes') });
  });

  it('lets the application policy refuse with 403 permission_change_rejected, changing nothing', async () => {
    const { raw, connectionToken } = await connect('/hubs/refresh', bearer('dave'));
    const answer = await refresh('/hubs/refresh', connectionToken, bearer('dave', ['admin', 'blocked'], 120));
    expect([answer.status, await answer.text()]).toEqual([403, '{"error":"permission_change_rejected"}']);
    expect((await invoke(raw, 'roles')).result).toEqual(['user']);
    raw.socket.close();
  });

  it('limits refreshes per connection: one over the limit is 429 too_many_refreshes', async () => {
    const { raw, connectionToken } = await connect('/hubs/refresh-limited', bearer('erin'));
    const statuses = [];
    for (let attempt = 0; attempt < 3; attempt++) statuses.push((await refresh('/hubs/refresh-limited', connectionToken, bearer('erin', ['user'], 120))).status);
    expect(statuses).toEqual([200, 200, 429]);
    // Another connection has its own count.
    const other = await connect('/hubs/refresh-limited', bearer('erin'));
    expect((await refresh('/hubs/refresh-limited', other.connectionToken, bearer('erin', ['user'], 120))).status).toBe(200);
    raw.socket.close();
    other.raw.socket.close();
  });
});

describe('authentication refresh options', () => {
  it('is off for every hub with authenticationRefresh: false, and where expiry does not close connections', async () => {
    for (const options of [{ authenticationRefresh: false }, { closeOnCredentialExpiry: false }]) {
      const server = await startRefreshApp(options);
      try {
        const headers = { Authorization: `Bearer ${signFor(server.app.get(JwtService), 'alice')}` };
        const negotiated = await negotiate(`${server.baseUrl}/hubs/refresh`, { headers });
        expect(negotiated).not.toHaveProperty('tokenLifetimeSeconds');
        expect((await fetch(`${server.baseUrl}/hubs/refresh/refresh`, { method: 'POST', headers: { ...headers, [CONNECTION_TOKEN]: negotiated.connectionToken } })).status).toBe(404);
      } finally {
        await server.close();
      }
    }
  });

  it('caps every credential at maximumAuthenticationLifetimeMs: negotiate announces the cap and the connection closes there', async () => {
    const server = await startRefreshApp({ maximumAuthenticationLifetimeMs: 2_000 });
    try {
      const headers = { Authorization: `Bearer ${signFor(server.app.get(JwtService), 'alice', ['user'], 3600)}` };
      const negotiated = (await negotiate(`${server.baseUrl}/hubs/refresh`, { headers })) as { connectionToken: string; tokenLifetimeSeconds?: number };
      expect([1, 2]).toContain(negotiated.tokenLifetimeSeconds);
      const raw = await RawHubSocket.connected(`${server.baseUrl}/hubs/refresh`, negotiated.connectionToken, headers);
      await raw.closed;
      expect(raw.frames.at(-1)).toBe(`{"type":7,"allowReconnect":true}${RS}`);
    } finally {
      await server.close();
    }
  });
});
