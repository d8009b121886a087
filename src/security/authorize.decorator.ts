import { SetMetadata, type Type } from '@nestjs/common';

export const AUTHORIZE_METADATA = 'signalr:authorize';
export const ALLOW_ANONYMOUS_METADATA = 'signalr:allow-anonymous';

export interface AuthorizationContext {
  /** Path of the hub being connected to or invoked. */
  readonly hubPath: string;
  /** The hub method's wire name; `undefined` when a connection is being admitted. */
  readonly method: string | undefined;
}

/** A policy as a function: return true to allow. */
export type AuthorizationPolicyFunction = (user: unknown, context: AuthorizationContext) => boolean | Promise<boolean>;

/** A policy as an injectable class, resolved from the application's providers (or created). */
export interface AuthorizationPolicy {
  isAllowed(user: unknown, context: AuthorizationContext): boolean | Promise<boolean>;
}

export interface AuthorizeOptions {
  /** The user must have at least one of these roles. */
  readonly roles?: readonly string[];
  /** The user's identifier must be one of these. */
  readonly users?: readonly string[];
  readonly policy?: AuthorizationPolicyFunction | Type<AuthorizationPolicy>;
}

/**
 * Requires an authenticated user, and whatever the options add. On a hub class it is checked
 * when a connection is made (401 without identity, 403 when refused); on a method, at each
 * invocation (the invocation fails; the connection stays). Several decorators must all pass.
 */
export function Authorize(options: AuthorizeOptions = {}): ClassDecorator & MethodDecorator {
  return (target: object, _key?: string | symbol, descriptor?: PropertyDescriptor) => {
    const holder = descriptor ? (descriptor.value as object) : target;
    const existing: AuthorizeOptions[] = Reflect.getMetadata(AUTHORIZE_METADATA, holder) ?? [];
    Reflect.defineMetadata(AUTHORIZE_METADATA, [...existing, options], holder);
  };
}

/** Exempts a hub or a method from the module's `requireAuthentication`. */
export const AllowAnonymous = (): ClassDecorator & MethodDecorator => SetMetadata(ALLOW_ANONYMOUS_METADATA, true);
