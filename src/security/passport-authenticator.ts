import type { IncomingMessage } from 'node:http';

export interface Authentication {
  /** `undefined` for an anonymous request. */
  readonly user: unknown;
  readonly info: unknown;
}

type PassportCallback = (error: unknown, user: unknown, info: unknown) => void;
interface PassportLike {
  authenticate(
    strategies: string | string[],
    options: { session: boolean },
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
      passport = ((await import('passport')) as { default: PassportLike }).default;
    } catch {
      throw new Error("nestjs-signalr: 'authStrategies' needs the 'passport' and '@nestjs/passport' packages installed.");
    }
    return new PassportAuthenticator(passport, strategies);
  }

  authenticate(request: IncomingMessage): Promise<Authentication> {
    return new Promise((resolve, reject) => {
      const callback: PassportCallback = (error, user, info) => {
        if (error) reject(error);
        else resolve({ user: user || undefined, info });
      };
      // There is no response for an upgrade, and with a callback Passport never writes one.
      const middleware = this.passport.authenticate(this.strategies, { session: false }, callback);
      middleware(request, {}, (error?: unknown) => (error ? reject(error) : resolve({ user: undefined, info: undefined })));
    });
  }
}
