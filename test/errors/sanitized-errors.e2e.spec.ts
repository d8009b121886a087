import { Subject } from '@microsoft/signalr';
import { Module } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { SignalRModule } from 'nestjs-signalr';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CapturingLogger } from '../support/capturing-logger.js';
import { ClientPool, connectClient } from '../support/client.js';
import { createHubApp, listenOnLoopback, type RunningHubApp } from '../support/hub-app.js';
import { RawHubSocket } from '../support/raw-client.js';
import { ErrorHub, FailingConnectHub, SECRET } from './error-hubs.js';

const generic = (method: string) => `An unexpected error occurred invoking '${method}' on the server.`;

async function startErrorApp(detailedErrors: boolean, logger: CapturingLogger): Promise<RunningHubApp> {
  @Module({
    imports: [SignalRModule.forRoot({ detailedErrors, keys: [randomBytes(32)] })],
    providers: [ErrorHub, FailingConnectHub],
  })
  class ErrorAppModule {}
  return listenOnLoopback(await createHubApp(ErrorAppModule, { logger }));
}

const failureOf = (promise: Promise<unknown>) =>
  promise.then(
    () => {
      throw new Error('expected a failure');
    },
    (error: Error) => error.message,
  );

describe('sanitized errors (detailedErrors off, the default)', () => {
  const logger = new CapturingLogger();
  const clients = new ClientPool();
  let server: RunningHubApp;
  const connect = () => clients.connect(`${server.baseUrl}/hubs/errors`);

  beforeAll(async () => {
    server = await startErrorApp(false, logger);
  });

  afterAll(async () => {
    await clients.stopAll();
    await server.close();
  });

  it.each(['ThrowsSync', 'ThrowsAsync', 'ThrowsNonError', 'Guarded', 'Intercepted', 'NotFound'])(
    '%s: the caller sees only the generic text; the log has the secret under an error id',
    async (method) => {
      const client = await connect();
      const message = await failureOf(client.invoke(method));
      expect(message).toBe(generic(method));
      expect(message).not.toContain(SECRET);
      const logged = logger.text();
      expect(logged).toMatch(new RegExp(`${method} failed \\(error id [0-9a-f-]{36}`));
    },
  );

  it('a failing pipe: generic text only', async () => {
    const client = await connect();
    expect(await failureOf(client.invoke('Piped', 'x'))).toBe(generic('Piped'));
  });

  it('a server stream that fails mid-way: generic text only', async () => {
    const client = await connect();
    const error = await new Promise<Error>((resolve) =>
      client.stream('StreamThrows').subscribe({ next: () => undefined, complete: () => undefined, error: resolve }),
    );
    expect(error.message).toBe(generic('StreamThrows'));
  });

  it('onConnected that throws: the connection closes with the generic Close text', async () => {
    const raw = await RawHubSocket.connected(`${server.baseUrl}/hubs/errors-on-connect`);
    await raw.closed;
    const everything = raw.frames.join('');
    expect(everything).toContain('"error":"Connection closed with an error."');
    expect(everything).not.toContain(SECRET);
    await expect(connectClient(`${server.baseUrl}/hubs/errors-on-connect`)).rejects.toThrow();
  });

  it('HubException and WsException pass their message in the reference format', async () => {
    const client = await connect();
    expect(await failureOf(client.invoke('Deliberate'))).toBe(`${generic('Deliberate')} HubException: Room is full.`);
    expect(await failureOf(client.invoke('WsDeliberate'))).toBe(`${generic('WsDeliberate')} HubException: Slow down.`);
  });

  it('a 400 HttpException becomes the binding text without its message', async () => {
    const client = await connect();
    expect(await failureOf(client.invoke('BadRequest'))).toBe("Failed to invoke 'BadRequest' due to an error on the server.");
  });

  it('DTO validation names fields and constraints, never values', async () => {
    const client = await connect();
    const hostile = '<img src=x onerror=alert(1)>';
    const message = await failureOf(client.invoke('Signup', { email: hostile, age: 7, address: { city: '' } }));
    expect(message).toBe(
      "Failed to invoke 'Signup' due to an error on the server. Invalid arguments: email (isEmail); age (min); address.city (isLength).",
    );
    expect(message).not.toContain(hostile);
    await expect(client.invoke('Signup', { email: 'a@example.test', age: 30, address: { city: 'Oslo' } })).resolves.toBe(
      'a@example.test Oslo',
    );
  });

  it('strips properties the DTO does not declare', async () => {
    const client = await connect();
    await expect(
      client.invoke('Signup', { email: 'a@example.test', age: 30, address: { city: 'Oslo' }, isAdmin: true }),
    ).resolves.toBe('a@example.test Oslo');
  });

  it('wrong argument types and counts: the binding text, no detail', async () => {
    const client = await connect();
    const bindingFailed = "Failed to invoke 'Typed' due to an error on the server.";
    expect(await failureOf(client.invoke('Typed', 1, 2, true, []))).toBe(bindingFailed);
    expect(await failureOf(client.invoke('Typed', 'a', '2', true, []))).toBe(bindingFailed);
    expect(await failureOf(client.invoke('Typed', 'a', 2, 'yes', []))).toBe(bindingFailed);
    expect(await failureOf(client.invoke('Typed', 'a', 2, true, {}))).toBe(bindingFailed);
    expect(await failureOf(client.invoke('Signup', 'not an object'))).toBe("Failed to invoke 'Signup' due to an error on the server.");
    await expect(client.invoke('Typed', 'a', 2, true, ['x'])).resolves.toBe('a2true1');
  });

  it('an upload stream to a method without one is a binding failure', async () => {
    const client = await connect();
    expect(await failureOf(client.invoke('ThrowsSync', new Subject<number>()))).toBe(
      "Failed to invoke 'ThrowsSync' due to an error on the server.",
    );
  });
});

describe('detailedErrors on', () => {
  const logger = new CapturingLogger();
  const clients = new ClientPool();
  let server: RunningHubApp;

  beforeAll(async () => {
    server = await startErrorApp(true, logger);
  });

  afterAll(async () => {
    await clients.stopAll();
    await server.close();
  });

  it("appends the error's name and message, as ASP.NET Core does", async () => {
    const client = await clients.connect(`${server.baseUrl}/hubs/errors`);
    expect(await failureOf(client.invoke('ThrowsAsync'))).toBe(`${generic('ThrowsAsync')} TypeError: async: ${SECRET}`);
    expect(await failureOf(client.invoke('Typed', 'a'))).toBe(
      "Failed to invoke 'Typed' due to an error on the server. InvalidDataException: Invocation provides 1 argument(s) but target expects 4.",
    );
  });
});

describe('detailedErrors in production', () => {
  it('logs a start-up warning', async () => {
    const logger = new CapturingLogger();
    const previous = process.env.NODE_ENV;
    process.env.NODE_ENV = 'production';
    try {
      const server = await startErrorApp(true, logger);
      await server.close();
    } finally {
      process.env.NODE_ENV = previous;
    }
    expect(logger.text()).toContain('detailedErrors is on in production');
  });
});
