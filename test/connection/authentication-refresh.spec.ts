import { Logger } from '@nestjs/common';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AuthenticationRefresh, tokenLifetimeSeconds } from '../../src/connection/authentication-refresh.js';
import type { HubConnection } from '../../src/connection/hub-connection.js';
import { closeErrors } from '../../src/errors/invocation-errors.js';
import type { HubCallerContext } from '../../src/hub/hub-caller-context.js';
import { MessageType } from '../../src/protocol/hub-message.js';
import type { AuthenticationRefreshPolicy } from '../../src/security/authentication-refresh-policy.js';
import type { AuthorizationOutcome } from '../../src/security/hub-authorizer.js';
import { defaultUserIdentifier } from '../../src/security/user-identity.js';
import { CapturingLogger } from '../support/capturing-logger.js';

// What negotiate and the refresh answer announce: whole seconds, a JSON integer the .NET client
// accepts (it fails negotiate on a fraction or on a value past Int32), absent when nothing is left.
describe('tokenLifetimeSeconds', () => {
  const now = 1_000_000_000_000;

  it('counts the whole seconds left, rounding down', () => {
    expect(tokenLifetimeSeconds(now + 59_999, now)).toBe(59);
    expect(tokenLifetimeSeconds(now + 60_000, now)).toBe(60);
    expect(Number.isInteger(tokenLifetimeSeconds(now + 1_234, now))).toBe(true);
  });

  it('announces nothing for a credential without expiry, or with less than a second left', () => {
    expect(tokenLifetimeSeconds(undefined, now)).toBeUndefined();
    expect(tokenLifetimeSeconds(now + 999, now)).toBeUndefined();
    expect(tokenLifetimeSeconds(now - 5_000, now)).toBeUndefined();
  });

  it("stays within the .NET client's Int32", () => {
    expect(tokenLifetimeSeconds(now + 1e13, now)).toBe(2 ** 31 - 1);
  });
});

/** What the refresh decision reads and changes of a live connection. */
class HeldConnection {
  readonly closedWith: unknown[] = [];
  constructor(
    readonly connectionId: string,
    public user: unknown,
    readonly userIdentifier: string | undefined,
    public credentialExpiresAt: number | undefined,
  ) {}

  refreshCredential(user: unknown, expiresAt: number | undefined): void {
    this.user = user;
    this.credentialExpiresAt = expiresAt;
  }

  close(message: unknown): void {
    this.closedWith.push(message);
  }
}

const inAMinute = () => Date.now() + 60_000;
const alice = (roles: string[]) => ({ sub: 'alice', roles });
const held = (expiresAt = inAMinute()) => new HeldConnection('c1', alice(['user']), 'alice', expiresAt);
const apply = (refresh: AuthenticationRefresh, connection: HeldConnection | undefined, user: unknown, expiresAt: number | undefined) =>
  refresh.apply(connection as unknown as HubConnection | undefined, { user, expiresAt });
/** As the logger writes it: the message, then the logger's context. */
const refusedBecause = (status: number, why: string) => `Authentication refresh of connection c1 refused with ${status}: ${why} SignalR:Security`;
const policyThatThrows = () => {
  throw new Error('policy store down');
};
const policyThatThrowsNothing = () => {
  // oxlint-disable-next-line no-throw-literal -- a policy written carelessly can throw anything
  throw null;
};

describe('AuthenticationRefresh', () => {
  let refreshedHook: (caller: HubCallerContext) => Promise<void>;
  let hubAllows: (user: unknown) => AuthorizationOutcome;
  let logs: CapturingLogger;

  beforeEach(() => {
    refreshedHook = async () => {};
    hubAllows = () => 'allowed';
    logs = new CapturingLogger();
    Logger.overrideLogger(logs);
  });
  afterEach(() => vi.useRealTimers());

  const refusals = () => logs.lines.filter((line) => line.startsWith('Authentication refresh of connection'));

  const refresher = (policy?: AuthenticationRefreshPolicy, maximumRefreshesPerMinute = 10) =>
    new AuthenticationRefresh({
      hubPath: '/hubs/refresh',
      maximumRefreshesPerMinute,
      policy,
      // As an application's userIdentifier may be written: it is never asked about no user.
      identifierOf: (user) => defaultUserIdentifier(user ?? expect.unreachable('identifier asked about no user')),
      authorizeHub: async (user) => hubAllows(user),
      refreshed: (caller) => refreshedHook(caller),
    });

  it('answers 404 for a connection this node does not hold', async () => {
    expect(await apply(refresher(), undefined, alice(['user']), inAMinute())).toEqual({ status: 404, body: '{"error":"connection_not_found"}' });
  });

  it("refuses another user's credential, and an anonymous one, keeping the held credential", async () => {
    const connection = held();
    expect(await apply(refresher(), connection, { sub: 'mallory', roles: ['admin'] }, inAMinute())).toEqual({ status: 403, body: '{"error":"user_changed"}' });
    expect(await apply(refresher(), connection, undefined, undefined)).toEqual({ status: 403, body: '{"error":"user_changed"}' });
    expect(connection.user).toEqual(alice(['user']));
    expect(refusals()).toEqual([refusedBecause(403, 'a credential of another user'), refusedBecause(403, 'a credential of another user')]);
  });

  it('swaps a newer credential, announces its lifetime and tells the hub', async () => {
    const connection = held();
    const told: unknown[] = [];
    refreshedHook = async (caller) => void told.push(caller);
    const expiresAt = Date.now() + 120_500;
    const answer = await apply(refresher(), connection, alice(['user', 'admin']), expiresAt);
    expect(answer).toEqual({ status: 200, body: '{"tokenLifetimeSeconds":120}' });
    expect([connection.user, connection.credentialExpiresAt, told]).toEqual([alice(['user', 'admin']), expiresAt, [connection]]);
  });

  it('takes a credential ending when the held one does (not older), and one without an end, which announces none', async () => {
    const connection = held();
    const sameEnd = connection.credentialExpiresAt;
    await apply(refresher(), connection, alice(['user', 'editor']), sameEnd);
    expect(connection.user).toEqual(alice(['user', 'editor']));
    expect(await apply(refresher(), connection, alice(['user', 'admin']), undefined)).toEqual({ status: 200, body: '{}' });
    expect([connection.user, connection.credentialExpiresAt]).toEqual([alice(['user', 'admin']), undefined]);
  });

  it('accepts an older credential as stale without swapping it, as ASP.NET Core does', async () => {
    const connection = held();
    const older = Date.now() + 30_500;
    expect(await apply(refresher(), connection, alice(['user', 'admin']), older)).toEqual({ status: 200, body: '{"tokenLifetimeSeconds":30}' });
    expect(connection.user).toEqual(alice(['user']));
  });

  it('keeps the connection and the answer when the hub’s onAuthenticationRefreshed fails, and logs it', async () => {
    refreshedHook = async () => {
      throw new Error('hook broke');
    };
    const connection = held();
    expect((await apply(refresher(), connection, alice(['user', 'admin']), inAMinute())).status).toBe(200);
    await vi.waitFor(() => expect(logs.lines).toContainEqual(expect.stringMatching(/^onAuthenticationRefreshed failed for connection c1 Error: hook broke\n/)));
    expect(connection.closedWith).toEqual([]);
    // A hook may reject with anything, nothing at all included.
    refreshedHook = () => Promise.reject(undefined);
    expect((await apply(refresher(), connection, alice(['user']), inAMinute())).status).toBe(200);
    await vi.waitFor(() => expect(logs.lines).toContain('onAuthenticationRefreshed failed for connection c1 undefined SignalR:Security'));
  });

  it('refuses a credential the hub no longer authorizes, and ends the connection', async () => {
    hubAllows = () => 'forbidden';
    const connection = held();
    expect(await apply(refresher(), connection, alice([]), inAMinute())).toEqual({ status: 403, body: '{"error":"hub_authorization_failed"}' });
    expect(connection.closedWith).toEqual([{ type: MessageType.Close, error: closeErrors.authorizationRevoked }]);
    expect(connection.user).toEqual(alice(['user']));
    expect(refusals()).toEqual([refusedBecause(403, "the new credential fails the hub's @Authorize; connection closed")]);
  });

  it('asks the policy, which must answer true: false, another value or a throw refuses (fail closed)', async () => {
    const refused = { status: 403, body: '{"error":"permission_change_rejected"}' };
    const connection = held();
    expect(await apply(refresher(() => false), connection, alice(['user', 'admin']), inAMinute())).toEqual(refused);
    expect(await apply(refresher((() => 'yes') as unknown as AuthenticationRefreshPolicy), connection, alice(['user', 'admin']), inAMinute())).toEqual(refused);
    expect(await apply(refresher(policyThatThrows), connection, alice(['user', 'admin']), inAMinute())).toEqual(refused);
    expect(logs.lines).toContainEqual(expect.stringMatching(/^onAuthenticationRefresh threw; the refresh is refused\. Error: policy store down\n/));
    expect(await apply(refresher(policyThatThrowsNothing), connection, alice(['user', 'admin']), inAMinute())).toEqual(refused);
    expect(logs.lines).toContain('onAuthenticationRefresh threw; the refresh is refused. undefined SignalR:Security');
    expect(refusals()).toEqual(Array(4).fill(refusedBecause(403, 'onAuthenticationRefresh refused')));
    expect(connection.user).toEqual(alice(['user']));
    expect((await apply(refresher(async () => true), connection, alice(['user', 'admin']), inAMinute())).status).toBe(200);
    expect(connection.user).toEqual(alice(['user', 'admin']));
  });

  it('allows maximumRefreshesPerMinute a connection each minute, counted from its first refresh', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(1_000_000_000_000);
    const refresh = refresher(undefined, 2);
    const connection = held(Date.now() + 3_600_000);
    const ask = () => apply(refresh, connection, alice(['user']), Date.now() + 3_600_000);
    expect([(await ask()).status, (await ask()).status]).toEqual([200, 200]);
    expect(await ask()).toEqual({ status: 429, body: '{"error":"too_many_refreshes"}' });
    expect(refusals()).toEqual([refusedBecause(429, 'over maximumAuthenticationRefreshesPerMinute')]);
    vi.setSystemTime(1_000_000_059_999);
    expect((await ask()).status).toBe(429);
    vi.setSystemTime(1_000_000_060_000);
    expect([(await ask()).status, (await ask()).status, (await ask()).status]).toEqual([200, 200, 429]);
    // Another connection has its own count.
    expect((await apply(refresh, held(Date.now() + 3_600_000), alice(['user']), Date.now() + 3_600_000)).status).toBe(200);
  });
});
