import { HubConnectionState } from '@microsoft/signalr';
import { Injectable, type OnModuleInit } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import type { IncomingMessage } from 'node:http';
import passport from 'passport';
import { Strategy as PassportStrategyBase } from 'passport-strategy';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ClientPool } from '../support/client.js';
import { startHubApp, type RunningHubApp } from '../support/hub-app.js';
import { signFor, TestAuthModule } from '../support/jwt-auth.js';
import { negotiate, upgradeStatus } from '../support/raw-client.js';
import { AdminsHub, BanList, FoyerHub, HubCodeRuns, LobbyHub, ModeratedHub, NotBannedPolicy, NotOnBanList, OpenHub, PrivateHub } from './security-hubs.js';

const UNAUTHORIZED = (method: string) => `Failed to invoke '${method}' because user is unauthorized`;

describe('authentication (Passport) and @Authorize', () => {
  let server: RunningHubApp;
  let jwt: JwtService;
  let runs: HubCodeRuns;
  const clients = new ClientPool();
  const token = (sub: string, roles?: string[]) => signFor(jwt, sub, roles);
  const connectAs = (hub: string, sub?: string, roles?: string[]) =>
    clients.connect(`${server.baseUrl}${hub}`, sub ? { accessTokenFactory: () => token(sub, roles) } : {});
  const negotiateStatus = async (hub: string, headers: Record<string, string> = {}) =>
    (await fetch(`${server.baseUrl}${hub}/negotiate?negotiateVersion=1`, { method: 'POST', headers })).status;

  beforeAll(async () => {
    server = await startHubApp([OpenHub, PrivateHub, AdminsHub, HubCodeRuns, NotBannedPolicy], { authStrategies: ['jwt'] }, {
      imports: [TestAuthModule],
    });
    jwt = server.app.get(JwtService);
    runs = server.app.get(HubCodeRuns);
  });

  beforeEach(() => {
    runs.count = 0;
  });

  afterAll(async () => {
    await clients.stopAll();
    await server.close();
  });

  describe('hub level: checked at negotiate and at connect, before any hub code', () => {
    it('401 without identity, on negotiate and on upgrade', async () => {
      expect(await negotiateStatus('/hubs/private')).toBe(401);
      expect((await upgradeStatus(`${server.baseUrl}/hubs/private`)).status).toBe(401);
      expect(runs.count).toBe(0);
    });

    it('401 with an invalid or expired credential', async () => {
      const expired = signFor(jwt, 'alice', ['user'], -10);
      expect(await negotiateStatus('/hubs/private', { Authorization: `Bearer ${expired}` })).toBe(401);
      expect(await negotiateStatus('/hubs/private', { Authorization: 'Bearer not.a.jwt' })).toBe(401);
      expect((await upgradeStatus(`${server.baseUrl}/hubs/private?access_token=${expired}`)).status).toBe(401);
      expect(runs.count).toBe(0);
    });

    it('403 with identity but without the required role, on negotiate and on upgrade', async () => {
      const alice = token('alice');
      expect(await negotiateStatus('/hubs/admins', { Authorization: `Bearer ${alice}` })).toBe(403);
      expect((await upgradeStatus(`${server.baseUrl}/hubs/admins`, { Authorization: `Bearer ${alice}` })).status).toBe(403);
      expect(runs.count).toBe(0);
    });

    it('admits authenticated users (bearer header and access_token query alike)', async () => {
      const alice = await connectAs('/hubs/private', 'alice');
      await expect(alice.invoke('Ping')).resolves.toBe('pong');
      const viaQuery = await upgradeStatus(`${server.baseUrl}/hubs/private?access_token=${token('bob')}`);
      expect(viaQuery.status).toBe(101);
      const admin = await connectAs('/hubs/admins', 'root', ['admin']);
      expect(admin.state).toBe(HubConnectionState.Connected);
    });

    it('binds the authenticated user to the connection', async () => {
      const alice = await connectAs('/hubs/open', 'alice');
      const anonymous = await connectAs('/hubs/open');
      await expect(alice.invoke('Whoami')).resolves.toBe('alice');
      await expect(anonymous.invoke('Whoami')).resolves.toBeNull();
    });
  });

  describe('method level: only the invocation fails, the connection stays', () => {
    it('refuses anonymous callers of an @Authorize() method without running it', async () => {
      const anonymous = await connectAs('/hubs/open');
      const before = runs.count;
      await expect(anonymous.invoke('Secret')).rejects.toThrow(UNAUTHORIZED('Secret'));
      expect(runs.count).toBe(before);
      expect(anonymous.state).toBe(HubConnectionState.Connected);
      await expect(anonymous.invoke('Ping')).resolves.toBe('pong');
    });

    it('roles: any of them', async () => {
      const alice = await connectAs('/hubs/open', 'alice');
      const owner = await connectAs('/hubs/open', 'olga', ['owner']);
      await expect(alice.invoke('AdminOnly')).rejects.toThrow(UNAUTHORIZED('AdminOnly'));
      await expect(owner.invoke('AdminOnly')).resolves.toBe('admin');
    });

    it('users, function policies and injectable policies', async () => {
      const alice = await connectAs('/hubs/open', 'alice');
      const bob = await connectAs('/hubs/open', 'bob');
      const mallory = await connectAs('/hubs/open', 'mallory');
      await expect(alice.invoke('AliceOnly')).resolves.toBe('alice');
      await expect(bob.invoke('AliceOnly')).rejects.toThrow(UNAUTHORIZED('AliceOnly'));
      await expect(alice.invoke('StartsWithA')).resolves.toBe('a');
      await expect(bob.invoke('StartsWithA')).rejects.toThrow(UNAUTHORIZED('StartsWithA'));
      await expect(bob.invoke('NotBanned')).resolves.toBe('welcome');
      await expect(mallory.invoke('NotBanned')).rejects.toThrow(UNAUTHORIZED('NotBanned'));
    });

    it('several decorators: all must pass', async () => {
      const bob = await connectAs('/hubs/open', 'bob');
      const bobWithoutRole = await connectAs('/hubs/open', 'bob', []);
      const alice = await connectAs('/hubs/open', 'alice');
      await expect(bob.invoke('UserAndBob')).resolves.toBe('both');
      await expect(bobWithoutRole.invoke('UserAndBob')).rejects.toThrow(UNAUTHORIZED('UserAndBob'));
      await expect(alice.invoke('UserAndBob')).rejects.toThrow(UNAUTHORIZED('UserAndBob'));
    });
  });
});

describe('requireAuthentication', () => {
  it('makes every hub demand an identity, except one marked @AllowAnonymous, whose @Authorize methods still do', async () => {
    const server = await startHubApp([OpenHub, LobbyHub, HubCodeRuns, NotBannedPolicy], { authStrategies: ['jwt'], requireAuthentication: true }, {
      imports: [TestAuthModule],
    });
    const clients = new ClientPool();
    try {
      const response = await fetch(`${server.baseUrl}/hubs/open/negotiate?negotiateVersion=1`, { method: 'POST' });
      expect(response.status).toBe(401);
      expect((await upgradeStatus(`${server.baseUrl}/hubs/open`)).status).toBe(401);
      const anonymous = await clients.connect(`${server.baseUrl}/hubs/lobby`);
      await expect(anonymous.invoke('Ping')).resolves.toBe('pong');
      await expect(anonymous.invoke('Members')).rejects.toThrow(UNAUTHORIZED('Members'));
      const alice = await clients.connect(`${server.baseUrl}/hubs/lobby`, { accessTokenFactory: () => signFor(server.app.get(JwtService), 'alice') });
      await expect(alice.invoke('Members')).resolves.toBe('members');
    } finally {
      await clients.stopAll();
      await server.close();
    }
  });
});

describe('@AllowAnonymous on a method', () => {
  let server: RunningHubApp;
  const clients = new ClientPool();

  beforeAll(async () => {
    server = await startHubApp([OpenHub, PrivateHub, FoyerHub, HubCodeRuns, NotBannedPolicy], { authStrategies: ['jwt'], requireAuthentication: true }, {
      imports: [TestAuthModule],
    });
  });

  afterAll(async () => {
    await clients.stopAll();
    await server.close();
  });

  it('lets an anonymous connection in under requireAuthentication to call that method, and only that one', async () => {
    const anonymous = await clients.connect(`${server.baseUrl}/hubs/foyer`);
    await expect(anonymous.invoke('Ping')).resolves.toBe('pong');
    await expect(anonymous.invoke('Members')).rejects.toThrow(UNAUTHORIZED('Members'));
    expect(anonymous.state).toBe(HubConnectionState.Connected);
    const alice = await clients.connect(`${server.baseUrl}/hubs/foyer`, { accessTokenFactory: () => signFor(server.app.get(JwtService), 'alice') });
    await expect(alice.invoke('Members')).resolves.toBe('members for alice');
  });

  it("does not exempt from the hub's @Authorize: anonymous callers stay out (401)", async () => {
    const response = await fetch(`${server.baseUrl}/hubs/private/negotiate?negotiateVersion=1`, { method: 'POST' });
    expect(response.status).toBe(401);
    expect((await upgradeStatus(`${server.baseUrl}/hubs/private`)).status).toBe(401);
    const alice = await clients.connect(`${server.baseUrl}/hubs/private`, { accessTokenFactory: () => signFor(server.app.get(JwtService), 'alice') });
    await expect(alice.invoke('Hello')).resolves.toBe('hello');
  });
});

describe('hub-level @Authorize on every invocation', () => {
  it("refuses the invocations of a connected user the hub's policy no longer allows, and only theirs", async () => {
    const server = await startHubApp([ModeratedHub, BanList, NotOnBanList], { authStrategies: ['jwt'] }, { imports: [TestAuthModule] });
    const clients = new ClientPool();
    try {
      const jwt = server.app.get(JwtService);
      const connectAs = (sub: string) => clients.connect(`${server.baseUrl}/hubs/moderated`, { accessTokenFactory: () => signFor(jwt, sub) });
      const bob = await connectAs('bob');
      const carol = await connectAs('carol');
      await expect(bob.invoke('Ping')).resolves.toBe('pong');
      server.app.get(BanList).banned.add('bob');
      await expect(bob.invoke('Ping')).rejects.toThrow(UNAUTHORIZED('Ping'));
      await expect(carol.invoke('Ping')).resolves.toBe('pong');
      const response = await fetch(`${server.baseUrl}/hubs/moderated/negotiate?negotiateVersion=1`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${signFor(jwt, 'bob')}` },
      });
      expect(response.status).toBe(403);
    } finally {
      await clients.stopAll();
      await server.close();
    }
  });
});

/**
 * A strategy with the faults real ones have, chosen by a header: its user store fails, its code
 * throws, it accepts a user the module cannot identify, or a credential it did not check for expiry.
 */
class MisbehavingStrategy extends PassportStrategyBase {
  name = 'misbehaving';

  override authenticate(request: IncomingMessage): void {
    const fault = request.headers['x-fault'];
    if (fault === 'store-down') this.error(new Error('the user store is down'));
    else if (fault === 'throws') throw new Error('a bug in the strategy');
    else if (fault === 'no-identifier') this.success({ name: 'someone' });
    else if (fault === 'expired') this.success({ sub: 'alice', exp: Math.floor(Date.now() / 1000) - 60 });
    else this.fail(401);
  }
}

@Injectable()
class MisbehavingRegistration implements OnModuleInit {
  onModuleInit(): void {
    passport.use(new MisbehavingStrategy());
  }
}

describe('a misbehaving strategy fails closed', () => {
  let server: RunningHubApp;
  let runs: HubCodeRuns;
  const statuses = async (fault: string) => {
    const headers = { 'X-Fault': fault };
    const negotiated = await fetch(`${server.baseUrl}/hubs/open/negotiate?negotiateVersion=1`, { method: 'POST', headers });
    const upgraded = await upgradeStatus(`${server.baseUrl}/hubs/open`, headers);
    return [negotiated.status, upgraded.status];
  };

  beforeAll(async () => {
    server = await startHubApp([OpenHub, HubCodeRuns, NotBannedPolicy, MisbehavingRegistration], { authStrategies: ['misbehaving'] });
    runs = server.app.get(HubCodeRuns);
  });

  afterAll(() => server.close());

  it('admits an anonymous caller to the open hub: the refusals below are not about the hub', async () => {
    const { connectionToken } = await negotiate(`${server.baseUrl}/hubs/open`);
    expect((await upgradeStatus(`${server.baseUrl}/hubs/open?id=${connectionToken}`)).status).toBe(101);
  });

  it.each(['store-down', 'throws'])('answers 500, never anonymous, when the strategy fails (%s)', async (fault) => {
    const before = runs.count;
    expect(await statuses(fault)).toEqual([500, 500]);
    expect(runs.count).toBe(before);
  });

  it('answers 500 for a user without an identifier, rather than bind the connection to nobody', async () => {
    const before = runs.count;
    expect(await statuses('no-identifier')).toEqual([500, 500]);
    expect(runs.count).toBe(before);
  });

  it('refuses with 401 a credential past its expiry that the strategy let through', async () => {
    const before = runs.count;
    expect(await statuses('expired')).toEqual([401, 401]);
    expect(runs.count).toBe(before);
  });
});

/** A session-cookie strategy of the kind browsers use: the cookie rides along on the upgrade. */
class SessionCookieStrategy extends PassportStrategyBase {
  name = 'session-cookie';

  override authenticate(request: IncomingMessage): void {
    const session = /(?:^|;\s*)sid=([^;]+)/.exec(request.headers.cookie ?? '')?.[1];
    if (session === 'valid-session-of-carol') this.success({ sub: 'carol', roles: ['user'] });
    else this.fail(401);
  }
}

@Injectable()
class SessionCookieRegistration implements OnModuleInit {
  onModuleInit(): void {
    passport.use(new SessionCookieStrategy());
  }
}

describe('cookie strategies', () => {
  it('authenticate negotiate and upgrade from a session cookie', async () => {
    const server = await startHubApp([PrivateHub, HubCodeRuns, SessionCookieRegistration], { authStrategies: ['session-cookie'] });
    try {
      const hubUrl = `${server.baseUrl}/hubs/private`;
      const cookie = { Cookie: 'theme=dark; sid=valid-session-of-carol' };
      const { connectionToken } = await negotiate(hubUrl, { headers: cookie });
      expect((await upgradeStatus(`${hubUrl}?id=${connectionToken}`, cookie)).status).toBe(101);
      expect((await upgradeStatus(hubUrl, { Cookie: 'sid=forged' })).status).toBe(401);
    } finally {
      await server.close();
    }
  });
});
