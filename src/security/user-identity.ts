import { callback, type OptionRules } from '../options/option-rules.js';
/** How the module reads an authenticated user; every function can be replaced in the options. */
export interface UserIdentityOptions {
  /**
   * The key that `clients.user(...)` addresses and that connection tokens are bound to.
   * @default `sub`, then `id`, then `username` of the user object
   */
  userIdentifier?: (user: unknown) => string | undefined;
  /**
   * Roles checked by `@Authorize({ roles })`.
   * @default `roles` (array of strings) or `role` (string) of the user object
   */
  userRoles?: (user: unknown) => readonly string[];
  /**
   * When the credential stops being valid (epoch milliseconds, or a Date).
   * @default `exp` of the user object, read as JWT seconds
   */
  credentialExpiresAt?: (user: unknown, info: unknown) => number | Date | undefined;
}

export const USER_IDENTITY_OPTION_RULES: OptionRules<UserIdentityOptions> = {
  userIdentifier: callback,
  userRoles: callback,
  credentialExpiresAt: callback,
};

const field = (user: unknown, name: string): unknown =>
  typeof user === 'object' && user !== null ? (user as Record<string, unknown>)[name] : undefined;

export function defaultUserIdentifier(user: unknown): string | undefined {
  for (const name of ['sub', 'id', 'username']) {
    const value = field(user, name);
    if (typeof value === 'string' && value !== '') return value;
    if (Number.isFinite(value)) return String(value);
  }
  return undefined;
}

export function defaultUserRoles(user: unknown): readonly string[] {
  const roles = field(user, 'roles');
  if (Array.isArray(roles)) return roles.filter((role): role is string => typeof role === 'string');
  const role = field(user, 'role');
  return typeof role === 'string' ? [role] : [];
}

export function defaultCredentialExpiresAt(user: unknown): number | undefined {
  const exp = field(user, 'exp');
  return typeof exp === 'number' && Number.isFinite(exp) ? exp * 1000 : undefined;
}

/** The identity functions with defaults filled in, and expiry normalized to epoch milliseconds. */
export class UserIdentity {
  readonly identifierOf: (user: unknown) => string | undefined;
  readonly rolesOf: (user: unknown) => readonly string[];
  private readonly expiresAt: (user: unknown, info: unknown) => number | Date | undefined;

  constructor(options: UserIdentityOptions) {
    this.identifierOf = options.userIdentifier ?? defaultUserIdentifier;
    this.rolesOf = options.userRoles ?? defaultUserRoles;
    this.expiresAt = options.credentialExpiresAt ?? defaultCredentialExpiresAt;
  }

  expiryOf(user: unknown, info: unknown): number | undefined {
    const value = this.expiresAt(user, info);
    return value instanceof Date ? value.getTime() : value;
  }
}
