import { JwtService } from '@nestjs/jwt';
import { Test } from '@nestjs/testing';
import { createServer, type IncomingMessage } from 'node:http';
import passport from 'passport';
import { ExtractJwt, Strategy as JwtStrategy } from 'passport-jwt';
import { Strategy as PassportStrategyBase } from 'passport-strategy';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { SignalRModuleOptions } from '../../src/options/signalr-module-options.js';
import { SIGNALR_MODULE_OPTIONS } from '../../src/signalr.module-definition.js';
import { Authorize } from '../../src/security/authorize.decorator.js';
import { HubAuthorizer } from '../../src/security/hub-authorizer.js';
import { HubGatekeeper } from '../../src/security/hub-gatekeeper.js';
import { HostPolicy } from '../../src/security/host-policy.js';
import { OriginPolicy } from '../../src/security/origin-policy.js';
import { PassportAuthenticator } from '../../src/security/passport-authenticator.js';
import { TransportSecurity } from '../../src/security/transport-security.js';
import { CapturingLogger } from '../support/capturing-logger.js';
import { judgeRealRequest } from '../support/real-request.js';

const SECRET = 'gatekeeper-spec-secret-0123456789abcdef';
const STRATEGY = 'gatekeeper-spec-jwt';
const ALLOWED = 'https://app.example.test';
const FOREIGN = 'https://evil.example.test';
const hubPath = '/hubs/unit';
/** Where the gatekeeper's warnings go: the testing module makes it the application's logger. */
const log = new CapturingLogger();

/**
 * A real Passport strategy, as an application registers one: a bearer JWT whose subject decides
 * the outcome. It leaves expiry to the gatekeeper, which is what is under test.
 */
passport.use(
  STRATEGY,
  new JwtStrategy(
    { jwtFromRequest: ExtractJwt.fromAuthHeaderAsBearerToken(), secretOrKey: SECRET, ignoreExpiration: true },
    (payload: { sub?: string }, done: (error: unknown, user?: unknown) => void) => {
      if (payload.sub === 'store-down') done(new Error('the user store is down'));
      else if (payload.sub === 'banned') done(null, false);
      else done(null, payload);
    },
  ),
);
/** A strategy whose code throws what is not an Error at all: still a failure, never a crash of the gatekeeper. */
class ThrowingNothingStrategy extends PassportStrategyBase {
  name = 'gatekeeper-spec-throws-nothing';

  override authenticate(): void {
    throw undefined;
  }
}
passport.use(new ThrowingNothingStrategy());
const jwt = new JwtService({ secret: SECRET });
const UNAUTHORIZED = { admitted: false, status: 401, body: 'Unauthorized', headers: { 'WWW-Authenticate': 'Bearer' } };
const FORBIDDEN = { admitted: false, status: 403, body: 'Forbidden', headers: {} };
const bearer = (claims: Record<string, unknown>) => ({ Authorization: `Bearer ${jwt.sign(claims)}` });

class OpenHub {}

@Authorize()
class PrivateHub {}

@Authorize({ roles: ['admin'] })
class AdminsHub {}

async function gatekeeperOf(hubClass: Function, options: SignalRModuleOptions = {}): Promise<HubGatekeeper> {
  const module = await Test.createTestingModule({ providers: [HubAuthorizer, { provide: SIGNALR_MODULE_OPTIONS, useValue: options }] })
    .setLogger(log)
    .compile();
  return new HubGatekeeper({
    hubClass,
    hubPath,
    transport: new TransportSecurity(options),
    hosts: new HostPolicy(options),
    origins: new OriginPolicy(options),
    authenticator: options.authStrategies ? await PassportAuthenticator.create([...options.authStrategies]) : undefined,
    authorizer: module.get(HubAuthorizer),
  });
}

/** Sends one real request over loopback and asks the gatekeeper about it while its socket is open. */
function ask<T>(headers: Record<string, string>, judge: (request: IncomingMessage) => T | Promise<T>, method = 'POST', path = `${hubPath}/negotiate`) {
  return judgeRealRequest(createServer(), 'http', { method, path, headers }, judge);
}

beforeEach(() => log.lines.splice(0));

describe('HubGatekeeper.admit: transport and Origin', () => {
  it('admits an anonymous request to an open hub, with its peer address and no CORS headers', async () => {
    const gatekeeper = await gatekeeperOf(OpenHub);
    expect(await ask({}, (request) => gatekeeper.admit(request))).toEqual({
      admitted: true,
      user: undefined,
      userKey: undefined,
      address: '127.0.0.1',
      expiresAt: undefined,
      corsHeaders: {},
    });
  });

  it('reports the client address a trusted proxy forwarded', async () => {
    const gatekeeper = await gatekeeperOf(OpenHub, { trustedProxies: ['127.0.0.1'] });
    const admission = await ask({ 'X-Forwarded-For': '198.51.100.1, 203.0.113.7' }, (request) => gatekeeper.admit(request));
    expect(admission).toMatchObject({ admitted: true, address: '203.0.113.7' });
  });

  it('refuses plain text relayed by a trusted proxy when secure transport is required: 403', async () => {
    const gatekeeper = await gatekeeperOf(OpenHub, { requireSecureTransport: true, trustedProxies: ['127.0.0.1'] });
    expect(await ask({ 'X-Forwarded-Proto': 'http' }, (request) => gatekeeper.admit(request))).toEqual({
      admitted: false,
      status: 403,
      body: 'A secure connection (HTTPS) is required.',
      headers: {},
    });
    expect(await ask({ 'X-Forwarded-Proto': 'https' }, (request) => gatekeeper.admit(request))).toMatchObject({ admitted: true });
  });

  it('admits the same origin without CORS headers, and an allowed cross origin with them', async () => {
    const gatekeeper = await gatekeeperOf(OpenHub, { allowedOrigins: [ALLOWED] });
    const sameOrigin = await ask({ Host: 'chat.example.test', Origin: 'http://chat.example.test' }, (request) => gatekeeper.admit(request));
    expect(sameOrigin).toMatchObject({ admitted: true, corsHeaders: {} });
    expect(await ask({ Origin: ALLOWED }, (request) => gatekeeper.admit(request))).toMatchObject({
      admitted: true,
      corsHeaders: { 'Access-Control-Allow-Origin': ALLOWED, 'Access-Control-Allow-Credentials': 'true', Vary: 'Origin' },
    });
  });

  it('refuses a foreign Origin with 403 before any strategy runs, and logs why with the URL redacted', async () => {
    const gatekeeper = await gatekeeperOf(OpenHub, { allowedOrigins: [ALLOWED], authStrategies: [STRATEGY] });
    const path = `${hubPath}/negotiate?access_token=secret-token&negotiateVersion=1`;
    const refusal = await ask({ Origin: FOREIGN, ...bearer({ sub: 'store-down' }) }, (request) => gatekeeper.admit(request), 'POST', path);
    expect(refusal).toEqual(FORBIDDEN);
    expect(log.text()).toContain(
      `Refused POST ${hubPath}/negotiate?access_token=[redacted]&negotiateVersion=1 with 403: origin refused: Origin ${FOREIGN} is not allowed.`,
    );
    expect(log.text()).not.toContain('secret-token');
  });
});

describe('HubGatekeeper.admit: Passport and @Authorize', () => {
  it('admits the user a strategy accepts, with its key and the expiry of its credential', async () => {
    const gatekeeper = await gatekeeperOf(PrivateHub, { authStrategies: [STRATEGY] });
    const exp = Math.floor(Date.now() / 1000) + 600;
    const admission = await ask(bearer({ sub: 'alice', roles: ['user'], exp }), (request) => gatekeeper.admit(request));
    expect(admission).toMatchObject({ admitted: true, user: { sub: 'alice', roles: ['user'] }, userKey: 'alice', expiresAt: exp * 1000 });
  });

  it('treats a request every strategy refuses as anonymous: admitted to an open hub, 401 at an @Authorize hub', async () => {
    const open = await gatekeeperOf(OpenHub, { authStrategies: [STRATEGY] });
    const authorized = await gatekeeperOf(PrivateHub, { authStrategies: [STRATEGY] });
    for (const headers of [{}, bearer({ sub: 'banned' }), { Authorization: 'Bearer not-a-token' }]) {
      expect(await ask(headers, (request) => open.admit(request))).toMatchObject({ admitted: true, user: undefined, userKey: undefined });
      expect(await ask(headers, (request) => authorized.admit(request))).toEqual(UNAUTHORIZED);
    }
    expect(log.text()).toContain(`Refused POST ${hubPath}/negotiate with 401: no identity`);
  });

  it('asks the identity options nothing about an anonymous request, so options written for users need not expect none', async () => {
    const ofUser = { name: (user: unknown) => (user as { name: string }).name, exp: (user: unknown) => (user as { exp: number }).exp * 1000 };
    const gatekeeper = await gatekeeperOf(OpenHub, { authStrategies: [STRATEGY], userIdentifier: ofUser.name, credentialExpiresAt: ofUser.exp });
    expect(await ask({}, (request) => gatekeeper.admit(request))).toMatchObject({ admitted: true, user: undefined, userKey: undefined, expiresAt: undefined });
  });

  it('answers 500 when a strategy throws what is not an Error', async () => {
    const gatekeeper = await gatekeeperOf(OpenHub, { authStrategies: ['gatekeeper-spec-throws-nothing'] });
    expect(await ask({}, (request) => gatekeeper.admit(request))).toEqual({ admitted: false, status: 500, body: 'Internal Server Error', headers: {} });
    expect(log.text()).toContain(`Authentication failed on ${hubPath}/negotiate`);
  });

  it('answers 500 when a strategy throws, with the CORS headers an allowed origin is owed', async () => {
    const gatekeeper = await gatekeeperOf(OpenHub, { authStrategies: [STRATEGY], allowedOrigins: [ALLOWED] });
    const refusal = await ask({ Origin: ALLOWED, ...bearer({ sub: 'store-down' }) }, (request) => gatekeeper.admit(request));
    expect(refusal).toEqual({
      admitted: false,
      status: 500,
      body: 'Internal Server Error',
      headers: { 'Access-Control-Allow-Origin': ALLOWED, 'Access-Control-Allow-Credentials': 'true', Vary: 'Origin' },
    });
    expect(log.text()).toContain(`Authentication failed on ${hubPath}/negotiate`);
  });

  it("refuses a user without the hub's role with 403, and admits one with it", async () => {
    const gatekeeper = await gatekeeperOf(AdminsHub, { authStrategies: [STRATEGY] });
    expect(await ask(bearer({ sub: 'bob', roles: ['user'] }), (request) => gatekeeper.admit(request))).toEqual(FORBIDDEN);
    expect(log.text()).toContain(`Refused POST ${hubPath}/negotiate with 403: hub authorization refused`);
    expect(await ask(bearer({ sub: 'carol', roles: ['admin'] }), (request) => gatekeeper.admit(request))).toMatchObject({
      admitted: true,
      userKey: 'carol',
    });
  });

  it('refuses an expired credential with 401, even at an open hub', async () => {
    const gatekeeper = await gatekeeperOf(OpenHub, { authStrategies: [STRATEGY] });
    const expired = bearer({ sub: 'alice', exp: Math.floor(Date.now() / 1000) - 10 });
    expect(await ask(expired, (request) => gatekeeper.admit(request))).toEqual(UNAUTHORIZED);
    expect(log.text()).toContain(`Refused POST ${hubPath}/negotiate with 401: credential expired`);
  });

  describe('at the very millisecond a credential expires', () => {
    afterEach(() => vi.useRealTimers());

    it('refuses it: a credential is valid only before its expiry', async () => {
      const gatekeeper = await gatekeeperOf(OpenHub, { authStrategies: [STRATEGY] });
      const exp = Math.floor(Date.now() / 1000) + 600;
      const credential = bearer({ sub: 'alice', exp });
      // Only the clock the gatekeeper reads stands still; sockets and timers run as ever.
      vi.useFakeTimers({ toFake: ['Date'] });
      vi.setSystemTime(exp * 1000);
      expect(await ask(credential, (request) => gatekeeper.admit(request))).toEqual(UNAUTHORIZED);
      vi.setSystemTime(exp * 1000 - 1);
      expect(await ask(credential, (request) => gatekeeper.admit(request))).toMatchObject({ admitted: true, userKey: 'alice' });
    });
  });

  it('refuses with 500 a user it cannot identify, rather than bind a token to nobody', async () => {
    const gatekeeper = await gatekeeperOf(OpenHub, { authStrategies: [STRATEGY] });
    expect(await ask(bearer({ name: 'no identifier' }), (request) => gatekeeper.admit(request))).toEqual({
      admitted: false,
      status: 500,
      body: 'Internal Server Error',
      headers: {},
    });
    expect(log.text()).toContain('An authenticated user has no identifier: set the userIdentifier option.');
  });
});

describe('HubGatekeeper.preflight', () => {
  const preflightHeaders = { 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'authorization, x-unknown' };

  it('permits an allowed cross origin, with only the request headers the client may send', async () => {
    const gatekeeper = await gatekeeperOf(OpenHub, { allowedOrigins: [ALLOWED] });
    expect(await ask({ Origin: ALLOWED, ...preflightHeaders }, (request) => gatekeeper.preflight(request), 'OPTIONS')).toEqual({
      'Access-Control-Allow-Origin': ALLOWED,
      'Access-Control-Allow-Credentials': 'true',
      'Access-Control-Allow-Methods': 'GET, POST, DELETE, OPTIONS',
      'Access-Control-Allow-Headers': 'Authorization',
      'Access-Control-Max-Age': '600',
      Vary: 'Origin, Access-Control-Request-Headers',
    });
  });

  it('refuses a foreign origin, and a preflight with no cross origin to permit, with 403', async () => {
    const gatekeeper = await gatekeeperOf(OpenHub, { allowedOrigins: [ALLOWED] });
    expect(await ask({ Origin: FOREIGN, ...preflightHeaders }, (request) => gatekeeper.preflight(request), 'OPTIONS')).toEqual(FORBIDDEN);
    expect(await ask(preflightHeaders, (request) => gatekeeper.preflight(request), 'OPTIONS')).toEqual(FORBIDDEN);
    expect(log.text()).toContain(`Refused OPTIONS ${hubPath}/negotiate with 403: preflight from a foreign origin`);
    const sameOrigin = { Host: 'chat.example.test', Origin: 'http://chat.example.test', ...preflightHeaders };
    expect(await ask(sameOrigin, (request) => gatekeeper.preflight(request), 'OPTIONS')).toEqual(FORBIDDEN);
  });
});
