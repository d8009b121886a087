import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Hub, SignalRModule, type SignalRModuleOptions } from 'nestjs-signalr';
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { SignalRErrorCode } from '../../src/errors/signalr-error-codes.js';
import { checkModuleOptions } from '../../src/module-options-check.js';
import { MAX_TIMER_MS } from '../../src/options/option-rules.js';

/** The problems `checkModuleOptions` lists for `options`, one per line, without the error's frame. */
function problemsOf(options: unknown): string[] {
  try {
    checkModuleOptions(options);
    return [];
  } catch (error) {
    expect(error).toMatchObject({ name: 'SignalRError', code: SignalRErrorCode.InvalidOption });
    return (error as Error).message
      .split('\n')
      .filter((line) => line.startsWith('  - '))
      .map((line) => line.slice(4));
  }
}

const KEY = randomBytes(32);

describe('checkModuleOptions: the options of SignalRModule.forRoot, checked whole at start-up', () => {
  it('accepts none, and a full set of good ones, returning them as given', () => {
    expect(checkModuleOptions(undefined)).toBeUndefined();
    const options: SignalRModuleOptions = {
      keys: [KEY, randomBytes(32).toString('base64')],
      authStrategies: ['jwt'],
      keepAliveIntervalMs: 10_000,
      clientTimeoutIntervalMs: 20_000,
      allowedHosts: ['localhost:*', 'chat.example.test'],
      allowedOrigins: ['https://app.example.test'],
      trustedProxies: ['10.0.0.1'],
      exposeRequestCredentials: ['cookies'],
      proxies: { unknownGuards: 'list' },
      validation: false,
      canRejoin: () => true,
      maximumConnections: 100,
      telemetry: { invocationDuration: false, invocationSpans: 'propagated' },
    };
    expect(checkModuleOptions(options)).toBe(options);
  });

  it('names an unknown option and the option it most likely means', () => {
    expect(problemsOf({ keepAliveInterval: 15_000 })).toEqual(["'keepAliveInterval' is not an option: did you mean 'keepAliveIntervalMs'?"]);
    expect(problemsOf({ allowedorigins: [] })).toEqual(["'allowedorigins' is not an option: did you mean 'allowedOrigins'?"]);
    expect(problemsOf({ somethingElse: true })).toEqual(["'somethingElse' is not an option"]);
    expect(problemsOf({ proxies: { unknownGuard: 'list' } })).toEqual(["'proxies' 'unknownGuard' is not an option: did you mean 'unknownGuards'?"]);
  });

  it('refuses a value of the wrong type, showing a string quoted', () => {
    expect(problemsOf({ keepAliveIntervalMs: '15000' })).toEqual([
      `'keepAliveIntervalMs' must be an integer number of milliseconds from 1 to ${MAX_TIMER_MS}, got "15000" (a string)`,
    ]);
    expect(problemsOf({ requireAuthentication: 'yes' })).toEqual([`'requireAuthentication' must be true or false, got "yes" (a string)`]);
    expect(problemsOf({ userIdentifier: 'sub' })).toEqual([`'userIdentifier' must be a function, got "sub" (a string)`]);
    expect(problemsOf({ validation: true })).toEqual([`'validation' must be false or ValidationPipe options, got true`]);
    expect(problemsOf({ proxies: { unknownGuards: 'show' } })).toEqual([`'proxies' 'unknownGuards' must be "hide" or "list", got "show" (a string)`]);
    expect(problemsOf({ telemetry: { invocationSpans: true } })).toEqual([`'telemetry' 'invocationSpans' must be "all" or "propagated" or "none", got true`]);
    expect(problemsOf({ telemetry: false })).toEqual([]);
  });

  it('refuses a lone string where a list is expected, with the brackets it lacks', () => {
    expect(problemsOf({ authStrategies: 'jwt' })).toEqual([`'authStrategies' must be an array of Passport strategy names, got "jwt" (a string) (write ["jwt"])`]);
    const key = KEY.toString('base64');
    expect(problemsOf({ keys: key })).toEqual([`'keys' must be an array of 32-byte keys, got ${JSON.stringify(key)} (a string) (write [${JSON.stringify(key)}])`]);
  });

  it('says an undefined key is likely an unset environment variable, and how to make a key', () => {
    expect(problemsOf({ keys: [process.env.SIGNALR_KEY_THAT_IS_NOT_SET] })).toEqual([
      `'keys' entry 0 is undefined (an unset environment variable?); make a key with: node -e "console.log(require('crypto').randomBytes(32).toString('base64'))"`,
    ]);
  });

  it.each([
    ['keepAliveIntervalMs', 0],
    ['keepAliveIntervalMs', 1.5],
    ['keepAliveIntervalMs', MAX_TIMER_MS + 1],
    ['negotiateTokenLifetimeMs', -1],
    ['maximumReceiveMessageSize', Number.POSITIVE_INFINITY],
    ['maximumConnections', 0],
  ])('refuses %s: %s, out of its range', (option, value) => {
    expect(problemsOf({ [option]: value })).toEqual([expect.stringMatching(new RegExp(`^'${option}' must be an integer number of \\w+ from 1 to \\d+, got ${value}$`))]);
  });

  it('refuses entries a list cannot hold, each by its position', () => {
    expect(problemsOf({ allowedHosts: ['localhost', 'https://chat.example.test'], trustedProxies: ['proxy.local'] })).toEqual([
      expect.stringMatching(/^'allowedHosts' entry 1 is "https:\/\/chat.example.test", not a host as 'name'/),
      `'trustedProxies' entry 0 is "proxy.local", not an IP address`,
    ]);
    expect(problemsOf({ allowedOrigins: ['app.example.test'], exposeRequestCredentials: ['cookies', 'password'] })).toEqual([
      expect.stringContaining('\'allowedOrigins\' entry 0 is "app.example.test", not an origin'),
      `'exposeRequestCredentials' entry 1 must be "authorization" or "cookies" or "accessToken", got "password" (a string)`,
    ]);
  });

  it('refuses options that contradict each other, as ASP.NET Core warns of a client timeout within the keep-alive', () => {
    expect(problemsOf({ keepAliveIntervalMs: 15_000, clientTimeoutIntervalMs: 10_000 })).toEqual([
      expect.stringContaining("'clientTimeoutIntervalMs' (10000) must be longer than 'keepAliveIntervalMs' (15000)"),
    ]);
    expect(problemsOf({ clientTimeoutIntervalMs: 15_000 })).toHaveLength(1);
    expect(problemsOf({ maximumReceiveMessageSize: 2_000_000 })).toEqual([expect.stringContaining("'maximumReceiveFrameSize' (1048576) must hold one message")]);
    expect(problemsOf({ allowedOrigins: ['*'] })).toEqual([expect.stringContaining("allowedOrigins contains '*' while allowCredentials is true")]);
    expect(problemsOf({ allowedOrigins: ['*'], allowCredentials: false })).toEqual([]);
  });

  it('refuses a key ring that cannot seal: a short key, a repeated one', () => {
    expect(problemsOf({ keys: [randomBytes(16)] })).toEqual(["'keys': Key 1 of the key ring is 16 bytes long; keys must be 32 bytes."]);
    expect(problemsOf({ keys: [KEY, KEY.toString('base64')] })).toEqual(["'keys': Key 2 of the key ring repeats key 1."]);
  });

  it('lists every problem in one error', () => {
    expect(problemsOf({ keepAliveInterval: 1, authStrategies: 'jwt', keys: [undefined], maximumConnections: '10' })).toHaveLength(4);
  });

  it('is what forRoot and forRootAsync give the module: the application does not start', async () => {
    @Hub('/hubs/checked')
    class CheckedHub {}
    for (const root of [
      SignalRModule.forRoot({ keepAliveInterval: 1 } as SignalRModuleOptions),
      SignalRModule.forRootAsync({ useFactory: () => ({ keepAliveInterval: 1 }) as SignalRModuleOptions }),
    ]) {
      @Module({ imports: [root], providers: [CheckedHub] })
      class AppModule {}
      await expect(NestFactory.create(AppModule, { logger: false, abortOnError: false })).rejects.toMatchObject({
        code: 'SIGNALR_INVALID_OPTION',
        message: expect.stringContaining("The options of SignalRModule.forRoot() are invalid:\n  - 'keepAliveInterval' is not an option"),
      });
    }
  });
});

describe('@Hub(path, options)', () => {
  it("checks the hub's own options when the class is declared", () => {
    expect(() => Hub('/hubs/x', { keepAliveIntervalMs: '5s' } as never)).toThrow(
      expect.objectContaining({ code: SignalRErrorCode.InvalidOption, message: expect.stringContaining(`The options of @Hub('/hubs/x') are invalid:\n  - 'keepAliveIntervalMs' must be`) }),
    );
    expect(() => Hub('/hubs/x', { allowedHosts: ['*'] } as never)).toThrow("'allowedHosts' is not an option");
  });

  it('refuses a missing or malformed path with an example, as plain JavaScript can pass one', () => {
    const decorate = Hub as (...args: unknown[]) => ClassDecorator;
    expect(() => decorate()).toThrow(
      expect.objectContaining({ code: SignalRErrorCode.InvalidHubDefinition, message: expect.stringContaining("@Hub needs the hub's path as its first argument, as in @Hub('/hubs/chat'); got undefined") }),
    );
    expect(() => decorate('hubs/chat')).toThrow(expect.objectContaining({ code: SignalRErrorCode.InvalidHubDefinition }));
  });
});
