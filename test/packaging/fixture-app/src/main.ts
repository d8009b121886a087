// An application as a user writes it against the installed package: the packaging suite compiles
// it with tsc as an ES module and as CommonJS, and starts it.
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { SignalRAdapter } from 'nestjs-signalr';
import { AppModule } from './app.module.js';

async function bootstrap(): Promise<void> {
  const app = await NestFactory.create(AppModule);
  app.useWebSocketAdapter(new SignalRAdapter(app));
  app.enableShutdownHooks();
  await app.listen(0, '127.0.0.1');
  new Logger('Main').log(`listening on ${await app.getUrl()}`);
}

void bootstrap();
