import { Logger } from '@nestjs/common';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { HubConnections } from '../connection/hub-connections.js';
import type { HubProxyRenderer } from '../proxies/hub-proxy-renderer.js';
import type { ConnectionCaps } from '../security/connection-caps.js';
import type { ConnectionTokens } from '../security/connection-tokens.js';
import type { HubGatekeeper, Refusal } from '../security/hub-gatekeeper.js';
import { redactUrl } from '../security/redact-url.js';
import type { HttpReply } from './http-platform.js';
import { refuseUpgrade, replyError, replyJson, replyNoContent, replyScript } from './http-replies.js';
import { negotiateResponse } from './negotiate-response.js';
import type { HttpTransport } from './http-transport.js';
import type { RefreshEndpoint } from './refresh-endpoint.js';
import { tokenLifetimeSeconds } from '../connection/authentication-refresh.js';
import type { WebSocketTransport } from './websocket-transport.js';

const logger = new Logger('SignalR:Endpoint');

const NEGOTIATE = '/negotiate';
const REFRESH = '/refresh';
const PROXY_FILES = new Set(['/proxy.js', '/proxy.d.ts']);

export interface HubEndpointParts {
  readonly path: string;
  readonly connections: HubConnections;
  readonly webSocket: WebSocketTransport;
  /** Server-Sent Events and long polling, on the hub's own path. */
  readonly http: HttpTransport;
  readonly gatekeeper: HubGatekeeper;
  readonly connectionTokens: ConnectionTokens;
  /** The node's connection caps, shared by every hub of the module. */
  readonly caps: ConnectionCaps;
  /** Present when client proxies are on (`proxies: true`). */
  readonly proxies: HubProxyRenderer | undefined;
  /** Present while authentication refresh is on for the hub: without it `{hub}/refresh` is no resource (404). */
  readonly refresh: RefreshEndpoint | undefined;
}

/**
 * One hub's HTTP face: answers negotiate (and the proxy files), passes the requests on its own
 * path to the Server-Sent Events and long-polling transport, and WebSocket upgrades to the
 * WebSocket transport; both hand what they admitted to the hub's connections. Requests reach it
 * through the application's HTTP pipeline (`HubRequests`), upgrades through the adapter.
 */
export class HubEndpoint {
  readonly path: string;
  /** The hub's live connections and what they share. */
  readonly connections: HubConnections;

  constructor(private readonly parts: HubEndpointParts) {
    this.path = parts.path;
    this.connections = parts.connections;
  }

  /** Whether `rest`, what follows the hub's path (lower-cased), names one of its HTTP resources. */
  servesHttp(rest: string): boolean {
    if (rest === REFRESH) return this.parts.refresh !== undefined;
    return rest === '' || rest === NEGOTIATE || (this.parts.proxies !== undefined && PROXY_FILES.has(rest));
  }

  /** The paths of its HTTP resources that a catch-all route of the application must not take. */
  get httpPaths(): string[] {
    const refresh = this.parts.refresh ? [`${this.path}${REFRESH}`] : [];
    return [this.path, `${this.path}${NEGOTIATE}`, ...refresh];
  }

  /**
   * Answers the request if it is a CORS preflight of negotiate, of the hub's path or of a refresh
   * (only an allowed cross origin gets permission headers); returns whether it was.
   */
  answerPreflight(request: IncomingMessage, reply: HttpReply, rest: string): boolean {
    // The proxy files take no preflight: a page loads them as scripts.
    if (request.method !== 'OPTIONS' || !this.servesHttp(rest) || PROXY_FILES.has(rest)) return false;
    const preflight = this.parts.gatekeeper.preflight(request);
    if (isRefusal(preflight)) replyError(reply, preflight.status, preflight.body, preflight.headers);
    else replyNoContent(reply, preflight);
    return true;
  }

  /** Answers negotiate, a refresh, a proxy file or a request of the HTTP transports (`rest` as `servesHttp` accepted it). */
  async serveHttp(request: IncomingMessage, reply: HttpReply, rest: string, query: URLSearchParams): Promise<void> {
    // Only the transports' POSTs carry a body the hub reads.
    if (rest !== '') request.resume();
    try {
      if (rest === '') await this.parts.http.serve(request, reply, query);
      else if (rest === NEGOTIATE) await this.negotiate(request, reply, query);
      else if (rest === REFRESH) await this.parts.refresh!.serve(request, reply);
      else await this.serveProxy(request, reply, this.parts.proxies!, rest === '/proxy.d.ts');
    } catch (error) {
      logger.error(`Request failed on ${redactUrl(request.url)}`, (error as Error).stack);
      if (!reply.sent) replyError(reply, 500, 'Internal Server Error');
    }
  }

  /** Admits the upgrade and hands the socket to the WebSocket transport. */
  upgrade(request: IncomingMessage, socket: Duplex, head: Buffer, query: URLSearchParams): void {
    this.parts.webSocket.upgrade(request, socket, head, query).catch((error: Error) => {
      logger.error(`Upgrade failed on ${redactUrl(request.url)}`, error.stack);
      refuseUpgrade(socket, 500, 'Internal Server Error');
    });
  }

  /** Closes every connection and stops accepting new ones. */
  close(done?: () => void): void {
    this.connections.close();
    this.parts.webSocket.close(() => done?.());
  }

  /** Nest's gateway machinery subscribes to server events; hubs raise none. */
  on(): void {}

  private async negotiate(request: IncomingMessage, reply: HttpReply, query: URLSearchParams): Promise<void> {
    const { gatekeeper, connectionTokens } = this.parts;
    const admission = await gatekeeper.admit(request);
    if (!admission.admitted) return replyError(reply, admission.status, admission.body, admission.headers);
    if (request.method !== 'POST') {
      return replyError(reply, 405, 'Method Not Allowed', { ...admission.corsHeaders, Allow: 'POST' });
    }
    // Refused before a token exists; the upgrade checks again, and takes the slot.
    const overCap = this.parts.caps.check(this.path, admission.userKey, admission.address);
    if (overCap) return replyError(reply, overCap.status, overCap.body, { ...admission.corsHeaders, ...overCap.headers });
    const requestedVersion = Number.parseInt(query.get('negotiateVersion') ?? '0', 10);
    const connection = connectionTokens.issue(this.path, admission.userKey);
    const statefulReconnect = this.connections.allowStatefulReconnect && query.get('useStatefulReconnect') === 'true';
    const version = Number.isNaN(requestedVersion) ? 0 : requestedVersion;
    // Announced only where a client can refresh: it then presents a new credential before this one's end.
    const lifetime = this.parts.refresh ? tokenLifetimeSeconds(admission.expiresAt) : undefined;
    const body = negotiateResponse(version, connection, statefulReconnect, this.connections.options.transports, lifetime);
    replyJson(reply, body, admission.corsHeaders);
  }

  /** The proxy differs per user, so it passes the same checks as negotiate and is never cached. */
  private async serveProxy(request: IncomingMessage, reply: HttpReply, proxies: HubProxyRenderer, typings: boolean): Promise<void> {
    if (request.method !== 'GET' && request.method !== 'HEAD') return replyError(reply, 405, 'Method Not Allowed', { Allow: 'GET' });
    const admission = await this.parts.gatekeeper.admit(request);
    if (!admission.admitted) return replyError(reply, admission.status, admission.body, admission.headers);
    const body = typings ? await proxies.typings(admission.user) : await proxies.javascript(admission.user);
    const { Vary: corsVary, ...corsHeaders } = admission.corsHeaders;
    const contentType = typings ? 'application/typescript; charset=utf-8' : 'text/javascript; charset=utf-8';
    // The CORS answer varies with Origin and the listing with the credential: a cache must key on all three.
    const headers = { ...corsHeaders, Vary: [corsVary, 'Authorization, Cookie'].filter(Boolean).join(', ') };
    replyScript(reply, body, contentType, headers);
  }
}

function isRefusal(value: Refusal | Record<string, string>): value is Refusal {
  return (value as Refusal).admitted === false;
}
