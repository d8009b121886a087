import { Logger } from '@nestjs/common';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { classicErrors } from '../../errors/classic-errors.js';
import type { ClassicTransportName, ResolvedClassicEndpointOptions } from '../../options/classic-endpoint-options.js';
import type { ConnectionCaps } from '../../security/connection-caps.js';
import type { ConnectionTokens } from '../../security/connection-tokens.js';
import type { Admitted, HubGatekeeper, Refusal } from '../../security/hub-gatekeeper.js';
import { redactUrl } from '../../security/redact-url.js';
import type { HttpReply } from '../http-platform.js';
import { refuseUpgrade, replyError, replyNoContent, replyScript } from '../http-replies.js';
import { readBody } from '../request-body.js';
import type { ClassicConnection } from './classic-connection.js';
import { ClassicConnections, type ClassicConnectionsParts } from './classic-connections.js';
import type { ClassicHub, ClassicHubs } from './classic-hub.js';
import { classicNegotiateResponse } from './classic-negotiate.js';
import { renderClassicProxy, type ProxiedHub } from './classic-proxy.js';
import { EventStreamReceiver, PollReceiver } from './classic-receivers.js';
import { ClassicUpgrades } from './classic-upgrades.js';
import { ClassicReplies } from './classic-replies.js';
import { admitToAll, claimClassicToken, cursorOf, hubsOf, transportOf, type ClassicClaims } from './classic-request.js';
import { ClassicInvocations } from './classic-invocations.js';

const logger = new Logger('SignalR:Classic');

/**
 * A form body the application's own parser read already (Express's `urlencoded()`, on by default
 * in Nest): its fields, kept as strings. Its parser applied its own size limit.
 */
function parsedForm(request: IncomingMessage): URLSearchParams | undefined {
  const { body } = request as { body?: unknown };
  if (!request.readableEnded || typeof body !== 'object' || body === null || Buffer.isBuffer(body)) return undefined;
  const fields = Object.entries(body).filter((entry): entry is [string, string] => typeof entry[1] === 'string');
  return new URLSearchParams(fields);
}

/** What follows the endpoint's path, lower-cased, for each thing it answers. */
const OPERATIONS = ['/negotiate', '/connect', '/reconnect', '/poll', '/start', '/send', '/abort', '/ping', '/hubs', '/js'] as const;
type Operation = (typeof OPERATIONS)[number];
/** Operations on a connection: each carries its token and names its hubs and transport. */
const RECEIVE_OPERATIONS = new Set<Operation>(['/connect', '/reconnect', '/poll']);

export interface ClassicEndpointParts extends ClassicConnectionsParts {
  readonly hubs: ClassicHubs;
  readonly connectionTokens: ConnectionTokens;
  readonly caps: ConnectionCaps;
  /** For the requests that name no hub (ping, the proxy): Host, Origin and authentication. */
  readonly gatekeeper: HubGatekeeper;
}

/** One admitted request on a connection. */
interface ConnectionRequest {
  readonly request: IncomingMessage;
  readonly reply: HttpReply;
  readonly query: URLSearchParams;
  readonly admission: Admitted;
  readonly hubs: readonly ClassicHub[];
  readonly claims: ClassicClaims;
  readonly transport: ClassicTransportName;
  readonly replies: ClassicReplies;
}

/**
 * The classic SignalR 2.x endpoint (default `/signalr`), serving the unmodified jQuery client from
 * the hubs the modern endpoints serve. Every request passes the named hubs' own checks (Host,
 * Origin, authentication, `@Authorize`) and, after negotiate, carries the sealed connection token,
 * bound to its user. Cross-origin requests are refused unless allowed (`allowedOrigins`), and
 * JSONP unless the endpoint turns it on: classic 2.x had dropped 1.x's defence against both.
 */
export class ClassicEndpoint {
  readonly path: string;
  private readonly connections: ClassicConnections;
  private readonly invocations: ClassicInvocations;
  private readonly upgrades: ClassicUpgrades;

  constructor(private readonly parts: ClassicEndpointParts) {
    this.path = parts.options.path;
    this.connections = new ClassicConnections(parts);
    this.invocations = new ClassicInvocations(parts.options.maximumReceiveMessageSize);
    this.upgrades = new ClassicUpgrades({ ...parts, connections: this.connections, invocations: this.invocations });
  }

  get options(): ResolvedClassicEndpointOptions {
    return this.parts.options;
  }

  /** What follows the endpoint's path in `pathname`, if it names something the endpoint answers. */
  operationOf(pathname: string): Operation | undefined {
    const path = pathname.toLowerCase();
    const base = this.path.toLowerCase();
    if (!path.startsWith(`${base}/`)) return undefined;
    const rest = path.slice(base.length);
    return OPERATIONS.find((operation) => operation === rest);
  }

  /** The paths a catch-all route of the application must not take. */
  get httpPaths(): string[] {
    return OPERATIONS.map((operation) => `${this.path}${operation}`);
  }

  /**
   * Answers a CORS preflight of any of its operations, before the application's guards as a CORS
   * layer would (browsers send no credentials with one): only an allowed cross origin gets
   * permission headers. Returns whether it was one.
   */
  answerPreflight(request: IncomingMessage, reply: HttpReply): boolean {
    if (request.method !== 'OPTIONS') return false;
    const preflight = this.parts.gatekeeper.preflight(request);
    const refused = preflight as Refusal;
    if (refused.admitted === false) replyError(reply, refused.status, refused.body, refused.headers);
    else replyNoContent(reply, preflight as Record<string, string>);
    return true;
  }

  async serveHttp(request: IncomingMessage, reply: HttpReply, operation: Operation, query: URLSearchParams): Promise<void> {
    try {
      await this.route(request, reply, operation, query);
    } catch (error) {
      logger.error(`Request failed on ${redactUrl(request.url)}`, (error as Error).stack);
      if (!reply.sent) replyError(reply, 500, 'Internal Server Error');
    }
  }

  /** A WebSocket upgrade at `/connect` or `/reconnect`. */
  upgrade(request: IncomingMessage, socket: Duplex, head: Buffer, operation: Operation, query: URLSearchParams): void {
    this.upgrades.accept(request, socket, head, operation, query).catch((error: Error) => {
      logger.error(`Upgrade failed on ${redactUrl(request.url)}`, error.stack);
      refuseUpgrade(socket, 500, 'Internal Server Error');
    });
  }

  close(): void {
    this.connections.close();
    this.upgrades.close();
  }

  private async route(request: IncomingMessage, reply: HttpReply, operation: Operation, query: URLSearchParams): Promise<void> {
    if (ClassicReplies.asksForJsonp(query) && !this.parts.options.jsonp) {
      return this.refuse(request, reply, 403, classicErrors.jsonpDisabled, 'JSONP is off');
    }
    if (operation === '/hubs' || operation === '/js') return this.serveProxy(request, reply);
    if (operation === '/ping') return this.ping(request, reply, query);
    const hubs = hubsOf(query, this.parts.hubs);
    if (!Array.isArray(hubs)) return this.refuse(request, reply, hubs.status, hubs.body, 'connectionData refused');
    const admission = await admitToAll(request, hubs);
    if (!admission.admitted) return replyError(reply, admission.status, admission.body, admission.headers);
    const replies = new ClassicReplies(query, admission.corsHeaders);
    if (operation === '/negotiate') return this.negotiate(reply, admission, replies);
    const transport = transportOf(query, this.parts.options.transports);
    if (transport === undefined) return this.refuse(request, reply, 400, classicErrors.unknownTransport, 'unknown or disabled transport', admission.corsHeaders);
    const claims = claimClassicToken(query, this.parts.connectionTokens, this.path, admission.userKey);
    if ('admitted' in claims) return this.refuse(request, reply, claims.status, claims.body, 'connection token refused', admission.corsHeaders);
    const at: ConnectionRequest = { request, reply, query, admission, hubs, claims, transport, replies };
    if (RECEIVE_OPERATIONS.has(operation)) return this.receive(at, operation);
    const connection = this.connectionFor(at);
    if (!connection) return;
    if (operation === '/start') return this.start(at, connection);
    if (operation === '/send') return this.send(at, connection);
    connection.end();
    replies.empty(reply);
  }

  private negotiate(reply: HttpReply, admission: Admitted, replies: ClassicReplies): void {
    // One classic connection takes one slot, whatever hubs it names.
    const overCap = this.parts.caps.check(this.path, admission.userKey, admission.address);
    if (overCap) return replies.error(reply, overCap.status, overCap.body, overCap.headers);
    const token = this.parts.connectionTokens.issue(this.path, admission.userKey);
    replies.json(reply, classicNegotiateResponse(this.path, token, this.parts.options, this.parts.negotiateTokenLifetimeMs));
  }

  /** A receive request: opens the connection (connect), or reattaches its client (reconnect, poll). */
  private async receive(at: ConnectionRequest, operation: Operation): Promise<void> {
    const { request, reply, transport, replies } = at;
    if (transport === 'webSockets') return this.refuse(request, reply, 400, classicErrors.notWebSocketRequest, 'WebSocket transport without an upgrade', replies.headers);
    const polling = transport === 'longPolling';
    // A JSONP poll is a script's GET, its fields in the query (the endpoint refused JSONP if it is off).
    const scripted = polling && replies.usableCallback && request.method === 'GET';
    if (!scripted && polling !== (request.method === 'POST')) return replies.error(reply, 405, 'Method Not Allowed', { Allow: polling ? 'POST' : 'GET' });
    const form = scripted ? at.query : polling ? await this.readForm(at) : undefined;
    if (polling && !form) return;
    const cursor = cursorOf(form?.get('messageId') ?? at.query.get('messageId'));
    const groupsToken = form?.get('groupsToken') ?? at.query.get('groupsToken');
    const connection = operation === '/poll' ? this.connectionFor(at) : await this.connectionToOpen(at, operation, groupsToken);
    if (!connection) return;
    if (polling) return connection.attach(new PollReceiver(reply, replies.headers, replies.wrap), cursor, operation === '/connect');
    const stream = new EventStreamReceiver(reply, replies.headers);
    connection.attach(stream, cursor, operation === '/connect');
    await stream.ended();
  }

  private async start(at: ConnectionRequest, connection: ClassicConnection): Promise<void> {
    if (await connection.start()) return at.replies.json(at.reply, '{"Response":"started"}');
    at.replies.error(at.reply, 500, 'Internal Server Error');
  }

  private async send(at: ConnectionRequest, connection: ClassicConnection): Promise<void> {
    const form = at.request.method === 'POST' ? await this.readForm(at) : at.query;
    if (!form) return;
    const outcome = await this.invocations.run(connection, form.get('data') ?? '');
    if (outcome === 'unreadable') return this.refuse(at.request, at.reply, 400, classicErrors.unreadableInvocation, 'unreadable hub invocation', at.replies.headers);
    at.replies.empty(at.reply);
  }

  /**
   * The connection a `/connect` opens, or the one it reattaches to (the client fell back to
   * another transport); the one a `/reconnect` reattaches to, or resumes here.
   */
  private async connectionToOpen(at: ConnectionRequest, operation: Operation, groupsToken: string | null | undefined): Promise<ClassicConnection | undefined> {
    const held = this.connections.held(at.claims, at.hubs);
    if (held) return held;
    const opened = operation === '/connect' ? await this.connections.open(at, at.hubs) : await this.connections.reconnect(at, at.hubs, groupsToken);
    if (!('admitted' in opened)) return opened;
    this.refuse(at.request, at.reply, opened.status, opened.body, 'connection refused', at.replies.headers);
    return undefined;
  }

  /** The connection the token names, which this node holds; refused (400) otherwise. */
  private connectionFor(at: ConnectionRequest): ClassicConnection | undefined {
    const connection = this.connections.held(at.claims, at.hubs);
    if (connection) return connection;
    this.refuse(at.request, at.reply, 400, classicErrors.unknownConnection, 'a connection this node does not hold', at.replies.headers);
    return undefined;
  }

  private async ping(request: IncomingMessage, reply: HttpReply, query: URLSearchParams): Promise<void> {
    const admission = await this.parts.gatekeeper.admit(request);
    if (!admission.admitted) return replyError(reply, admission.status, admission.body, admission.headers);
    new ClassicReplies(query, admission.corsHeaders).json(reply, '{"Response":"pong"}');
  }

  private async serveProxy(request: IncomingMessage, reply: HttpReply): Promise<void> {
    if (!this.parts.options.hubsProxy) return replyError(reply, 404, 'Not Found');
    if (request.method !== 'GET' && request.method !== 'HEAD') return replyError(reply, 405, 'Method Not Allowed', { Allow: 'GET' });
    const admission = await this.parts.gatekeeper.admit(request);
    if (!admission.admitted) return replyError(reply, admission.status, admission.body, admission.headers);
    const listed: ProxiedHub[] = [];
    // A hub is listed only to whom it admits, with only the methods that user may call.
    for (const hub of this.parts.hubs.all()) {
      const admitted = await hub.gatekeeper.admit(request);
      if (admitted.admitted) listed.push({ name: hub.name, methods: (await hub.visibleMethods(admitted.user)).map(({ wireName }) => wireName) });
    }
    const body = renderClassicProxy(this.path, listed);
    const { Vary: corsVary, ...corsHeaders } = admission.corsHeaders;
    replyScript(reply, body, 'application/javascript; charset=utf-8', { ...corsHeaders, Vary: [corsVary, 'Authorization, Cookie'].filter(Boolean).join(', ') });
  }

  /** The form body of a POST, or, answered already, undefined (413 past the limit). */
  private async readForm(at: Pick<ConnectionRequest, 'request' | 'reply' | 'replies'>): Promise<URLSearchParams | undefined> {
    const parsed = parsedForm(at.request);
    if (parsed) return parsed;
    const read = await readBody(at.request, this.parts.options.maximumReceiveMessageSize);
    if ('status' in read) {
      at.replies.error(at.reply, read.status, read.status === 413 ? 'Payload Too Large' : 'Bad Request');
      return undefined;
    }
    return new URLSearchParams(read.body.toString('utf8'));
  }

  private refuse(request: IncomingMessage, reply: HttpReply, status: number, body: string, why: string, headers: Record<string, string> = {}): void {
    this.parts.gatekeeper.refuse(request, status, body, why);
    replyError(reply, status, body, headers);
  }
}
