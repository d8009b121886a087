import { Injectable } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { describe, expect, it } from 'vitest';
import type { SignalRModuleOptions } from '../../src/options/signalr-module-options.js';
import { AllowAnonymous, Authorize, type AuthorizationContext, type AuthorizationPolicy } from '../../src/security/authorize.decorator.js';
import { HubAuthorizer } from '../../src/security/hub-authorizer.js';
import { SIGNALR_MODULE_OPTIONS } from '../../src/signalr.module-definition.js';

const hubPath = '/hubs/unit';
const atConnect: AuthorizationContext = { hubPath, method: undefined };
const alice = { sub: 'alice', roles: ['user'] };

/** A policy provider with a dependency, as an application writes one. */
@Injectable()
class Allowlist {
  readonly users = new Set(['alice']);
}

@Injectable()
class AllowlistPolicy implements AuthorizationPolicy {
  constructor(private readonly allowlist: Allowlist) {}

  isAllowed(user: unknown): boolean {
    return this.allowlist.users.has((user as { sub: string }).sub);
  }
}

/** A policy no module provides: created directly, once. */
class NotMalloryPolicy implements AuthorizationPolicy {
  static created = 0;

  constructor() {
    NotMalloryPolicy.created++;
  }

  isAllowed(user: unknown): boolean {
    return (user as { sub: string }).sub !== 'mallory';
  }
}

class OpenHub {
  open(): void {}

  @Authorize()
  authenticated(): void {}

  @Authorize({ roles: [] })
  emptyRoles(): void {}

  @Authorize({ users: ['alice'] })
  aliceOnly(): void {}

  @Authorize({ policy: (_user, context) => (context.method === 'echo' ? true : ('yes' as unknown as boolean)) })
  truthyIsNotTrue(): void {}

  @AllowAnonymous()
  anonymousAllowed(): void {}
}

@Authorize({ roles: ['admin', 'user'] })
class RolesHub {
  @Authorize({ policy: AllowlistPolicy })
  allowlisted(): void {}

  @Authorize({ policy: NotMalloryPolicy })
  notMallory(): void {}
}

@AllowAnonymous()
class LobbyHub {
  open(): void {}
}

class StrictHub {
  open(): void {}
}

class FoyerBase {
  @AllowAnonymous()
  ping(): void {}
}

/** Its @AllowAnonymous method is inherited. */
class FoyerHub extends FoyerBase {
  members(): void {}
}

@Authorize()
class GuardedHub {
  @AllowAnonymous()
  hello(): void {}
}

async function authorizerWith(options: SignalRModuleOptions = {}): Promise<HubAuthorizer> {
  const module = await Test.createTestingModule({
    providers: [HubAuthorizer, Allowlist, AllowlistPolicy, { provide: SIGNALR_MODULE_OPTIONS, useValue: options }],
  }).compile();
  return module.get(HubAuthorizer);
}

describe('HubAuthorizer', () => {
  it('allows anyone where nothing is required, and demands an identity where @Authorize is', async () => {
    const authorizer = await authorizerWith();
    expect(await authorizer.authorizeHub(OpenHub, undefined, hubPath)).toBe('allowed');
    expect(await authorizer.authorizeMethod(OpenHub, OpenHub.prototype.open, undefined, atConnect)).toBe('allowed');
    for (const nobody of [undefined, null]) {
      expect(await authorizer.authorizeMethod(OpenHub, OpenHub.prototype.authenticated, nobody, atConnect)).toBe('unauthenticated');
    }
    expect(await authorizer.authorizeMethod(OpenHub, OpenHub.prototype.authenticated, alice, atConnect)).toBe('allowed');
  });

  it('reads an empty roles list as no role requirement', async () => {
    const authorizer = await authorizerWith();
    expect(await authorizer.authorizeMethod(OpenHub, OpenHub.prototype.emptyRoles, { sub: 'bob' }, atConnect)).toBe('allowed');
  });

  it('checks users by identifier, and refuses a user without one', async () => {
    const authorizer = await authorizerWith();
    const aliceOnly = OpenHub.prototype.aliceOnly;
    expect(await authorizer.authorizeMethod(OpenHub, aliceOnly, alice, atConnect)).toBe('allowed');
    expect(await authorizer.authorizeMethod(OpenHub, aliceOnly, { sub: 'bob' }, atConnect)).toBe('forbidden');
    expect(await authorizer.authorizeMethod(OpenHub, aliceOnly, { name: 'alice' }, atConnect)).toBe('forbidden');
  });

  it('allows only on a policy answering true, with the hub path and method to decide on', async () => {
    const authorizer = await authorizerWith();
    const method = OpenHub.prototype.truthyIsNotTrue;
    expect(await authorizer.authorizeMethod(OpenHub, method, alice, { hubPath, method: 'echo' })).toBe('allowed');
    expect(await authorizer.authorizeMethod(OpenHub, method, alice, { hubPath, method: 'other' })).toBe('forbidden');
  });

  it('checks hub requirements on every method, together with the method’s own', async () => {
    const authorizer = await authorizerWith();
    const allowlisted = RolesHub.prototype.allowlisted;
    expect(await authorizer.authorizeHub(RolesHub, { sub: 'bob', roles: ['guest'] }, hubPath)).toBe('forbidden');
    expect(await authorizer.authorizeHub(RolesHub, { sub: 'bob', roles: ['admin'] }, hubPath)).toBe('allowed');
    expect(await authorizer.authorizeMethod(RolesHub, allowlisted, { sub: 'alice', roles: ['guest'] }, atConnect)).toBe('forbidden');
    expect(await authorizer.authorizeMethod(RolesHub, allowlisted, { sub: 'bob', roles: ['user'] }, atConnect)).toBe('forbidden');
    expect(await authorizer.authorizeMethod(RolesHub, allowlisted, alice, atConnect)).toBe('allowed');
  });

  it("resolves a policy class from the application's providers, or creates one once when none provides it", async () => {
    const authorizer = await authorizerWith();
    const notMallory = RolesHub.prototype.notMallory;
    const created = NotMalloryPolicy.created;
    expect(await authorizer.authorizeMethod(RolesHub, notMallory, alice, atConnect)).toBe('allowed');
    expect(await authorizer.authorizeMethod(RolesHub, notMallory, { sub: 'mallory', roles: ['user'] }, atConnect)).toBe('forbidden');
    expect(NotMalloryPolicy.created).toBe(created + 1);
  });

  it('makes requireAuthentication demand an identity everywhere except where @AllowAnonymous exempts', async () => {
    const authorizer = await authorizerWith({ requireAuthentication: true });
    expect(await authorizer.authorizeHub(StrictHub, undefined, hubPath)).toBe('unauthenticated');
    expect(await authorizer.authorizeHub(StrictHub, alice, hubPath)).toBe('allowed');
    expect(await authorizer.authorizeHub(LobbyHub, undefined, hubPath)).toBe('allowed');
    expect(await authorizer.authorizeMethod(LobbyHub, LobbyHub.prototype.open, undefined, atConnect)).toBe('allowed');
    expect(await authorizer.authorizeMethod(OpenHub, OpenHub.prototype.open, undefined, atConnect)).toBe('unauthenticated');
    expect(await authorizer.authorizeMethod(OpenHub, OpenHub.prototype.anonymousAllowed, undefined, atConnect)).toBe('allowed');
  });

  it('admits anonymous connections to a hub with an @AllowAnonymous method, own or inherited, but not past its @Authorize', async () => {
    const strict = await authorizerWith({ requireAuthentication: true });
    expect(await strict.authorizeHub(OpenHub, undefined, hubPath)).toBe('allowed');
    expect(await strict.authorizeHub(FoyerHub, undefined, hubPath)).toBe('allowed');
    expect(await strict.authorizeMethod(FoyerHub, FoyerHub.prototype.ping, undefined, atConnect)).toBe('allowed');
    expect(await strict.authorizeMethod(FoyerHub, FoyerHub.prototype.members, undefined, atConnect)).toBe('unauthenticated');
    expect(await strict.authorizeHub(GuardedHub, undefined, hubPath)).toBe('unauthenticated');
    expect(await strict.authorizeMethod(GuardedHub, GuardedHub.prototype.hello, undefined, atConnect)).toBe('unauthenticated');
  });

  it('tells the dispatcher which methods need no check per invocation', async () => {
    const open = await authorizerWith();
    expect(open.allowsEveryone(OpenHub, OpenHub.prototype.open)).toBe(true);
    expect(open.allowsEveryone(OpenHub, OpenHub.prototype.authenticated)).toBe(false);
    expect(open.allowsEveryone(RolesHub, RolesHub.prototype.notMallory)).toBe(false);
    const strict = await authorizerWith({ requireAuthentication: true });
    expect(strict.allowsEveryone(OpenHub, OpenHub.prototype.open)).toBe(false);
    expect(strict.allowsEveryone(LobbyHub, LobbyHub.prototype.open)).toBe(true);
    expect(strict.allowsEveryone(OpenHub, OpenHub.prototype.anonymousAllowed)).toBe(true);
  });

  it('describes who may connect, for the start-up log', async () => {
    const open = await authorizerWith();
    const strict = await authorizerWith({ requireAuthentication: true });
    expect(open.describeHubAccess(OpenHub)).toBe('anyone');
    expect(open.describeHubAccess(RolesHub)).toBe('users meeting its @Authorize');
    expect(strict.describeHubAccess(RolesHub)).toBe('users meeting its @Authorize');
    expect(strict.describeHubAccess(StrictHub)).toBe('authenticated users (requireAuthentication)');
    expect(strict.describeHubAccess(FoyerHub)).toBe('anyone (anonymous callers only to its @AllowAnonymous methods)');
    expect(open.describeHubAccess(FoyerHub)).toBe('anyone');
    expect(strict.describeHubAccess(LobbyHub)).toBe('anyone');
  });
});
