import type { IncomingMessage } from 'node:http';

export interface Authentication {
  /** `undefined` for an anonymous request. */
  readonly user: unknown;
  readonly info: unknown;
}

type PassportCallback = (error: unknown, user: unknown, info: unknown) => void;
/** Where Passport keeps its strategies by name: underscored (its types omit it), yet where it has been since Passport 0.1. */
const STRATEGY_REGISTRY = '_strategies';

interface PassportLike {
  readonly [STRATEGY_REGISTRY]: Readonly<Record<string, unknown>>;
  authenticate(
    strategies: string | string[],
    callback: PassportCallback,
  ): (request: IncomingMessage, response: unknown, next: (error?: unknown) => void) => void;
}

/**
 * Runs the application's own Passport strategies (registered through @nestjs/passport) on a
 * raw request, so the negotiate request and the WebSocket upgrade, which no Nest guard sees,
 * are authenticated like any route. A request no strategy accepts is anonymous; whether that
 * is enough is for authorization to say.
 */
export class PassportAuthenticator {
  private constructor(
    private readonly passport: PassportLike,
    private readonly strategies: string[],
  ) {}

  static async create(strategies: string[]): Promise<PassportAuthenticator> {
    let passport: PassportLike;
    try {
      passport = ((await import('passport')) as unknown as { default: PassportLike }).default;
    } catch {
      throw new Error("nestjs-signalr: 'authStrategies' needs the 'passport' and '@nestjs/passport' packages installed.");
    }
    return new PassportAuthenticator(passport, strategies);
  }

  /**
   * The configured strategies Passport has no strategy registered under, and the names it has;
   * asked once every provider (a `PassportStrategy` registers itself when built) exists.
   */
  unregisteredStrategies(): { unregistered: string[]; registered: string[] } {
    const registry = this.passport[STRATEGY_REGISTRY];
    const unregistered = this.strategies.filter((name) => !Object.hasOwn(registry, name));
    // Passport registers 'session' itself; it is never what an application meant.
    const registered = Object.keys(registry).filter((name) => name !== 'session');
    return { unregistered, registered };
  }

  authenticate(request: IncomingMessage): Promise<Authentication> {
    return new Promise((resolve, reject) => {
      const callback: PassportCallback = (error, user, info) => {
        if (error) reject(error);
        else resolve({ user: user || undefined, info });
      };
      // There is no response for an upgrade, and with a callback Passport never writes one, nor
      // logs the user into a session (its `session` option is read only without a callback).
      const middleware = this.passport.authenticate(this.strategies, callback);
      middleware(request, {}, (error?: unknown) => (error ? reject(error) : resolve({ user: undefined, info: undefined })));
    });
  }
}
