import { type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { SignalRAdapter } from 'nestjs-signalr';
import { AppModule } from './app.module.js';

/** The sample as `npm start` runs it, minus listening: tests start it on a port of their own. */
export async function createSampleApp(options: { logger?: false } = {}): Promise<INestApplication> {
  const app = await NestFactory.create(AppModule, options);
  app.useWebSocketAdapter(new SignalRAdapter(app));
  app.enableShutdownHooks();
  return app;
}
