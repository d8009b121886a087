import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { SignalRModule } from 'nestjs-signalr';
import { AuthModule } from './auth/auth.module.js';
import { ChatModule } from './chat/chat.module.js';
import { ConfigModule } from './config.module.js';
import { backplaneOf, CONNECTION_CAPS, SAMPLE_CONFIG, type SampleConfig } from './config.js';
import { HealthController } from './health/health.controller.js';
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
        ...CONNECTION_CAPS,
        lifetimeManager: backplaneOf(config),
      }),
    }),
    AuthModule,
    ChatModule,
    TerminusModule.forRoot(),
  ],
  controllers: [HealthController, WebController],
  providers: [PublicHub],
})
export class AppModule {}
