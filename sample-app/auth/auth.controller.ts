import { Body, Controller, HttpCode, Ip, Post, Req, UnauthorizedException, UseGuards, ValidationPipe } from '@nestjs/common';
import { AuthGuard } from '@nestjs/passport';
import { JwtService } from '@nestjs/jwt';
import { normalizeIp, ThrottlerException, ThrottlerGuard } from '@nestjs/throttler';
import { Accounts } from './accounts.js';
import { FailedLogins } from './failed-logins.js';
import type { ChatUser } from './jwt.strategy.js';
import { LoginRequest, RenewRequest } from './login-request.js';

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
    return { access_token: this.sign(account.username, account.roles, request.ttlSeconds) };
  }

  /**
   * A new token for the user of a valid one, with the roles the account has now: what the chat
   * page's authentication refresh presents to the hub before its token expires.
   */
  @Post('renew')
  @HttpCode(200)
  @UseGuards(ThrottlerGuard, AuthGuard('jwt'))
  renew(@Req() { user }: { user: ChatUser }, @Body(new ValidationPipe({ whitelist: true, forbidUnknownValues: true })) request: RenewRequest): { access_token: string } {
    const account = this.accounts.find(user.sub);
    if (!account) throw new UnauthorizedException();
    return { access_token: this.sign(account.username, account.roles, request.ttlSeconds) };
  }

  private sign(username: string, roles: readonly string[], ttlSeconds = DEFAULT_TTL_SECONDS): string {
    return this.jwt.sign({ sub: username, roles }, { expiresIn: ttlSeconds });
  }
}
