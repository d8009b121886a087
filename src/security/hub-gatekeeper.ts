import { Logger } from '@nestjs/common';
import type { IncomingMessage } from 'node:http';
import type { HostPolicy } from './host-policy.js';
import type { HubAuthorizer } from './hub-authorizer.js';
import type { OriginPolicy } from './origin-policy.js';
import type { PassportAuthenticator } from './passport-authenticator.js';
import { redactUrl } from './redact-url.js';
import type { TransportSecurity } from './transport-security.js';
import type { RefusalMeter, RefusalReason } from '../telemetry/meters.js';
import { refusalStage } from '../telemetry/refusal-stage.js';

export interface Refusal {
  readonly admitted: false;
  readonly status: number;
  readonly body: string;
  readonly headers: Record<string, string>;
}

export interface Admitted {
  readonly admitted: true;
  /** `undefined` for an anonymous request. */
  readonly user: unknown;
  readonly userKey: string | undefined;
  /** The client's address, as far as a trusted proxy vouches for it; undefined once the socket is gone. */
  readonly address: string | undefined;
  /** Epoch milliseconds at which the credential expires, if it does. */
  readonly expiresAt: number | undefined;
  /** CORS headers owed to an allowed cross-origin caller. */
  readonly corsHeaders: Record<string, string>;
}

export type Admission = Admitted | Refusal;

export interface HubGatekeeperParts {
  readonly hubClass: Function;
  readonly hubPath: string;
  readonly transport: TransportSecurity;
  readonly hosts: HostPolicy;
  readonly origins: OriginPolicy;
  readonly authenticator: PassportAuthenticator | undefined;
  readonly authorizer: HubAuthorizer;
  /** Present while metrics are on. */
  readonly refusals?: RefusalMeter;
  /** The `maximumAuthenticationLifetimeMs` cap on every credential's expiry, if set. */
  readonly maximumAuthenticationLifetimeMs?: number;
}

export const refusal = (status: number, body: string, headers: Record<string, string> = {}): Refusal => ({
  admitted: false,
  status,
  body,
  headers,
});

/**
 * The checks every request into a hub passes before any hub code runs, in the same order for
 * negotiate, the proxy files and the WebSocket upgrade: Host, transport, Origin, authentication,
 * hub authorization. Host comes first: the Origin check compares Origin with Host, so it means
 * something only once Host is one of this server's names.
 */
export class HubGatekeeper {
  private static readonly logger = new Logger('SignalR:Security');

  constructor(private readonly parts: HubGatekeeperParts) {}

  /** Answers a CORS preflight: only an allowed cross origin gets permission headers. */
  preflight(request: IncomingMessage): Refusal | Record<string, string> {
    const secure = this.parts.transport.isSecure(request);
    const wrongHost = this.parts.hosts.refusal(request, secure, this.parts.hubPath);
    if (wrongHost) return this.count(request, 'host', refusal(400, wrongHost));
    const decision = this.parts.origins.check(request, secure);
    if (!decision.allowed || decision.crossOrigin === undefined) return this.refuseAs('origin', request, 403, 'Forbidden', 'preflight from a foreign origin');
    return this.parts.origins.preflightHeaders(decision.crossOrigin, request);
  }

  /**
   * `hubPolicy: 'deferred'` (an authentication refresh): an authenticated user's `@Authorize` is
   * left to the caller, who must first know that the user is the connection's own, since a
   * refusal then ends the connection; a request without a user is still refused here.
   */
  async admit(request: IncomingMessage, hubPolicy: 'checked' | 'deferred' = 'checked'): Promise<Admission> {
    const { transport, hosts, origins, authenticator, authorizer, hubClass, hubPath } = this.parts;
    const secure = transport.isSecure(request);
    const wrongHost = hosts.refusal(request, secure, hubPath);
    if (wrongHost) return this.count(request, 'host', refusal(400, wrongHost));
    const insecure = transport.refusal(request);
    if (insecure) return this.refuseAs('forbidden', request, 403, 'A secure connection (HTTPS) is required.', insecure);
    const origin = origins.check(request, secure);
    if (!origin.allowed) return this.refuseAs('origin', request, 403, 'Forbidden', `origin refused: ${origin.reason}`);
    const corsHeaders = origin.crossOrigin === undefined ? {} : origins.corsHeaders(origin.crossOrigin);

    let user: unknown;
    let info: unknown;
    try {
      if (authenticator) ({ user, info } = await authenticator.authenticate(request));
    } catch (error) {
      HubGatekeeper.logger.error(`Authentication failed on ${redactUrl(request.url)}`, (error as Error)?.stack);
      return refusal(500, 'Internal Server Error', corsHeaders);
    }
    const expiresAt = user === undefined ? undefined : this.cappedExpiry(authorizer.identity.expiryOf(user, info));
    if (expiresAt !== undefined && expiresAt <= Date.now()) {
      return this.refuseAs('unauthenticated', request, 401, 'Unauthorized', 'credential expired', { ...corsHeaders, 'WWW-Authenticate': 'Bearer' });
    }
    const outcome = hubPolicy === 'deferred' && user !== undefined ? 'allowed' : await authorizer.authorizeHub(hubClass, user, hubPath);
    if (outcome === 'unauthenticated') {
      return this.refuseAs('unauthenticated', request, 401, 'Unauthorized', 'no identity', { ...corsHeaders, 'WWW-Authenticate': 'Bearer' });
    }
    // Fail closed: only an explicit 'allowed' admits; anything else is refused.
    if (outcome !== 'allowed') return this.refuseAs('forbidden', request, 403, 'Forbidden', 'hub authorization refused', corsHeaders);
    const userKey = user === undefined ? undefined : authorizer.identity.identifierOf(user);
    if (user !== undefined && userKey === undefined) {
      // Binding a token to "nobody" would let an anonymous caller use it: refuse, and tell the developer.
      HubGatekeeper.logger.error('An authenticated user has no identifier: set the userIdentifier option.');
      return refusal(500, 'Internal Server Error', corsHeaders);
    }
    return { admitted: true, user, userKey, address: transport.clientAddress(request), expiresAt, corsHeaders };
  }

  /** A credential that never expires is capped too: the cap is how an application makes connections re-authenticate. */
  private cappedExpiry(expiresAt: number | undefined): number | undefined {
    const cap = this.parts.maximumAuthenticationLifetimeMs;
    return cap === undefined ? expiresAt : Math.min(expiresAt ?? Infinity, Date.now() + cap);
  }

  /** Logs why (with tokens redacted) and returns a refusal whose body says no more than its status. */
  refuse(request: IncomingMessage, status: number, body: string, why: string, headers: Record<string, string> = {}): Refusal {
    HubGatekeeper.logger.warn(`Refused ${request.method} ${redactUrl(request.url)} with ${status}: ${why}`);
    return refusal(status, body, headers);
  }

  /** A transport refuses the connection token (or the connection id) a request presents: logged and counted. */
  refuseToken(request: IncomingMessage, status: number, body: string, why: string): Refusal {
    return this.refuseAs('token', request, status, body, why);
  }

  private refuseAs(reason: RefusalReason, request: IncomingMessage, status: number, body: string, why: string, headers?: Record<string, string>): Refusal {
    return this.count(request, reason, this.refuse(request, status, body, why, headers));
  }

  /** Counted as `reason`, at the stage the request's path names, while metrics are on. */
  private count(request: IncomingMessage, reason: RefusalReason, refused: Refusal): Refusal {
    this.parts.refusals?.refused(reason, refusalStage(request));
    return refused;
  }
}
