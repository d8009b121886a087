import { Injectable, Module } from '@nestjs/common';
import { JwtModule, JwtService } from '@nestjs/jwt';
import { PassportModule, PassportStrategy } from '@nestjs/passport';
import { ExtractJwt, Strategy } from 'passport-jwt';

export const TEST_JWT_SECRET = 'test-only-secret-0123456789abcdef0123456789';

export interface TestUser {
  readonly sub: string;
  readonly roles: readonly string[];
  readonly exp?: number;
}

/** The kind of strategy an application registers: bearer header for Node, query for browsers. */
@Injectable()
export class TestJwtStrategy extends PassportStrategy(Strategy, 'jwt') {
  constructor() {
    super({
      jwtFromRequest: ExtractJwt.fromExtractors([
        ExtractJwt.fromAuthHeaderAsBearerToken(),
        ExtractJwt.fromUrlQueryParameter('access_token'),
      ]),
      secretOrKey: TEST_JWT_SECRET,
      ignoreExpiration: false,
    });
  }

  validate(payload: TestUser): TestUser {
    return { sub: payload.sub, roles: payload.roles, exp: payload.exp };
  }
}

@Module({
  imports: [PassportModule, JwtModule.register({ secret: TEST_JWT_SECRET })],
  providers: [TestJwtStrategy],
  exports: [JwtModule],
})
export class TestAuthModule {}

/** Signs a token for a test user; `ttlSeconds` sets its expiry. */
export function signFor(jwt: JwtService, sub: string, roles: string[] = ['user'], ttlSeconds = 3600): string {
  return jwt.sign({ sub, roles }, { expiresIn: ttlSeconds });
}
