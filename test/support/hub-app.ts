import {
  Module,
  type DynamicModule,
  type INestApplication,
  type NestApplicationOptions,
  type Provider,
  type Type,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { SignalRAdapter, SignalRModule, type SignalRModuleOptions } from 'nestjs-signalr';
import type { AddressInfo } from 'node:net';

export interface RunningHubApp {
  readonly app: INestApplication;
  /** `http://127.0.0.1:<port>` */
  readonly baseUrl: string;
  close(): Promise<void>;
}

/** The HTTP platforms the package serves on; suites about the HTTP faces run once on each. */
export type HttpPlatformName = 'express' | 'fastify';
export const HTTP_PLATFORMS: readonly HttpPlatformName[] = ['express', 'fastify'];

/** Creates a Nest application from `rootModule` with the SignalR adapter, as a user would. */
export async function createHubApp(
  rootModule: Type,
  options: NestApplicationOptions = {},
  platform: HttpPlatformName = 'express',
): Promise<INestApplication> {
  // Closed with every connection: a client's fetch may keep a connection it opened for a request
  // it then aborted (a long poll at its stop), which a graceful close would wait for.
  const appOptions: NestApplicationOptions = { logger: process.env.TEST_LOGS ? undefined : false, abortOnError: false, forceCloseConnections: true, ...options };
  const app =
    platform === 'fastify'
      ? await NestFactory.create(rootModule, new FastifyAdapter({ forceCloseConnections: true }), appOptions)
      : await NestFactory.create(rootModule, appOptions);
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
    platform?: HttpPlatformName;
    /** Runs before the application starts listening: `app.use`, `app.enableCors`, global enhancers. */
    configure?: (app: INestApplication) => void;
  } = {},
): Promise<RunningHubApp> {
  @Module({
    imports: [SignalRModule.forRoot(options), ...(extra.imports ?? [])],
    providers: [...hubs, ...(extra.providers ?? [])],
    controllers: extra.controllers ?? [],
  })
  class TestAppModule {}

  const app = await createHubApp(TestAppModule, { httpsOptions: extra.httpsOptions }, extra.platform);
  extra.configure?.(app);
  return listenOnLoopback(app, extra.httpsOptions ? 'https' : 'http');
}
