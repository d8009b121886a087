/** What the application's refresh policy is told: ASP.NET Core's `AuthenticationRefreshContext`. */
export interface AuthenticationRefreshContext {
  readonly hubPath: string;
  readonly connectionId: string;
  readonly previousUser: unknown;
  readonly newUser: unknown;
  /** Undefined: the new credential does not expire. */
  readonly newExpiration: Date | undefined;
}

/** Returns whether the refresh may go on; it can only refuse what the built-in checks accepted. */
export type AuthenticationRefreshPolicy = (context: AuthenticationRefreshContext) => boolean | Promise<boolean>;
