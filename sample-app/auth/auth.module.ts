import { Module } from '@nestjs/common';
import { JwtModule } from '@nestjs/jwt';
import { PassportModule } from '@nestjs/passport';
import { minutes, ThrottlerModule } from '@nestjs/throttler';
import { SAMPLE_CONFIG, type SampleConfig } from '../config.js';
import { Accounts } from './accounts.js';
import { AuthController } from './auth.controller.js';
import { FailedLogins } from './failed-logins.js';
import { JwtStrategy } from './jwt.strategy.js';

/**
 * Logins of one address, right or wrong, per minute: each signs a token. Twice the 300 the
 * sample's contract promises, so checks that run back to back from one address stay under it.
 */
export const LOGINS_PER_MINUTE = 600;

@Module({
  imports: [
    PassportModule,
    JwtModule.registerAsync({
      inject: [SAMPLE_CONFIG],
      useFactory: (config: SampleConfig) => ({ secret: config.jwtKey, signOptions: { algorithm: 'HS256' } }),
    }),
    ThrottlerModule.forRoot({ throttlers: [{ name: 'logins', ttl: minutes(1), limit: LOGINS_PER_MINUTE }] }),
  ],
  controllers: [AuthController],
  providers: [Accounts, FailedLogins, JwtStrategy],
})
export class AuthModule {}
