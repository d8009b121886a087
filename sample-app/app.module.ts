import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { SignalRModule } from 'nestjs-signalr';
import { AuthModule } from './auth/auth.module.js';
import { ChatModule } from './chat/chat.module.js';
import { ConfigModule } from './config.module.js';
import { backplaneOf, CONNECTION_CAPS, SAMPLE_CONFIG, type SampleConfig } from './config.js';
import { HealthController } from './health/health.controller.js';
import { OpenTelemetryShutdown } from './observability/open-telemetry.js';
import { PublicHub } from './public/public.hub.js';
import { WebController } from './web/web.controller.js';

@Module({
  imports: [
    ConfigModule,
    SignalRModule.forRootAsync({
      inject: [SAMPLE_CONFIG],
      useFactory: (config: SampleConfig) => ({
        keys: config.signalrKeys,
        authStrategies: ['jwt'],
        allowedOrigins: config.allowedOrigins,
        allowedHosts: config.allowedHosts,
        allowStatefulReconnect: true,
        // All three, as by default: clients behind proxies that block WebSockets fall back to the others.
        transports: ['WebSockets', 'ServerSentEvents', 'LongPolling'],
        ...CONNECTION_CAPS,
        // The classic SignalR 2.x endpoint at /signalr for jQuery clients, with its per-user proxy at /signalr/hubs; JSONP stays off.
        classic: { hubsProxy: true },
        lifetimeManager: backplaneOf(config),
      }),
    }),
    AuthModule,
    ChatModule,
    TerminusModule.forRoot(),
  ],
  controllers: [HealthController, WebController],
  providers: [PublicHub, OpenTelemetryShutdown],
})
export class AppModule {}
