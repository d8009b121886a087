import { Module } from '@nestjs/common';
import { SignalRModule } from 'nestjs-signalr';
import { EchoHub } from './echo.hub.js';

@Module({
  imports: [SignalRModule.forRoot({ keys: [process.env.SIGNALR_KEY ?? ''], allowedHosts: ['127.0.0.1:*'] })],
  providers: [EchoHub],
})
export class AppModule {}
