import { Logger } from '@nestjs/common';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { HubConnections } from '../connection/hub-connections.js';
import type { HubProxyRenderer } from '../proxies/hub-proxy-renderer.js';
import type { ConnectionCaps } from '../security/connection-caps.js';
import type { ConnectionTokens } from '../security/connection-tokens.js';
import type { HubGatekeeper, Refusal } from '../security/hub-gatekeeper.js';
import { redactUrl } from '../security/redact-url.js';
import { refuseUpgrade, replyError, replyJson, replyNoContent, replyScript } from './http-replies.js';
import { negotiateResponse } from './negotiate-response.js';
import type { WebSocketTransport } from './websocket-transport.js';

const logger = new Logger('SignalR:Endpoint');

const PROXY_FILES = new Set(['/proxy.js', '/proxy.d.ts']);

export interface HubEndpointParts {
  readonly path: string;
  readonly connections: HubConnections;
  readonly webSocket: WebSocketTransport;
  readonly gatekeeper: HubGatekeeper;
  readonly connectionTokens: ConnectionTokens;
  /** The node's connection caps, shared by every hub of the module. */
  readonly caps: ConnectionCaps;
  /** Present when client proxies are on (`proxies: true`). */
  readonly proxies: HubProxyRenderer | undefined;
}

/**
 * One hub's HTTP face: answers negotiate (and the proxy files), and passes WebSocket upgrades to
 * the WebSocket transport, which hands admitted sockets to the hub's connections. The adapter
 * routes requests here by path.
 */
export class HubEndpoint {
  readonly path: string;
  /** The hub's live connections and what they share. */
  readonly connections: HubConnections;
  private readonly negotiatePath: string;

  constructor(private readonly parts: HubEndpointParts) {
    this.path = parts.path;
    this.connections = parts.connections;
    this.negotiatePath = `${this.path}/negotiate`;
  }

  /** Takes the request if it is this hub's negotiate or proxy; returns false to pass it on. */
  handleRequest(request: IncomingMessage, response: ServerResponse, pathname: string, query: URLSearchParams): boolean {
    let handling: Promise<void>;
    if (pathname === this.negotiatePath) handling = this.negotiate(request, response, query);
    else if (this.parts.proxies && pathname.startsWith(this.path) && PROXY_FILES.has(pathname.slice(this.path.length))) {
      handling = this.serveProxy(request, response, this.parts.proxies, pathname.endsWith('.d.ts'));
    } else return false;
    request.resume();
    handling.catch((error: Error) => {
      logger.error(`Request failed on ${redactUrl(request.url)}`, error.stack);
      if (!response.headersSent) replyError(response, 500, 'Internal Server Error');
    });
    return true;
  }

  /** Takes the upgrade if it is for this hub; returns false to pass it on. */
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer, pathname: string, query: URLSearchParams): boolean {
    if (pathname !== this.path) return false;
    this.parts.webSocket.upgrade(request, socket, head, query).catch((error: Error) => {
      logger.error(`Upgrade failed on ${redactUrl(request.url)}`, error.stack);
      refuseUpgrade(socket, 500, 'Internal Server Error');
    });
    return true;
  }

  /** Closes every connection and stops accepting new ones. */
  close(done?: () => void): void {
    this.connections.close();
    this.parts.webSocket.close(() => done?.());
  }

  /** Nest's gateway machinery subscribes to server events; hubs raise none. */
  on(): void {}

  private async negotiate(request: IncomingMessage, response: ServerResponse, query: URLSearchParams): Promise<void> {
    const { gatekeeper, connectionTokens } = this.parts;
    if (request.method === 'OPTIONS') {
      const preflight = gatekeeper.preflight(request);
      if (isRefusal(preflight)) return replyError(response, preflight.status, preflight.body, preflight.headers);
      replyNoContent(response, preflight);
      return;
    }
    const admission = await gatekeeper.admit(request);
    if (!admission.admitted) return replyError(response, admission.status, admission.body, admission.headers);
    if (request.method !== 'POST') {
      return replyError(response, 405, 'Method Not Allowed', { ...admission.corsHeaders, Allow: 'POST' });
    }
    // Refused before a token exists; the upgrade checks again, and takes the slot.
    const overCap = this.parts.caps.check(this.path, admission.userKey, admission.address);
    if (overCap) return replyError(response, overCap.status, overCap.body, { ...admission.corsHeaders, ...overCap.headers });
    const requestedVersion = Number.parseInt(query.get('negotiateVersion') ?? '0', 10);
    const connection = connectionTokens.issue(this.path, admission.userKey);
    const statefulReconnect = this.connections.allowStatefulReconnect && query.get('useStatefulReconnect') === 'true';
    const body = negotiateResponse(Number.isNaN(requestedVersion) ? 0 : requestedVersion, connection, statefulReconnect);
    replyJson(response, body, admission.corsHeaders);
  }

  /** The proxy differs per user, so it passes the same checks as negotiate and is never cached. */
  private async serveProxy(request: IncomingMessage, response: ServerResponse, proxies: HubProxyRenderer, typings: boolean): Promise<void> {
    if (request.method !== 'GET' && request.method !== 'HEAD') return replyError(response, 405, 'Method Not Allowed', { Allow: 'GET' });
    const admission = await this.parts.gatekeeper.admit(request);
    if (!admission.admitted) return replyError(response, admission.status, admission.body, admission.headers);
    const body = typings ? await proxies.typings(admission.user) : await proxies.javascript(admission.user);
    const { Vary: corsVary, ...corsHeaders } = admission.corsHeaders;
    const contentType = typings ? 'application/typescript; charset=utf-8' : 'text/javascript; charset=utf-8';
    // The CORS answer varies with Origin and the listing with the credential: a cache must key on all three.
    const headers = { ...corsHeaders, Vary: [corsVary, 'Authorization, Cookie'].filter(Boolean).join(', ') };
    replyScript(response, body, contentType, headers, request.method === 'HEAD');
  }
}

function isRefusal(value: Refusal | Record<string, string>): value is Refusal {
  return (value as Refusal).admitted === false;
}
