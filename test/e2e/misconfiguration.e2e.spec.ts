// What a new user gets wrong first, each tried on a real Nest application: the start fails with
// the package's own error, naming what to add, instead of a later 404 or 500 or Nest's wording.
import { Injectable, Module, type INestApplication, type Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { IoAdapter } from '@nestjs/platform-socket.io';
import { WsAdapter } from '@nestjs/platform-ws';
import { Hub, InjectHubContext, SignalRAdapter, SignalRModule, type HubContext } from 'nestjs-signalr';
import { afterEach, describe, expect, it } from 'vitest';
import { CapturingLogger } from '../support/capturing-logger.js';
import { ClientPool } from '../support/client.js';
import { startHubApp } from '../support/hub-app.js';
import { TestAuthModule } from '../support/jwt-auth.js';

@Hub('/hubs/a')
class FirstHub {
  first(): string {
    return 'first';
  }
}

@Hub('/hubs/a')
class SecondHubOnTheSamePath {}

@Hub('/hubs/b')
class ProvidedNowhereHub {}

@Injectable()
class Notifier {
  constructor(@InjectHubContext(ProvidedNowhereHub) readonly hub: HubContext) {}
}

const ADAPTER_LINE = 'app.useWebSocketAdapter(new SignalRAdapter(app));';
const FOR_ROOT_LINE = '@Module({ imports: [SignalRModule.forRoot({ keys: [process.env.SIGNALR_KEY] })] })';

let started: INestApplication | undefined;
afterEach(async () => {
  await started?.close();
  started = undefined;
});

/** Creates and starts an application as main.ts would; `adapter` is what main.ts sets, if anything. */
async function startApp(rootModule: Type, adapter?: (app: INestApplication) => void): Promise<INestApplication> {
  const app = await NestFactory.create(rootModule, { logger: false, abortOnError: false });
  started = app;
  adapter?.(app);
  await app.listen(0, '127.0.0.1');
  return app;
}

describe('a misconfigured application fails at start with the package error that says what to change', () => {
  it('refuses two hubs on one path (SIGNALR_DUPLICATE_HUB_PATH), where Nest would give the path to the first', async () => {
    await expect(startHubApp([FirstHub, SecondHubOnTheSamePath])).rejects.toMatchObject({
      code: 'SIGNALR_DUPLICATE_HUB_PATH',
      message: expect.stringContaining('FirstHub at /hubs/a and SecondHubOnTheSamePath at /hubs/a'),
    });
  });

  it('refuses forFeature and @InjectHubContext of a hub no module provides (SIGNALR_HUB_NOT_PROVIDED)', async () => {
    @Module({ imports: [SignalRModule.forFeature([ProvidedNowhereHub])], providers: [Notifier] })
    class NotificationsModule {}

    await expect(startHubApp([FirstHub], {}, { imports: [NotificationsModule] })).rejects.toMatchObject({
      code: 'SIGNALR_HUB_NOT_PROVIDED',
      message: expect.stringContaining('@Module({ providers: [ProvidedNowhereHub] })'),
    });
  });

  it('refuses hubs without SignalRAdapter (SIGNALR_ADAPTER_MISSING), naming the line to add', async () => {
    @Module({ imports: [SignalRModule.forRoot({})], providers: [FirstHub] })
    class AppModule {}

    await expect(startApp(AppModule)).rejects.toMatchObject({
      code: 'SIGNALR_ADAPTER_MISSING',
      message: expect.stringContaining(`the application sets no WebSocket adapter: in main.ts, between NestFactory.create(...) and app.listen(...), add ${ADAPTER_LINE}`),
    });
  });

  it.each([
    ['IoAdapter', (app: INestApplication) => app.useWebSocketAdapter(new IoAdapter(app))],
    ['WsAdapter', (app: INestApplication) => app.useWebSocketAdapter(new WsAdapter(app))],
  ])('refuses hubs under another adapter, %s (SIGNALR_ADAPTER_MISSING)', async (name, setAdapter) => {
    @Module({ imports: [SignalRModule.forRoot({})], providers: [FirstHub] })
    class AppModule {}

    await expect(startApp(AppModule, setAdapter)).rejects.toMatchObject({
      code: 'SIGNALR_ADAPTER_MISSING',
      message: expect.stringContaining(`FirstHub can only be served by SignalRAdapter, and the application's WebSocket adapter is ${name}`),
    });
  });

  it.each([
    ['a hub', () => ({ providers: [FirstHub] }), 'A @Hub class'],
    ['forFeature', () => ({ imports: [SignalRModule.forFeature([FirstHub])], providers: [FirstHub] }), 'SignalRModule.forFeature([FirstHub])'],
  ])('refuses %s without SignalRModule.forRoot() (SIGNALR_ROOT_MODULE_MISSING), naming the import to add', async (_, metadata, what) => {
    @Module(metadata())
    class AppModule {}

    await expect(startApp(AppModule, (app) => app.useWebSocketAdapter(new SignalRAdapter(app)))).rejects.toMatchObject({
      code: 'SIGNALR_ROOT_MODULE_MISSING',
      message: expect.stringContaining(`${what} needs SignalRModule.forRoot(), imported once in the root module: ${FOR_ROOT_LINE}`),
    });
  });

  it('refuses authStrategies naming no registered Passport strategy (SIGNALR_INVALID_OPTION), and lists the registered ones', async () => {
    await expect(startHubApp([FirstHub], { authStrategies: ['jwt', 'nope'] }, { imports: [TestAuthModule] })).rejects.toMatchObject({
      code: 'SIGNALR_INVALID_OPTION',
      message: expect.stringContaining("Option 'authStrategies' names 'nope', which no Passport strategy is registered as (registered are 'jwt')"),
    });
  });

  it('starts with a registered strategy, and logs each hub it serves once: path, transports, protocols, authentication', async () => {
    const logger = new CapturingLogger();
    @Module({ imports: [SignalRModule.forRoot({ authStrategies: ['jwt'] }), TestAuthModule], providers: [FirstHub] })
    class AppModule {}
    const app = await NestFactory.create(AppModule, { logger, abortOnError: false });
    started = app;
    app.useWebSocketAdapter(new SignalRAdapter(app));
    await app.listen(0, '127.0.0.1');

    const served = logger.lines.filter((line) => line.includes('Serving FirstHub'));
    expect(served).toEqual([
      'Serving FirstHub at /hubs/a: transports WebSockets, ServerSentEvents, LongPolling; protocols json, messagepack; authentication Passport jwt; connects anyone. SignalR:Module',
    ]);
    const clients = new ClientPool();
    try {
      const connection = await clients.connect(`${await app.getUrl()}/hubs/a`);
      await expect(connection.invoke('First')).resolves.toBe('first');
    } finally {
      await clients.stopAll();
    }
  });
});
