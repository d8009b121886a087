import { Module } from '@nestjs/common';
import { JwtModule } from '@nestjs/jwt';
import { PassportModule } from '@nestjs/passport';
import { SAMPLE_CONFIG, type SampleConfig } from '../config.js';
import { Accounts } from './accounts.js';
import { AuthController } from './auth.controller.js';
import { JwtStrategy } from './jwt.strategy.js';

@Module({
  imports: [
    PassportModule,
    JwtModule.registerAsync({
      inject: [SAMPLE_CONFIG],
      useFactory: (config: SampleConfig) => ({ secret: config.jwtKey, signOptions: { algorithm: 'HS256' } }),
    }),
  ],
  controllers: [AuthController],
  providers: [Accounts, JwtStrategy],
})
export class AuthModule {}
