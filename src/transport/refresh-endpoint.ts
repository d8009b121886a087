import type { IncomingMessage } from 'node:http';
import type { AuthenticationRefresh, PresentedCredential, RefreshAnswer } from '../connection/authentication-refresh.js';
import { refreshError } from '../connection/authentication-refresh.js';
import type { HubConnections } from '../connection/hub-connections.js';
import type { ConnectionRelay, RelayedExchange } from '../lifetime/connection-relay.js';
import type { ConnectionTokens } from '../security/connection-tokens.js';
import type { HubGatekeeper } from '../security/hub-gatekeeper.js';
import type { HttpReply } from './http-platform.js';
import { replyEmpty, replyError, replyJson } from './http-replies.js';

/** Where ASP.NET Core 11 and its clients carry the connection token of a refresh (not `?id=`). */
const CONNECTION_TOKEN_HEADER = 'x-signalr-connection-token';
const JSON_HEADERS = { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store' };

export interface RefreshEndpointParts {
  readonly path: string;
  readonly connections: HubConnections;
  readonly gatekeeper: HubGatekeeper;
  readonly connectionTokens: ConnectionTokens;
  readonly refresh: AuthenticationRefresh;
  /** The lifetime manager's, when it spans nodes: a refresh of another node's connection goes there. */
  readonly relay?: ConnectionRelay;
}

/**
 * `POST {hub}/refresh`, as ASP.NET Core 11 serves it: the request passes the checks every hub
 * request passes (Host, Origin, the hub's Passport strategies; no credential where the hub needs
 * one is 401), names its connection by the sealed token in `X-SignalR-Connection-Token`, and the
 * node holding that connection decides (`AuthenticationRefresh`). Refusals are JSON
 * `{"error":"<code>"}`; nothing about the connection changes with them, except a hub
 * authorization the new credential no longer passes, which ends it.
 */
export class RefreshEndpoint {
  constructor(private readonly parts: RefreshEndpointParts) {}

  async serve(request: IncomingMessage, reply: HttpReply): Promise<void> {
    if (request.method !== 'POST') return replyEmpty(reply, 405, { Allow: 'POST' });
    const { gatekeeper, connectionTokens, path } = this.parts;
    const admission = await gatekeeper.admit(request, 'deferred');
    if (!admission.admitted) return replyError(reply, admission.status, admission.body, admission.headers);
    const headers = admission.corsHeaders;
    const token = request.headers[CONNECTION_TOKEN_HEADER];
    if (typeof token !== 'string' || token === '') return this.answer(reply, headers, refreshError(400, 'missing_connection_token'));
    const claims = connectionTokens.open(token);
    // Stryker disable next-line ConditionalExpression,LogicalOperator: defence in depth; connections and relays are kept per hub, so another hub's token finds none either way.
    if (!claims || claims.hubPath !== path) {
      gatekeeper.refuseToken(request, 404, '', 'refresh with a connection token not of this hub');
      return this.answer(reply, headers, refreshError(404, 'connection_not_found'));
    }
    const credential: PresentedCredential = { user: admission.user, expiresAt: admission.expiresAt };
    const local = this.parts.connections.get(claims.connectionId);
    if (local || !this.parts.relay) return this.answer(reply, headers, await this.parts.refresh.apply(local, credential));
    const outcome = await this.parts.relay.forward(claims.connectionId, { verb: 'refresh', body: encodeCredential(credential) }, 0, new AbortController().signal);
    if (typeof outcome === 'string') return this.answer(reply, headers, refreshError(404, 'connection_not_found'));
    reply.send(outcome.status, { ...outcome.headers, ...headers }, Buffer.from(outcome.body.buffer, outcome.body.byteOffset, outcome.body.byteLength));
  }

  /** Takes the refreshes other nodes forward for a WebSocket connection of this node (the HTTP transports' relay takes theirs). */
  holdForRelay(relay: ConnectionRelay, connectionId: string): Promise<() => void> {
    return relay.serve(connectionId, (exchange) => (exchange.request.verb === 'refresh' ? this.runRelayed(connectionId, exchange) : exchange.answer(undefined)));
  }

  /** On the node holding the connection: a refresh another node admitted. */
  runRelayed(connectionId: string, exchange: RelayedExchange): void {
    const credential = decodeCredential(exchange.request.body);
    // Only another node of this application writes it; one that cannot be read is no refresh.
    if (!credential) return exchange.answer(undefined);
    void this.parts.refresh.apply(this.parts.connections.get(connectionId), credential).then(({ status, body }) => {
      exchange.answer({ status, headers: JSON_HEADERS, body: Buffer.from(body) });
    });
  }

  private answer(reply: HttpReply, headers: Record<string, string>, { status, body }: RefreshAnswer): void {
    replyJson(reply, body, headers, status);
  }
}

/**
 * The user travels to the holding node as JSON: what a Passport strategy returns for a bearer
 * token (its claims) survives that, and the holding node's checks and hub see it as sent.
 */
function encodeCredential({ user, expiresAt }: PresentedCredential): Uint8Array {
  return Buffer.from(JSON.stringify({ user: user ?? null, expiresAt: expiresAt ?? null }));
}

function decodeCredential(body: Uint8Array | undefined): PresentedCredential | undefined {
  let decoded: { user?: unknown; expiresAt?: unknown };
  try {
    decoded = JSON.parse(Buffer.from(body ?? new Uint8Array()).toString('utf8')) as typeof decoded;
  } catch {
    return undefined;
  }
  // Any JSON value but null can be read for its fields; without an expiry that is null or a number it is no credential.
  if (decoded === null) return undefined;
  const { user, expiresAt } = decoded;
  if (expiresAt !== null && typeof expiresAt !== 'number') return undefined;
  return { user: user ?? undefined, expiresAt: expiresAt ?? undefined };
}
