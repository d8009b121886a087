import type { IncomingMessage } from 'node:http';
import { SignalRError, SignalRErrorCode } from '../errors/signalr-error-codes.js';
import type { ConnectionRequest, TransportName } from '../hub/connection-request.js';
import { listOf, oneOf, type OptionRules } from '../options/option-rules.js';
import { ACCESS_TOKEN_PARAMETER, LIBRARY_TOKEN_PARAMETERS, REDACTED } from '../security/redact-url.js';

/** A credential a request may carry, which hubs see only when the application asks for it. */
export type RequestCredential = 'authorization' | 'cookies' | 'accessToken';

const REQUEST_CREDENTIALS: readonly RequestCredential[] = ['authorization', 'cookies', 'accessToken'];
const AUTHORIZATION_HEADERS = new Set(['authorization', 'proxy-authorization']);

export interface ConnectionRequestOptions {
  /**
   * Credentials hubs may read in their connection's request (`@HubRequest()`, `caller.request`):
   * `'authorization'` (the `Authorization` and `Proxy-Authorization` headers), `'cookies'` (the
   * `Cookie` header and `cookies`), `'accessToken'` (the `access_token` query parameter, which
   * browsers send their credential in on WebSockets). Others read `[redacted]`, so that a hub
   * that logs or stores its request does not leak them.
   * @default [] (all redacted)
   */
  readonly exposeRequestCredentials?: readonly RequestCredential[];
}

export const CONNECTION_REQUEST_OPTION_RULES: OptionRules<ConnectionRequestOptions> = {
  exposeRequestCredentials: listOf(oneOf(...REQUEST_CREDENTIALS), 'credential names'),
};

/** Who the gatekeeper admitted with the request. */
export interface RequestAdmission {
  readonly user: unknown;
  readonly address: string | undefined;
}

/** Takes the frozen `ConnectionRequest` of an accepted request, redacted as the options say. */
export class ConnectionRequestCapture {
  private readonly exposed: ReadonlySet<RequestCredential>;

  constructor(options: ConnectionRequestOptions) {
    const listed = options.exposeRequestCredentials ?? [];
    const unknown = Array.isArray(listed) ? listed.filter((entry) => !REQUEST_CREDENTIALS.includes(entry)) : [listed];
    if (unknown.length > 0) {
      throw new SignalRError(
        SignalRErrorCode.InvalidOption,
        `Option 'exposeRequestCredentials' must list only ${REQUEST_CREDENTIALS.map((entry) => `'${entry}'`).join(', ')}, got ${JSON.stringify(unknown)}.`,
      );
    }
    this.exposed = new Set(listed);
  }

  capture(request: IncomingMessage, query: URLSearchParams, transport: TransportName, admission: RequestAdmission): ConnectionRequest {
    return Object.freeze({
      transport,
      headers: this.headersOf(request),
      cookies: this.cookiesOf(request.headers.cookie),
      query: this.queryOf(query),
      remoteAddress: admission.address,
      user: admission.user,
    });
  }

  private headersOf(request: IncomingMessage): Readonly<Record<string, string>> {
    const headers: [string, string][] = [];
    for (const [name, value] of Object.entries(request.headers)) {
      if (value === undefined) continue;
      headers.push([name, this.isRedactedHeader(name) ? REDACTED : Array.isArray(value) ? value.join(', ') : value]);
    }
    return frozenRecord(headers);
  }

  private isRedactedHeader(name: string): boolean {
    if (AUTHORIZATION_HEADERS.has(name)) return !this.exposed.has('authorization');
    return name === 'cookie' && !this.exposed.has('cookies');
  }

  /**
   * `;`-separated pairs; of a repeated name the first is kept (browsers list the most specific
   * path first); values lose enclosing quotes and are URL-decoded, as ASP.NET Core's are.
   */
  private cookiesOf(header: string | undefined): Readonly<Record<string, string>> {
    const cookies = new Map<string, string>();
    for (const pair of header?.split(';') ?? []) {
      const equals = pair.indexOf('=');
      const name = (equals < 0 ? '' : pair.slice(0, equals)).trim();
      if (name === '' || cookies.has(name)) continue;
      cookies.set(name, this.exposed.has('cookies') ? cookieValue(pair.slice(equals + 1).trim()) : REDACTED);
    }
    return frozenRecord([...cookies]);
  }

  private queryOf(query: URLSearchParams): Readonly<Record<string, string | readonly string[]>> {
    const values: [string, string | readonly string[]][] = [];
    for (const name of new Set(query.keys())) {
      const redact = this.isRedactedParameter(name.toLowerCase());
      const all = query.getAll(name).map((value) => (redact ? REDACTED : value));
      values.push([name, all.length === 1 ? all[0] : Object.freeze(all)]);
    }
    return frozenRecord(values);
  }

  /** Matched case-insensitively, as log redaction matches them. */
  private isRedactedParameter(lowerCaseName: string): boolean {
    if (LIBRARY_TOKEN_PARAMETERS.has(lowerCaseName)) return true;
    return lowerCaseName === ACCESS_TOKEN_PARAMETER && !this.exposed.has('accessToken');
  }
}

/**
 * The prototype of every record: keys come from the client, and with no `Object.prototype` in
 * the chain, `constructor` and the like do not read as present and `__proto__` is a plain entry.
 * Not a null prototype itself: V8 keeps such an object as a hash table, or gives each one a shape
 * of its own, several times the size, and every connection holds three records.
 */
const RECORD_PROTOTYPE: object = Object.freeze(Object.create(null));
const EMPTY_RECORD: Readonly<Record<string, never>> = Object.freeze(Object.create(RECORD_PROTOTYPE) as Record<string, never>);

function frozenRecord<T>(entries: readonly (readonly [string, T])[]): Readonly<Record<string, T>> {
  if (entries.length === 0) return EMPTY_RECORD;
  const record = Object.create(RECORD_PROTOTYPE) as Record<string, T>;
  for (const [name, value] of entries) record[name] = value;
  return Object.freeze(record);
}

function cookieValue(raw: string): string {
  const value = raw.length >= 2 && raw.startsWith('"') && raw.endsWith('"') ? raw.slice(1, -1) : raw;
  try {
    return decodeURIComponent(value);
  } catch {
    // A stray `%` is part of the value, not an escape.
    return value;
  }
}
