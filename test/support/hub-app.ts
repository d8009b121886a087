import {
  Module,
  type DynamicModule,
  type INestApplication,
  type NestApplicationOptions,
  type Provider,
  type Type,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { SignalRAdapter, SignalRModule, type SignalRModuleOptions } from 'nestjs-signalr';
import type { AddressInfo } from 'node:net';

export interface RunningHubApp {
  readonly app: INestApplication;
  /** `http://127.0.0.1:<port>` */
  readonly baseUrl: string;
  close(): Promise<void>;
}

/** Creates a Nest application from `rootModule` with the SignalR adapter, as a user would. */
export async function createHubApp(rootModule: Type, options: NestApplicationOptions = {}): Promise<INestApplication> {
  const app = await NestFactory.create(rootModule, {
    logger: process.env.TEST_LOGS ? undefined : false,
    abortOnError: false,
    ...options,
  });
  app.useWebSocketAdapter(new SignalRAdapter(app));
  app.enableShutdownHooks();
  return app;
}

/** Listens on a free loopback port. */
export async function listenOnLoopback(app: INestApplication, scheme: 'http' | 'https' = 'http'): Promise<RunningHubApp> {
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address() as AddressInfo;
  return { app, baseUrl: `${scheme}://127.0.0.1:${port}`, close: () => app.close() };
}

/** Starts a real Nest application serving the given hubs on a free loopback port. */
export async function startHubApp(
  hubs: Provider[],
  options: SignalRModuleOptions = {},
  extra: {
    imports?: (Type | DynamicModule)[];
    providers?: Provider[];
    controllers?: Type[];
    httpsOptions?: NestApplicationOptions['httpsOptions'];
  } = {},
): Promise<RunningHubApp> {
  @Module({
    imports: [SignalRModule.forRoot(options), ...(extra.imports ?? [])],
    providers: [...hubs, ...(extra.providers ?? [])],
    controllers: extra.controllers ?? [],
  })
  class TestAppModule {}

  const app = await createHubApp(TestAppModule, { httpsOptions: extra.httpsOptions });
  return listenOnLoopback(app, extra.httpsOptions ? 'https' : 'http');
}
