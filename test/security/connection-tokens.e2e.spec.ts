import { JwtService } from '@nestjs/jwt';
import { TokenService } from 'nestjs-signalr';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startHubApp, type RunningHubApp } from '../support/hub-app.js';
import { signFor, TestAuthModule } from '../support/jwt-auth.js';
import { RawHubSocket, upgradeStatus } from '../support/raw-client.js';
import { AdminsHub, HubCodeRuns, NotBannedPolicy, OpenHub, PrivateHub } from './security-hubs.js';

const IDENTITY_CHANGED = 'The user identity cannot change during an active connection.';

const reEncoded = (token: string) => Buffer.from(token, 'base64url').toString('base64');

describe('connection tokens: sealed, bound to user and hub, single-use, short-lived', () => {
  let server: RunningHubApp;
  let jwt: JwtService;
  let runs: HubCodeRuns;
  const bearer = (sub: string) => ({ Authorization: `Bearer ${signFor(jwt, sub)}` });
  const negotiate = async (hub: string, headers: Record<string, string> = {}) => {
    const response = await fetch(`${server.baseUrl}${hub}/negotiate?negotiateVersion=1`, { method: 'POST', headers });
    expect(response.status).toBe(200);
    return (await response.json()) as { connectionId: string; connectionToken: string };
  };
  const connectUrl = (hub: string, connectionToken: string) => `${server.baseUrl}${hub}?id=${encodeURIComponent(connectionToken)}`;

  beforeAll(async () => {
    server = await startHubApp([OpenHub, PrivateHub, AdminsHub, HubCodeRuns, NotBannedPolicy], {
      authStrategies: ['jwt'],
      negotiateTokenLifetimeMs: 400,
    }, { imports: [TestAuthModule] });
    jwt = server.app.get(JwtService);
    runs = server.app.get(HubCodeRuns);
  });

  beforeEach(() => {
    runs.count = 0;
  });

  afterAll(() => server.close());

  it('answers with a public id and a sealed token that reveals neither id nor user', async () => {
    const { connectionId, connectionToken } = await negotiate('/hubs/open', bearer('alice'));
    expect(connectionId).toMatch(/^[A-Za-z0-9_-]{22}$/);
    const decoded = Buffer.from(connectionToken, 'base64url').toString('latin1');
    expect(decoded).not.toContain(connectionId);
    expect(decoded).not.toContain('alice');
    expect(connectionToken).not.toContain(connectionId);
  });

  it('404 for a tampered token (every position), before any hub code', async () => {
    const { connectionToken } = await negotiate('/hubs/open');
    for (const position of [0, 5, Math.floor(connectionToken.length / 2), connectionToken.length - 1]) {
      const flipped = connectionToken[position] === 'A' ? 'B' : 'A';
      const tampered = connectionToken.slice(0, position) + flipped + connectionToken.slice(position + 1);
      expect(await upgradeStatus(connectUrl('/hubs/open', tampered))).toEqual({ status: 404, body: 'No Connection with that ID' });
    }
    expect(runs.count).toBe(0);
  });

  it('404 for truncated, re-encoded and cross-purpose tokens', async () => {
    // A token with neither '-' nor '_' (and no padding due) reads the same in standard base64: take one that does not.
    let { connectionToken } = await negotiate('/hubs/open');
    while (reEncoded(connectionToken) === connectionToken) ({ connectionToken } = await negotiate('/hubs/open'));
    const standardBase64 = reEncoded(connectionToken);
    const sameKeysOtherPurpose = server.app.get(TokenService).seal('nestjs-signalr/groups-token', { c: 'x', u: null, h: '/hubs/open', t: Date.now() });
    for (const token of [connectionToken.slice(0, -4), `${connectionToken}==`, standardBase64, sameKeysOtherPurpose, '', 'x'.repeat(5000)]) {
      expect((await upgradeStatus(connectUrl('/hubs/open', token))).status).toBe(404);
    }
    expect(runs.count).toBe(0);
  });

  it('404 for a token negotiated on another hub', async () => {
    const { connectionToken } = await negotiate('/hubs/private', bearer('alice'));
    expect((await upgradeStatus(connectUrl('/hubs/open', connectionToken), bearer('alice'))).status).toBe(404);
  });

  it("403 for alice's token presented with bob's credential", async () => {
    const { connectionToken } = await negotiate('/hubs/private', bearer('alice'));
    const refused = await upgradeStatus(connectUrl('/hubs/private', connectionToken), bearer('bob'));
    expect(refused.status).toBe(403);
    expect(refused.body).toContain(IDENTITY_CHANGED);
    expect(runs.count).toBe(0);
  });

  it("403 for alice's token used anonymously, and for an anonymous token used by alice", async () => {
    const alices = await negotiate('/hubs/open', bearer('alice'));
    const anonymousUse = await upgradeStatus(connectUrl('/hubs/open', alices.connectionToken));
    expect(anonymousUse.status).toBe(403);
    expect(anonymousUse.body).toContain(IDENTITY_CHANGED);
    const anonymous = await negotiate('/hubs/open');
    expect((await upgradeStatus(connectUrl('/hubs/open', anonymous.connectionToken), bearer('alice'))).status).toBe(403);
    expect(runs.count).toBe(0);
  });

  it('409 for a second socket on a live token, 404 once its connection ended', async () => {
    const { connectionToken } = await negotiate('/hubs/open', bearer('alice'));
    const first = await RawHubSocket.open(connectUrl('/hubs/open', connectionToken).split('?')[0], connectionToken, bearer('alice'));
    expect((await upgradeStatus(connectUrl('/hubs/open', connectionToken), bearer('alice'))).status).toBe(409);
    first.socket.close();
    await first.closed;
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect((await upgradeStatus(connectUrl('/hubs/open', connectionToken), bearer('alice'))).status).toBe(404);
  });

  it('404 for a token nobody used before it expired', async () => {
    const { connectionToken } = await negotiate('/hubs/open');
    await new Promise((resolve) => setTimeout(resolve, 450));
    expect((await upgradeStatus(connectUrl('/hubs/open', connectionToken))).status).toBe(404);
  });

  it('a token sealed by another key ring is unknown', async () => {
    const foreign = new TokenService([TokenService.generateKey()]).seal('nestjs-signalr/connection-token', {
      c: 'AAAAAAAAAAAAAAAAAAAAAA',
      u: null,
      h: '/hubs/open',
      t: Date.now(),
    });
    expect((await upgradeStatus(connectUrl('/hubs/open', foreign))).status).toBe(404);
  });
});
