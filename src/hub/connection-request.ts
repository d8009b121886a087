import type { TransportName } from '../options/hub-options.js';

/** How a connection's socket reaches the server, named as the client's `HttpTransportType` names it. */
export type { TransportName };

/**
 * The HTTP request behind a connection, as ASP.NET Core's `Context.GetHttpContext()` shows it to
 * hubs: taken once when the transport accepted the connection, and frozen. A stateful reconnect
 * brings a new request (new credentials, maybe a new address): the connection then carries that
 * one, as ASP.NET Core does for WebSockets, and as `user` follows the reconnect's credential.
 * Credentials read `[redacted]` unless the module's `exposeRequestCredentials` lists them.
 */
export interface ConnectionRequest {
  readonly transport: TransportName;
  /**
   * By lower-case name, as Node reads them: repeated headers joined with `, ` (`; ` for Cookie).
   * `Authorization` and `Proxy-Authorization` unless `'authorization'` is exposed, and `Cookie`
   * unless `'cookies'` is, read `[redacted]`.
   */
  readonly headers: Readonly<Record<string, string>>;
  /** The `Cookie` header's cookies by name (the first of a repeated name), values URL-decoded; each `[redacted]` unless `'cookies'` is exposed. */
  readonly cookies: Readonly<Record<string, string>>;
  /**
   * Query parameters by name; a repeated name gives its values in order. `access_token` (what
   * browsers send their credential in on WebSockets) reads `[redacted]` unless `'accessToken'` is
   * exposed; the library's own tokens (`id`, `resume`) always do.
   */
  readonly query: Readonly<Record<string, string | readonly string[]>>;
  /**
   * The peer's address, or, from a peer listed in `trustedProxies`, the last `X-Forwarded-For`
   * entry (the one that proxy wrote); undefined if the socket was gone before it was read.
   */
  readonly remoteAddress: string | undefined;
  /** The user this request authenticated, `undefined` when anonymous. */
  readonly user: unknown;
}
