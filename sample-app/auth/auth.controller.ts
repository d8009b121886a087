import { Body, Controller, HttpCode, Post, UnauthorizedException, ValidationPipe } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import { Accounts } from './accounts.js';
import { LoginRequest } from './login-request.js';

const DEFAULT_TTL_SECONDS = 3600;

@Controller('auth')
export class AuthController {
  constructor(
    private readonly accounts: Accounts,
    private readonly jwt: JwtService,
  ) {}

  @Post('login')
  @HttpCode(200)
  login(@Body(new ValidationPipe({ whitelist: true, forbidUnknownValues: true })) request: LoginRequest): { access_token: string } {
    const account = this.accounts.verify(request.username, request.password);
    if (!account) throw new UnauthorizedException('Wrong username or password.');
    const access_token = this.jwt.sign(
      { sub: account.username, roles: account.roles },
      { expiresIn: request.ttlSeconds ?? DEFAULT_TTL_SECONDS },
    );
    return { access_token };
  }
}
