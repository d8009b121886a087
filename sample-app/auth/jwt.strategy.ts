import { Inject, Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import { ExtractJwt, Strategy } from 'passport-jwt';
import { SAMPLE_CONFIG, type SampleConfig } from '../config.js';

export interface ChatUser {
  readonly sub: string;
  readonly roles: readonly string[];
  readonly exp: number;
}

/**
 * Verifies the JWT on negotiate (Authorization header) and on the WebSocket (the header from
 * Node clients, the `access_token` query parameter from browsers, which cannot set headers).
 */
@Injectable()
export class JwtStrategy extends PassportStrategy(Strategy, 'jwt') {
  constructor(@Inject(SAMPLE_CONFIG) config: SampleConfig) {
    super({
      jwtFromRequest: ExtractJwt.fromExtractors([
        ExtractJwt.fromAuthHeaderAsBearerToken(),
        ExtractJwt.fromUrlQueryParameter('access_token'),
      ]),
      // passport-jwt's types predate key objects; jsonwebtoken, which it hands the key to, takes them.
      secretOrKey: config.jwtKey as unknown as Buffer,
      algorithms: ['HS256'],
    });
  }

  validate(payload: ChatUser): ChatUser {
    return { sub: payload.sub, roles: payload.roles, exp: payload.exp };
  }
}
