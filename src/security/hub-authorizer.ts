import { Inject, Injectable, type Type } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import type { SignalRModuleOptions } from '../options/signalr-module-options.js';
import { SIGNALR_MODULE_OPTIONS } from '../signalr.module-definition.js';
import {
  ALLOW_ANONYMOUS_METADATA,
  AUTHORIZE_METADATA,
  type AuthorizationContext,
  type AuthorizationPolicy,
  type AuthorizeOptions,
} from './authorize.decorator.js';
import { UserIdentity } from './user-identity.js';

export type AuthorizationOutcome = 'allowed' | 'unauthenticated' | 'forbidden';

/** Decides `@Authorize` requirements for a hub (at connect) or a hub method (at invocation). */
@Injectable()
export class HubAuthorizer {
  readonly identity: UserIdentity;
  private readonly policies = new Map<Type<AuthorizationPolicy>, AuthorizationPolicy>();

  constructor(
    @Inject(SIGNALR_MODULE_OPTIONS) private readonly options: SignalRModuleOptions,
    private readonly moduleRef: ModuleRef,
  ) {
    this.identity = new UserIdentity(options);
  }

  /**
   * Hub-level requirements only: what a connection must meet to exist. A hub with an
   * `@AllowAnonymous()` method admits anonymous connections under `requireAuthentication`, or the
   * method could never be called anonymously; its other methods refuse them at each invocation.
   */
  authorizeHub(hubClass: Function, user: unknown, hubPath: string): Promise<AuthorizationOutcome> {
    const identityRequired = this.demandsIdentity(hubClass) && !hasAnonymousMethod(hubClass);
    return this.evaluate(requirementsOf(hubClass), identityRequired, user, { hubPath, method: undefined });
  }

  /** Hub and method requirements together, checked at every invocation of the method. */
  authorizeMethod(hubClass: Function, method: Function, user: unknown, context: AuthorizationContext): Promise<AuthorizationOutcome> {
    const requirements = [...requirementsOf(hubClass), ...requirementsOf(method)];
    return this.evaluate(requirements, this.demandsIdentity(hubClass, method), user, context);
  }

  /** True when `authorizeMethod` allows anyone, whoever calls: nothing to check per invocation. */
  allowsEveryone(hubClass: Function, method: Function): boolean {
    return requirementsOf(hubClass).length === 0 && requirementsOf(method).length === 0 && !this.demandsIdentity(hubClass, method);
  }

  /** Who may connect to the hub, in words, for the start-up log. */
  describeHubAccess(hubClass: Function): string {
    if (requirementsOf(hubClass).length > 0) return 'users meeting its @Authorize';
    if (!this.demandsIdentity(hubClass)) return 'anyone';
    return hasAnonymousMethod(hubClass)
      ? 'anyone (anonymous callers only to its @AllowAnonymous methods)'
      : 'authenticated users (requireAuthentication)';
  }

  private demandsIdentity(hubClass: Function, method?: Function): boolean {
    if (!this.options.requireAuthentication) return false;
    return !isAnonymousAllowed(hubClass) && !(method && isAnonymousAllowed(method));
  }

  private async evaluate(
    requirements: readonly AuthorizeOptions[],
    identityRequired: boolean,
    user: unknown,
    context: AuthorizationContext,
  ): Promise<AuthorizationOutcome> {
    if (requirements.length === 0 && !identityRequired) return 'allowed';
    if (user === undefined || user === null) return 'unauthenticated';
    for (const requirement of requirements) {
      if (!(await this.meets(requirement, user, context))) return 'forbidden';
    }
    return 'allowed';
  }

  private async meets(requirement: AuthorizeOptions, user: unknown, context: AuthorizationContext): Promise<boolean> {
    if (requirement.roles?.length) {
      const roles = this.identity.rolesOf(user);
      if (!requirement.roles.some((role) => roles.includes(role))) return false;
    }
    if (requirement.users?.length) {
      const identifier = this.identity.identifierOf(user);
      if (identifier === undefined || !requirement.users.includes(identifier)) return false;
    }
    if (requirement.policy) return (await this.runPolicy(requirement.policy, user, context)) === true;
    return true;
  }

  private runPolicy(policy: NonNullable<AuthorizeOptions['policy']>, user: unknown, context: AuthorizationContext) {
    if (!isPolicyClass(policy)) return policy(user, context);
    let instance = this.policies.get(policy);
    if (!instance) this.policies.set(policy, (instance = this.resolvePolicy(policy)));
    return instance.isAllowed(user, context);
  }

  private resolvePolicy(policy: Type<AuthorizationPolicy>): AuthorizationPolicy {
    try {
      return this.moduleRef.get(policy, { strict: false });
    } catch {
      // Not a provider anywhere: a policy without dependencies is fine to create directly.
      return new policy();
    }
  }
}

// Decorators have all run before the first invocation, so metadata is read once per holder
// rather than on every call (a measurable share of an invocation's cost).
const requirementsCache = new WeakMap<Function, readonly AuthorizeOptions[]>();
const anonymousCache = new WeakMap<Function, boolean>();
const anonymousMethodCache = new WeakMap<Function, boolean>();

function requirementsOf(holder: Function): readonly AuthorizeOptions[] {
  return requirementsCache.get(holder) ?? remember(requirementsCache, holder, Reflect.getMetadata(AUTHORIZE_METADATA, holder) ?? []);
}

function isAnonymousAllowed(holder: Function): boolean {
  return anonymousCache.get(holder) ?? remember(anonymousCache, holder, Reflect.getMetadata(ALLOW_ANONYMOUS_METADATA, holder) === true);
}

/** Whether a method of the hub, its own or inherited, is marked `@AllowAnonymous()`. */
function hasAnonymousMethod(hubClass: Function): boolean {
  return anonymousMethodCache.get(hubClass) ?? remember(anonymousMethodCache, hubClass, anonymousMethodIn(hubClass.prototype as object));
}

function remember<T>(cache: WeakMap<Function, T>, holder: Function, value: T): T {
  cache.set(holder, value);
  return value;
}

function anonymousMethodIn(prototype: object): boolean {
  for (let proto: object | null = prototype; proto !== null; proto = Object.getPrototypeOf(proto) as object | null) {
    for (const name of Object.getOwnPropertyNames(proto)) {
      const { value } = Object.getOwnPropertyDescriptor(proto, name)!;
      if (typeof value === 'function' && isAnonymousAllowed(value as Function)) return true;
    }
  }
  return false;
}

function isPolicyClass(policy: NonNullable<AuthorizeOptions['policy']>): policy is Type<AuthorizationPolicy> {
  // A class has a prototype; an arrow function (the usual function policy) has none.
  return typeof (policy.prototype as Partial<AuthorizationPolicy> | undefined)?.isAllowed === 'function';
}
