import type { HttpRequest, HttpResponse, HubConnection } from '@microsoft/signalr';
import { wrapInnerHttpClient, type InnerHttpClient } from './signalr-client-internals.js';

// Wire names of ASP.NET Core 11's authentication refresh, as its clients send them.
const CONNECTION_TOKEN_HEADER = 'X-SignalR-Connection-Token';
const REFRESH_PATH = '/refresh';
const NEGOTIATE_PATH = '/negotiate?';
/** The official clients' margin: refresh this long before expiry, or at half a shorter lifetime. */
const DEFAULT_REFRESH_BEFORE_EXPIRATION_MS = 300_000;
const MAX_TIMER_DELAY_MS = 2 ** 31 - 1;

export interface AuthenticationRefreshOptions {
  /** The factory given to `withUrl`: every refresh asks it for a new token. */
  readonly accessTokenFactory: () => string | Promise<string>;
  /**
   * How long before the credential's end to refresh it; a lifetime shorter than twice this is
   * refreshed at its half, as the official clients do.
   * @default 300000 ms
   */
  readonly refreshBeforeExpirationMs?: number;
  /** Extra headers of every refresh, as `withUrl`'s `headers`. */
  readonly headers?: Readonly<Record<string, string>>;
  /** A refresh was accepted; the server announced this many seconds for the new credential, if any. */
  readonly onRefreshed?: (newTokenLifetimeSeconds: number | undefined) => void;
  /** A refresh by the timer failed: no other follows, and the server closes the connection at the old credential's end. */
  readonly onRefreshFailed?: (error: Error) => void;
}

/**
 * ASP.NET Core 11's authentication refresh for `@microsoft/signalr` 10, a bridge until the
 * official TypeScript client 11 reaches npm: same endpoint, headers and timing as that client's
 * `withAuthenticationRefresh()`. When negotiate announces `tokenLifetimeSeconds`, it posts a new
 * token from `accessTokenFactory` to `{hub}/refresh` before the old one ends, and again for each
 * lifetime the server announces, so the connection stays open with short-lived tokens.
 *
 * ```ts
 * const refresh = new AuthenticationRefresh('/hubs/chat', { accessTokenFactory });
 * const connection = refresh.attach(new HubConnectionBuilder().withUrl('/hubs/chat', { accessTokenFactory }).build());
 * await connection.start();
 * ```
 *
 * Attach before `start()`. As the official clients, a refused refresh is not retried; the server
 * then closes the connection when the old credential expires (`withAutomaticReconnect` reconnects).
 */
export class AuthenticationRefresh {
  private readonly refreshUrl: string;
  private inner: InnerHttpClient | undefined;
  /**
   * The token of the last accepted refresh, which later requests (polls, sends) carry instead of
   * the one the client keeps: it asks for another only on a 401, which its fetch client throws
   * rather than returns, so an expired one would end a long-polling or SSE connection.
   */
  private adoptedToken: string | undefined;
  private connectionToken: string | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    url: string,
    private readonly options: AuthenticationRefreshOptions,
  ) {
    const queryStart = url.indexOf('?');
    const [path, query] = queryStart === -1 ? [url, ''] : [url.slice(0, queryStart), url.slice(queryStart)];
    this.refreshUrl = `${path.endsWith('/') ? path.slice(0, -1) : path}${REFRESH_PATH}${query}`;
  }

  /** Watches negotiate on a connection built but not started; returns it. */
  attach(connection: HubConnection): HubConnection {
    const wrapped = wrapInnerHttpClient(connection, (inner) => {
      this.inner = inner;
      return { send: (request) => this.sendWatching(inner, request), getCookieString: (url) => inner.getCookieString(url) };
    });
    if (!wrapped) throw new Error('AuthenticationRefresh: this @microsoft/signalr version keeps its HTTP client elsewhere; see signalr-client-internals.ts.');
    connection.onclose(() => {
      this.stop();
      this.connectionToken = undefined;
    });
    return connection;
  }

  /** Refreshes now; resolves with the new lifetime in seconds (undefined: none announced), rejects when refused. */
  async refresh(): Promise<number | undefined> {
    const { inner, connectionToken } = this;
    if (!inner || connectionToken === undefined) throw new Error('AuthenticationRefresh: the connection has not negotiated.');
    const accessToken = await this.options.accessTokenFactory();
    const response = await inner.send({
      method: 'POST',
      url: this.refreshUrl,
      content: '',
      headers: { ...this.options.headers, 'X-Requested-With': 'XMLHttpRequest', [CONNECTION_TOKEN_HEADER]: connectionToken, Authorization: `Bearer ${accessToken}` },
    });
    // The official TypeScript client takes nothing but 200 as success.
    if (response.statusCode !== 200) throw new Error(`Unexpected status code returned from authentication refresh: ${response.statusCode}`);
    const lifetime = lifetimeOf(JSON.parse(String(response.content ?? '')) as unknown);
    // A connection that closed (or negotiated anew) meanwhile is not this refresh's.
    if (this.connectionToken !== connectionToken) return lifetime;
    // As the official clients: the accepted token is the one later requests carry.
    this.adoptedToken = accessToken;
    this.schedule(lifetime);
    this.options.onRefreshed?.(lifetime);
    return lifetime;
  }

  private async sendWatching(inner: InnerHttpClient, request: HttpRequest): Promise<HttpResponse> {
    const negotiating = request.url?.includes(NEGOTIATE_PATH) === true;
    // Negotiate carries a token the client just asked the factory for: newer than any refreshed one.
    if (negotiating) this.adoptedToken = undefined;
    else if (this.adoptedToken !== undefined && request.headers?.Authorization !== undefined) request.headers.Authorization = `Bearer ${this.adoptedToken}`;
    const response = await inner.send(request);
    if (negotiating && response.statusCode === 200) this.negotiated(String(response.content ?? ''));
    return response;
  }

  /** A negotiate that names the connection (not a redirect) starts its schedule; a reconnect's negotiate starts it anew. */
  private negotiated(body: string): void {
    let negotiate: { connectionToken?: unknown; tokenLifetimeSeconds?: unknown };
    try {
      negotiate = JSON.parse(body) as typeof negotiate;
    } catch {
      return;
    }
    if (typeof negotiate.connectionToken !== 'string') return;
    this.connectionToken = negotiate.connectionToken;
    this.schedule(lifetimeOf(negotiate));
  }

  private schedule(lifetimeSeconds: number | undefined): void {
    this.stop();
    if (lifetimeSeconds === undefined) return;
    const lifetimeMs = lifetimeSeconds * 1000;
    const margin = this.options.refreshBeforeExpirationMs ?? DEFAULT_REFRESH_BEFORE_EXPIRATION_MS;
    const delay = lifetimeMs - margin <= margin ? lifetimeMs / 2 : lifetimeMs - margin;
    this.timer = setTimeout(() => {
      this.refresh().catch((error: Error) => this.options.onRefreshFailed?.(error));
    }, Math.min(delay, MAX_TIMER_DELAY_MS));
  }

  private stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }
}

/** A positive lifetime, as the clients take it; anything else stops automatic refresh. */
function lifetimeOf(body: unknown): number | undefined {
  const seconds: unknown = typeof body === 'object' && body !== null ? (body as { tokenLifetimeSeconds?: unknown }).tokenLifetimeSeconds : undefined;
  return typeof seconds === 'number' && Number.isFinite(seconds) && seconds > 0 ? seconds : undefined;
}
