import type { IncomingMessage } from 'node:http';
import { flag, listOf, type OptionRules } from '../options/option-rules.js';

export interface OriginPolicyOptions {
  /**
   * Other origins whose pages may call the hubs, e.g. `'https://app.example.com'`. Same-origin
   * pages are always allowed. `'*'` allows every origin, and only with `allowCredentials: false`.
   */
  readonly allowedOrigins?: readonly string[];
  /** Whether pages on the allowed origins may send cookies and HTTP authentication. Default true. */
  readonly allowCredentials?: boolean;
}

/** What each option accepts; `'*'` with credentials is refused when the policy is built. */
export const ORIGIN_POLICY_OPTION_RULES: OptionRules<OriginPolicyOptions> = {
  allowedOrigins: listOf(
    (entry) =>
      entry === WILDCARD || (typeof entry === 'string' && normalizeOrigin(withoutTrailingSlash(entry)) !== undefined)
        ? undefined
        : `is ${JSON.stringify(entry)}, not an origin (scheme://host[:port], http or https, no path)`,
    'origins',
  ),
  allowCredentials: flag,
};

/** `crossOrigin` is set when the caller must answer with CORS headers for that origin. */
export type OriginDecision =
  | { readonly allowed: true; readonly crossOrigin?: string }
  | { readonly allowed: false; readonly reason: string };

const WILDCARD = '*';
// Far longer than any real origin; it bounds the work done on hostile headers.
const MAX_ORIGIN_LENGTH = 2048;
// The shape browsers serialize an Origin in (RFC 6454): anything else did not come from one.
const BARE_ORIGIN = /^https?:\/\/(?:[a-z0-9.-]+|\[[0-9a-f:.]+\])(?::\d{1,5})?$/i;
// What @microsoft/signalr sets from a browser: X-Requested-With (fetch and XHR clients),
// X-SignalR-User-Agent (browsers forbid scripts to set User-Agent), Authorization (with an
// accessTokenFactory), Content-Type (on requests with a body) and X-SignalR-Connection-Token
// (an authentication refresh names its connection with it).
const ALLOWED_REQUEST_HEADERS = ['X-Requested-With', 'X-SignalR-User-Agent', 'Authorization', 'Content-Type', 'X-SignalR-Connection-Token'];
// Negotiate, and on the hub's path the long polls and event streams (GET), the client's sends
// (POST) and the end of a long-polling connection (DELETE); an authentication refresh (POST).
const ALLOWED_METHODS = 'GET, POST, DELETE, OPTIONS';
const PREFLIGHT_MAX_AGE_SECONDS = '600';

/**
 * Decides whether a browser page may call the hubs, by its `Origin`: the defence against CSRF on
 * negotiate and against cross-site WebSocket hijacking on the upgrade, where browsers enforce no
 * same-origin policy at all. Requests without `Origin` come from non-browser clients and pass.
 */
export class OriginPolicy {
  private readonly allowedOrigins: ReadonlySet<string>;
  private readonly allowsEveryOrigin: boolean;
  private readonly allowCredentials: boolean;

  constructor(options: OriginPolicyOptions = {}) {
    const entries = options.allowedOrigins ?? [];
    this.allowCredentials = options.allowCredentials ?? true;
    this.allowsEveryOrigin = entries.includes(WILDCARD);
    if (this.allowsEveryOrigin && this.allowCredentials) {
      throw new Error(
        "OriginPolicy: allowedOrigins contains '*' while allowCredentials is true. Credentials with a " +
          'wildcard would let any site act as the signed-in user. List the allowed origins instead, ' +
          'or set allowCredentials to false.',
      );
    }
    this.allowedOrigins = new Set(entries.filter((entry) => entry !== WILDCARD).map(configuredOrigin));
  }

  check(request: IncomingMessage, requestIsSecure: boolean): OriginDecision {
    const header = request.headers.origin;
    if (header === undefined) return { allowed: true };
    // Sandboxed iframes, file: pages and some redirects: opaque origins that could be anyone.
    if (header === 'null') return { allowed: false, reason: 'Origin is null (an opaque origin).' };
    const origin = normalizeOrigin(header);
    if (origin === undefined) return { allowed: false, reason: 'Origin header is not a single well-formed origin.' };
    if (origin === ownOrigin(request, requestIsSecure)) return { allowed: true };
    if (this.allowsCrossOrigin(origin)) return { allowed: true, crossOrigin: origin };
    // Safe to log: a normalized origin holds only scheme, host and port characters.
    return { allowed: false, reason: `Origin ${origin} is not allowed.` };
  }

  /** Headers for the actual response to a request whose decision carried `crossOrigin`. */
  corsHeaders(crossOrigin: string): Record<string, string> {
    const headers: Record<string, string> = { 'Access-Control-Allow-Origin': this.allowedCrossOrigin(crossOrigin) };
    if (this.allowCredentials) headers['Access-Control-Allow-Credentials'] = 'true';
    headers.Vary = 'Origin';
    return headers;
  }

  /** Headers for the answer to an `OPTIONS` preflight whose decision carried `crossOrigin`. */
  preflightHeaders(crossOrigin: string, request: IncomingMessage): Record<string, string> {
    const headers = this.corsHeaders(crossOrigin);
    headers['Access-Control-Allow-Methods'] = ALLOWED_METHODS;
    const requested = requestedHeaderNames(request);
    const allowed = ALLOWED_REQUEST_HEADERS.filter((name) => requested.has(name.toLowerCase()));
    if (allowed.length > 0) headers['Access-Control-Allow-Headers'] = allowed.join(', ');
    headers['Access-Control-Max-Age'] = PREFLIGHT_MAX_AGE_SECONDS;
    headers.Vary = 'Origin, Access-Control-Request-Headers';
    return headers;
  }

  private allowsCrossOrigin(origin: string): boolean {
    return this.allowsEveryOrigin || this.allowedOrigins.has(origin);
  }

  /** Guards against echoing an origin this policy never allowed, which would switch CORS off. */
  private allowedCrossOrigin(crossOrigin: string): string {
    const origin = normalizeOrigin(crossOrigin);
    if (origin === undefined || !this.allowsCrossOrigin(origin)) {
      throw new Error('OriginPolicy: CORS headers were asked for an origin the policy does not allow.');
    }
    return origin;
  }
}

/** Lower-case scheme and host, default port dropped, IPv6 compressed; undefined when not bare. */
function normalizeOrigin(text: string): string | undefined {
  if (text.length > MAX_ORIGIN_LENGTH || !BARE_ORIGIN.test(text)) return undefined;
  // The shape can be right and the content not, e.g. port 99999 or an invalid IPv6 address.
  return URL.canParse(text) ? new URL(text).origin : undefined;
}

function configuredOrigin(entry: string): string {
  // Configuration often comes from untyped JSON or environment variables.
  const origin = typeof entry === 'string' ? normalizeOrigin(withoutTrailingSlash(entry)) : undefined;
  if (origin === undefined) {
    throw new Error(
      `OriginPolicy: allowedOrigins entry ${JSON.stringify(entry)} is not an origin. Expected ` +
        "scheme://host[:port] with scheme http or https, e.g. 'https://app.example.com', without path, " +
        'query, fragment or user info; international domain names in punycode.',
    );
  }
  return origin;
}

/** 'https://app.example.com/' is what the address bar shows, so one trailing slash is forgiven. */
function withoutTrailingSlash(entry: string): string {
  return entry.endsWith('/') ? entry.slice(0, -1) : entry;
}

/**
 * The origin of this server as the browser addressed it. Only as good as Host: a DNS-rebinding
 * page sends its own name in both, so the gatekeeper checks Host against `allowedHosts` first.
 */
function ownOrigin(request: IncomingMessage, requestIsSecure: boolean): string | undefined {
  const host = request.headers.host;
  if (host === undefined) return undefined;
  return normalizeOrigin(`${requestIsSecure ? 'https' : 'http'}://${host}`);
}

function requestedHeaderNames(request: IncomingMessage): Set<string> {
  const list = request.headers['access-control-request-headers'];
  if (list === undefined) return new Set();
  return new Set(list.split(',').map((name) => name.trim().toLowerCase()));
}
