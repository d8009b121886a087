import type { IncomingMessage } from 'node:http';
import type { ConnectionFeatures, ConnectionIdentity } from '../connection/connection-features.js';
import type { HubConnection } from '../connection/hub-connection.js';
import type { HubConnections } from '../connection/hub-connections.js';
import { transportErrors } from '../errors/transport-errors.js';
import type { ConnectionRelay, RelayedExchange } from '../lifetime/connection-relay.js';
import type { ResolvedHubOptions } from '../options/hub-options.js';
import type { ConnectionCaps, ConnectionSlot } from '../security/connection-caps.js';
import { claimConnection, claimRequest, UNKNOWN_CONNECTION, type ClaimedConnection } from '../security/connection-claim.js';
import type { ConnectionRegistry } from '../security/connection-registry.js';
import type { ConnectionTokenClaims, ConnectionTokens } from '../security/connection-tokens.js';
import type { Admitted, HubGatekeeper } from '../security/hub-gatekeeper.js';
import { claimNewId, holdingSlot } from './connection-opening.js';
import type { ConnectionRequestCapture } from './connection-request-capture.js';
import type { HttpChannel } from './http-channel.js';
import type { HttpReply } from './http-platform.js';
import { HttpRelay } from './http-relay.js';
import { replyEmpty, replyError } from './http-replies.js';
import { LongPollingChannel } from './long-polling-channel.js';
import { readBody } from './request-body.js';
import { ServerSentEventsChannel } from './server-sent-events-channel.js';

type HttpTransportName = 'ServerSentEvents' | 'LongPolling';

export interface HttpTransportParts {
  readonly path: string;
  readonly options: ResolvedHubOptions;
  readonly connections: HubConnections;
  readonly gatekeeper: HubGatekeeper;
  readonly connectionTokens: ConnectionTokens;
  readonly registry: ConnectionRegistry;
  /** The node's connection caps, shared by every hub of the module. */
  readonly caps: ConnectionCaps;
  readonly negotiateTokenLifetimeMs: number;
  readonly closeOnCredentialExpiry: boolean;
  readonly requestCapture: ConnectionRequestCapture;
  /** The lifetime manager's, when it spans nodes: requests for connections of other nodes go there. */
  readonly relay?: ConnectionRelay;
  /** Runs an authentication refresh another node admitted for a connection of this one; absent while refresh is off. */
  readonly refreshRelayed?: (connectionId: string, exchange: RelayedExchange) => void;
}

/** One request to the hub's path, admitted, with the connection its token names. */
interface HubRequest {
  readonly request: IncomingMessage;
  readonly reply: HttpReply;
  readonly query: URLSearchParams;
  readonly admission: Admitted;
  /** The token, opened once: every check reads these. */
  readonly claims: ConnectionTokenClaims | undefined;
  readonly claimed: ClaimedConnection;
  /** What every answer to it carries: CORS for an allowed cross origin, no-cache for a poll. */
  readonly headers: Record<string, string>;
}

// What ASP.NET Core puts on every answer to a GET that is not an event stream, refusals included.
const POLL_HEADERS = { 'Cache-Control': 'no-cache, no-store', Pragma: 'no-cache', Expires: 'Thu, 01 Jan 1970 00:00:00 GMT' };

export const EVENT_STREAM_HEADERS = {
  'Content-Type': 'text/event-stream',
  'Cache-Control': 'no-cache,no-store',
  Pragma: 'no-cache',
  // So that a compression layer leaves the stream alone, as ASP.NET Core asks of its own.
  'Content-Encoding': 'identity',
  'X-Content-Type-Options': 'nosniff',
};

/**
 * The Server-Sent Events and long-polling face of a hub, on its path: a GET with
 * `Accept: text/event-stream` opens an event stream, any other GET is a poll, a POST carries the
 * client's messages, a DELETE ends a long-polling connection. Every request is admitted anew
 * (Host, Origin, authentication, `@Authorize`) and carries the sealed connection token, which
 * must name this hub and the user the request authenticated: a token of another user is refused
 * with 403 and nothing is read from or delivered to that request. With a relay, a poll, POST or
 * DELETE for a connection another node holds is forwarded there once it passed those checks.
 */
export class HttpTransport {
  private readonly channels = new Map<string, HttpChannel>();
  private readonly relay: HttpRelay | undefined;

  constructor(private readonly parts: HttpTransportParts) {
    this.relay = parts.relay && new HttpRelay(parts.relay, (connectionId) => this.channels.get(connectionId), parts.options, parts.refreshRelayed);
  }

  /** Serves one request to the hub's path; resolves once it is answered (an event stream: once it ended). */
  async serve(request: IncomingMessage, reply: HttpReply, query: URLSearchParams): Promise<void> {
    const { method } = request;
    const poll = method === 'GET' && !acceptsEventStream(request);
    if (method !== 'GET' && method !== 'POST' && method !== 'DELETE') return replyEmpty(reply, 405, { Allow: 'GET, POST, DELETE' });
    const admission = await this.parts.gatekeeper.admit(request);
    const cacheHeaders = poll ? POLL_HEADERS : {};
    if (!admission.admitted) return replyError(reply, admission.status, admission.body, { ...admission.headers, ...cacheHeaders });
    const headers = { ...admission.corsHeaders, ...cacheHeaders };
    const token = query.get('id');
    if (!token) return replyError(reply, 400, transportErrors.connectionIdRequired, headers);
    const claims = this.parts.connectionTokens.open(token);
    const claimed = claimRequest(claims, admission.userKey, this.parts.path);
    if ('admitted' in claimed) return this.refuse(request, reply, claimed.status, claimed.body, headers, 'connection token refused');
    const hubRequest: HubRequest = { request, reply, query, admission, claims, claimed, headers };
    if (method === 'POST') return this.send(hubRequest);
    if (method === 'DELETE') return this.remove(hubRequest);
    return this.receive(hubRequest, poll ? 'LongPolling' : 'ServerSentEvents');
  }

  /** The event stream or a poll: of a connection this node holds, of one another node holds, or the first of a new one. */
  private async receive(hubRequest: HubRequest, transport: HttpTransportName): Promise<void> {
    const { request, reply, claimed, headers } = hubRequest;
    const channel = this.channels.get(claimed.connectionId);
    if (channel instanceof LongPollingChannel && transport === 'LongPolling') return channel.poll(reply, headers);
    const live = channel?.transport ?? this.parts.connections.transportOf(claimed.connectionId);
    // An event stream is one request: the node it reaches holds its connection.
    if (live === undefined && transport === 'LongPolling' && (await this.relay?.forward(claimed.connectionId, 'poll', reply, headers))) return;
    if (live === transport) return this.refuse(request, reply, 409, '', headers, 'a second event stream');
    if (live !== undefined) return this.refuse(request, reply, 400, transportErrors.cannotChange, headers, `${transport} request on a ${live} connection`);
    if (!this.parts.options.transports.includes(transport)) {
      return this.refuse(request, reply, 404, transportErrors.notSupported(transport), headers, 'transport not enabled');
    }
    return this.start(hubRequest, transport);
  }

  /** A new connection, holding a slot under the caps and its id claimed in the registry. */
  private async start(hubRequest: HubRequest, transport: HttpTransportName): Promise<void> {
    const { request, reply, admission, headers } = hubRequest;
    const { connections, negotiateTokenLifetimeMs, path } = this.parts;
    const fresh = claimConnection(hubRequest.claims, admission.userKey, {
      hubPath: path,
      unusedLifetimeMs: negotiateTokenLifetimeMs,
      isResumable: () => false,
      liveTransport: (id) => connections.transportOf(id),
      transport,
    });
    if ('admitted' in fresh) return this.refuse(request, reply, fresh.status, fresh.body, headers, 'connection token refused');
    let opened: HttpChannel | undefined;
    const refused = await holdingSlot(this.parts.caps, path, admission, async (slot) => {
      const claimed = await claimNewId(this.parts.registry, fresh, negotiateTokenLifetimeMs);
      // With a relay, a poll comes here only when no node holds its connection: one live in the registry lost its node.
      if ('admitted' in claimed && claimed.status === 409 && transport === 'LongPolling' && this.relay) {
        return this.refuse(request, reply, 404, UNKNOWN_CONNECTION, headers, 'poll of a connection whose node is gone');
      }
      if ('admitted' in claimed) return this.refuse(request, reply, claimed.status, claimed.body, headers, claimed.reason);
      // Before the client hears of its connection: its next request may reach another node.
      const release = await this.relay?.hold(fresh.connectionId);
      // Two first requests of one token may race here: the registry lets one through.
      const connection = this.open(hubRequest, transport, claimed.forgetAt, slot, release);
      opened = this.channels.get(fresh.connectionId);
      return connection;
    });
    if (refused) return replyError(reply, refused.status, refused.body, { ...headers, ...refused.headers });
    if (opened && transport === 'ServerSentEvents') await new Promise((resolve) => opened!.once('close', resolve));
  }

  private open(hubRequest: HubRequest, transport: HttpTransportName, forgetAt: number, slot: ConnectionSlot, release?: () => void): HubConnection {
    const { reply, headers, claimed } = hubRequest;
    const { connectionId } = claimed;
    const { options } = this.parts;
    let channel: HttpChannel;
    let features: ConnectionFeatures;
    if (transport === 'ServerSentEvents') {
      channel = new ServerSentEventsChannel(reply.stream(200, { ...headers, ...EVENT_STREAM_HEADERS }), connectionId, options.transportSendTimeoutMs);
      features = { groupsTokens: false, statefulReconnect: false, textOnly: true };
    } else {
      channel = new LongPollingChannel(connectionId, {
        pollTimeoutMs: options.longPollingTimeoutMs,
        disconnectTimeoutMs: options.disconnectTimeoutMs,
        sendTimeoutMs: options.transportSendTimeoutMs,
      });
      features = { groupsTokens: false, statefulReconnect: false, inherentKeepAlive: true };
    }
    this.channels.set(connectionId, channel);
    channel.once('close', () => {
      if (this.channels.get(connectionId) === channel) this.channels.delete(connectionId);
      release?.();
    });
    const connection = this.parts.connections.open(channel, connectionId, this.identityOf(hubRequest, transport), features, forgetAt, slot);
    // The first poll is answered at once, empty: the client then knows its later requests will find the connection.
    if (transport === 'LongPolling') reply.send(200, { ...headers, 'Content-Type': 'application/octet-stream', 'Content-Length': 0, 'X-Content-Type-Options': 'nosniff' });
    return connection;
  }

  /** A POST: its body goes to the connection once the POSTs before it are done and the connection reads. */
  private async send(hubRequest: HubRequest): Promise<void> {
    const { request, reply, claimed, headers } = hubRequest;
    const channel = this.channels.get(claimed.connectionId);
    if (!channel) {
      const onWebSocket = this.parts.connections.transportOf(claimed.connectionId) === 'WebSockets';
      if (onWebSocket) return this.refuse(request, reply, 405, transportErrors.postOnWebSocket, headers, 'POST on a WebSocket connection');
      if (this.relay) return this.forwardSend(hubRequest, this.relay);
      return replyError(reply, 404, UNKNOWN_CONNECTION, headers);
    }
    const status = await channel.inTurn(async () => {
      const read = await readBody(request, this.parts.options.maximumReceiveFrameSize);
      if ('status' in read) return read.status;
      return (await channel.deliver(read.body)) ? 200 : 404;
    });
    if (status === 413) {
      // As a WebSocket frame over the limit closes its socket, a body over it ends the connection.
      channel.terminate();
      return this.refuseTooLarge(hubRequest);
    }
    replyEmpty(reply, status, headers);
  }

  /** A POST for a connection another node may hold: its body, bounded here, goes there. */
  private async forwardSend(hubRequest: HubRequest, relay: HttpRelay): Promise<void> {
    const { request, reply, claimed, headers } = hubRequest;
    const read = await readBody(request, this.parts.options.maximumReceiveFrameSize);
    if ('status' in read && read.status === 400) return replyEmpty(reply, 400, headers);
    if ('status' in read) {
      await relay.terminate(claimed.connectionId);
      return this.refuseTooLarge(hubRequest);
    }
    if (!(await relay.forward(claimed.connectionId, 'send', reply, headers, read.body))) replyError(reply, 404, UNKNOWN_CONNECTION, headers);
  }

  /** Logged, not counted as a refused token: the request's token was good. */
  private refuseTooLarge({ request, reply, headers }: HubRequest): void {
    this.parts.gatekeeper.refuse(request, 413, 'Payload Too Large', 'request body over maximumReceiveFrameSize');
    replyError(reply, 413, 'Payload Too Large', { ...headers, Connection: 'close' });
  }

  /** A DELETE ends a long-polling connection: its open poll is answered 204. */
  private async remove({ request, reply, claimed, headers }: HubRequest): Promise<void> {
    const channel = this.channels.get(claimed.connectionId);
    if (channel instanceof LongPollingChannel) {
      channel.remove();
      return replyEmpty(reply, 202, headers);
    }
    const live = channel?.transport ?? this.parts.connections.transportOf(claimed.connectionId);
    if (live !== undefined) return this.refuse(request, reply, 400, transportErrors.deleteNotLongPolling, headers, `DELETE on a ${live} connection`);
    if (await this.relay?.forward(claimed.connectionId, 'remove', reply, headers)) return;
    replyError(reply, 404, UNKNOWN_CONNECTION, headers);
  }

  /** Refuses the connection token or id a request presents, or what it asks of that connection. */
  private refuse(request: IncomingMessage, reply: HttpReply, status: number, body: string, headers: Record<string, string>, reason: string): void {
    this.parts.gatekeeper.refuseToken(request, status, body, reason);
    replyError(reply, status, body, headers);
  }

  /** For long polling, the first poll's request, as ASP.NET Core keeps it. */
  private identityOf({ request, query, admission }: HubRequest, transport: HttpTransportName): ConnectionIdentity {
    const { user, userKey, expiresAt } = admission;
    return {
      user,
      userIdentifier: userKey,
      expiresAt: this.parts.closeOnCredentialExpiry ? expiresAt : undefined,
      request: this.parts.requestCapture.capture(request, query, transport, admission),
    };
  }
}

function acceptsEventStream(request: IncomingMessage): boolean {
  return (request.headers.accept ?? '').split(',').some((type) => type.split(';')[0].trim().toLowerCase() === 'text/event-stream');
}
