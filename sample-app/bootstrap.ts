import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { SignalRAdapter } from 'nestjs-signalr';
import { AppModule } from './app.module.js';
import { securityHeaders } from './web/security-headers.js';

/** The sample as `npm start` runs it, minus listening: tests start it on a port of their own. */
export async function createSampleApp(options: { logger?: false } = {}): Promise<NestExpressApplication> {
  // Closing ends every connection: a connection a client opened for a request it never sent
  // (browsers open some ahead; an aborted long poll leaves one) would hold a graceful close for a minute.
  const app = await NestFactory.create<NestExpressApplication>(AppModule, { forceCloseConnections: true, ...options });
  app.disable('x-powered-by');
  app.use(securityHeaders);
  app.useWebSocketAdapter(new SignalRAdapter(app));
  app.enableShutdownHooks();
  return app;
}
