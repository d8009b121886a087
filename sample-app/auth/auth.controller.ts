import { Body, Controller, HttpCode, Ip, Post, UnauthorizedException, UseGuards, ValidationPipe } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import { normalizeIp, ThrottlerException, ThrottlerGuard } from '@nestjs/throttler';
import { Accounts } from './accounts.js';
import { FailedLogins } from './failed-logins.js';
import { LoginRequest } from './login-request.js';

const DEFAULT_TTL_SECONDS = 3600;

@Controller('auth')
export class AuthController {
  constructor(
    private readonly accounts: Accounts,
    private readonly failedLogins: FailedLogins,
    private readonly jwt: JwtService,
  ) {}

  /**
   * `req.ip` is the socket's address (Express's `trust proxy` is off): behind a reverse proxy,
   * set `trust proxy` to it, or every visitor shares the proxy's limits.
   */
  @Post('login')
  @HttpCode(200)
  @UseGuards(ThrottlerGuard)
  login(@Ip() ip: string, @Body(new ValidationPipe({ whitelist: true, forbidUnknownValues: true })) request: LoginRequest): { access_token: string } {
    // IPv6 by /64, as the throttler counts: one host holds a whole /64 and could walk through it.
    const address = normalizeIp(ip);
    if (this.failedLogins.isBlocked(address)) throw new ThrottlerException('Too many failed logins from this address; try again later.');
    const account = this.accounts.verify(request.username, request.password);
    if (!account) {
      this.failedLogins.record(address);
      throw new UnauthorizedException('Wrong username or password.');
    }
    const access_token = this.jwt.sign(
      { sub: account.username, roles: account.roles },
      { expiresIn: request.ttlSeconds ?? DEFAULT_TTL_SECONDS },
    );
    return { access_token };
  }
}
