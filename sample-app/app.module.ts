import { Module } from '@nestjs/common';
import { SignalRModule } from 'nestjs-signalr';
import { ChatModule } from './chat/chat.module.js';
import { HealthController } from './health/health.controller.js';
import { PublicHub } from './public/public.hub.js';

@Module({
  imports: [SignalRModule.forRoot({}), ChatModule],
  controllers: [HealthController],
  providers: [PublicHub],
})
export class AppModule {}
