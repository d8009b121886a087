import { Decoder, Encoder } from '@msgpack/msgpack';
import { Agent, request } from 'node:http';
import { WebSocket } from 'ws';
import type { TargetId } from '../options.js';
import { HttpTransportSocket, type HttpTransportName } from './http-transports.js';

/**
 * The wire protocol of each server, spoken by a bare `ws` client: cheap enough that one load
 * process can keep thousands of connections busy. Only what the scenarios need is implemented.
 */
export type ClientEvent =
  | { readonly kind: 'echo' }
  | { readonly kind: 'joined' }
  | { readonly kind: 'tick'; readonly round: number; readonly sentAt: number }
  | { readonly kind: 'error'; readonly detail: string }
  | { readonly kind: 'other' };

export interface ConnectOptions {
  /** A JWT sent as a bearer header on negotiate and upgrade (nestjs-signalr's secured hub). */
  readonly token?: string;
  /** Straight to the upgrade, as `@microsoft/signalr` does with `skipNegotiation: true` (nestjs-signalr only). */
  readonly skipNegotiation?: boolean;
  /**
   * (a) only: the exchanges of a SignalR connect and nothing else (a negotiate answered with
   * fresh ids, the upgrade, a handshake frame each way), what any SignalR server pays at least.
   */
  readonly floor?: boolean;
}

export interface TickPayload {
  readonly r: number;
  readonly t: number;
  readonly s: string;
}

export interface Dialect {
  /** Opens a connection ready for messages: negotiate, upgrade and handshake where there are any. */
  connect(port: number, options?: ConnectOptions): Promise<WebSocket>;
  echoFrame(seq: number): string | Uint8Array;
  joinFrame(group: string): string | Uint8Array;
  broadcastFrame(group: string, payload: TickPayload): string | Uint8Array;
  /** Asks the server to send the tick to every connection of the hub (nestjs-signalr's `Clients.All`). */
  broadcastAllFrame?(payload: TickPayload): string | Uint8Array;
  /** Asks for a server-to-client stream of `count` items of `itemBytes` filler, one every `intervalMs`. */
  streamFrame?(count: number, itemBytes: number, intervalMs: number): string | Uint8Array;
  /** Turns one received frame into events; answers protocol pings on `socket` itself. */
  decode(data: Buffer, isBinary: boolean, socket: WebSocket): ClientEvent[];
  /** Sent now and then by idle connections so that the server does not time them out. */
  readonly keepAlive: string | Uint8Array | undefined;
}

export const RS = '\u001e';
const OTHER: ClientEvent = { kind: 'other' };
const ECHO: ClientEvent = { kind: 'echo' };
const JOINED: ClientEvent = { kind: 'joined' };
const SOCKET_TIMEOUT_MS = 15_000;

// Node's server closes a keep-alive socket after 5 s idle (its keepAliveTimeout): a request sent on
// it just then fails with "socket hang up". Clients that read the answer's `Keep-Alive: timeout=5`
// (undici, browsers) let such sockets go first; this agent must too, or a negotiate fails now and then.
const agent = new Agent({ keepAlive: true, maxSockets: 256, timeout: 4000 });

export function dialectFor(target: TargetId, payloadBytes: number): Dialect {
  const filler = 'x'.repeat(payloadBytes);
  switch (target) {
    case 'raw-ws':
    case 'nest-ws':
      return new EventJsonDialect(filler);
    case 'nest-socketio':
      return new SocketIoDialect(filler);
    case 'signalr-json':
    case 'aspnetcore-json':
      return new SignalRJsonDialect(filler);
    case 'signalr-msgpack':
    case 'aspnetcore-msgpack':
      return new SignalRMessagePackDialect(filler);
    case 'signalr-sse':
      return new SignalRHttpDialect(filler, 'ServerSentEvents');
    case 'signalr-lp':
      return new SignalRHttpDialect(filler, 'LongPolling');
  }
}

interface Frame {
  readonly data: Buffer;
  readonly isBinary: boolean;
}

/**
 * The frames of a socket still handshaking. Listening starts in the 'open' event itself: a server
 * that speaks first (Engine.IO's open packet) may have its frame in the same read as the upgrade
 * answer, and ws delivers it before any later listener could be attached.
 */
export class OpeningSocket {
  private readonly frames: Frame[] = [];
  private waiter: ((frame: Frame | Error) => void) | undefined;
  private closed: Error | undefined;
  private readonly onMessage = (data: Buffer, isBinary: boolean) => this.deliver({ data, isBinary });
  private readonly onClose = (code: number) => {
    this.closed = new Error(`closed (${code}) before answering`);
    this.deliver(this.closed);
  };

  constructor(readonly socket: WebSocket) {
    socket.on('message', this.onMessage);
    socket.on('close', this.onClose);
  }

  /** The next frame from the server, waiting up to the handshake timeout. */
  next(): Promise<Frame> {
    const queued = this.frames.shift();
    if (queued) return Promise.resolve(queued);
    if (this.closed) return Promise.reject(this.closed);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiter = undefined;
        reject(new Error('no frame from the server in time'));
      }, SOCKET_TIMEOUT_MS);
      this.waiter = (frame) => {
        clearTimeout(timer);
        this.waiter = undefined;
        if (frame instanceof Error) reject(frame);
        else resolve(frame);
      };
    });
  }

  /** Hands the socket over to its user; frames not read by the handshake are dropped. */
  ready(): WebSocket {
    this.socket.off('message', this.onMessage);
    this.socket.off('close', this.onClose);
    return this.socket;
  }

  /** Gives up on the socket. */
  abandon(): void {
    this.ready();
    this.socket.on('error', () => undefined);
    this.socket.terminate();
  }

  private deliver(frame: Frame | Error): void {
    if (this.waiter) this.waiter(frame);
    else if (!(frame instanceof Error)) this.frames.push(frame);
  }
}

/** Opens a WebSocket to the loopback server; permessage-deflate is never offered. */
export function openSocket(url: string, headers: Record<string, string> = {}): Promise<OpeningSocket> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, { headers, perMessageDeflate: false, handshakeTimeout: SOCKET_TIMEOUT_MS });
    const fail = (error: Error) => {
      socket.removeAllListeners();
      socket.on('error', () => undefined);
      socket.terminate();
      reject(error);
    };
    socket.once('open', () => {
      socket.removeAllListeners();
      resolve(new OpeningSocket(socket));
    });
    socket.once('error', fail);
    socket.once('unexpected-response', (_request, response) => fail(new Error(`upgrade answered ${response.statusCode}`)));
  });
}

/** The SignalR handshake: the protocol asked for, an empty record back. */
async function jsonHandshake(opening: OpeningSocket, protocol = 'json'): Promise<void> {
  opening.socket.send(`{"protocol":"${protocol}","version":1}${RS}`);
  const answer = (await opening.next()).data.toString('utf8');
  if (answer !== `{}${RS}`) throw new Error(`handshake refused: ${answer.replace(RS, '')}`);
}

/** Runs a handshake on a freshly opened socket; the socket is closed if it fails. */
async function handshake(opening: OpeningSocket, steps: (opening: OpeningSocket) => Promise<void>): Promise<WebSocket> {
  try {
    await steps(opening);
    return opening.ready();
  } catch (error) {
    opening.abandon();
    throw error;
  }
}

/** (a) and (b): `{"event":name,"data":value}` both ways, as Nest's WsAdapter speaks it. */
class EventJsonDialect implements Dialect {
  /** As often as the SignalR clients' pings: an event no handler has, parsed and dropped. */
  readonly keepAlive = '{"event":"keepalive","data":null}';
  constructor(private readonly filler: string) {}

  async connect(port: number, options: ConnectOptions = {}): Promise<WebSocket> {
    if (!options.floor) return (await openSocket(`ws://127.0.0.1:${port}/ws`)).ready();
    const { connectionToken } = await negotiate(port, '/floor', {});
    const opening = await openSocket(`ws://127.0.0.1:${port}/floor?id=${encodeURIComponent(connectionToken)}`);
    return handshake(opening, () => jsonHandshake(opening));
  }

  echoFrame(seq: number): string {
    return `{"event":"echo","data":{"n":${seq},"s":"${this.filler}"}}`;
  }

  joinFrame(group: string): string {
    return JSON.stringify({ event: 'join', data: group });
  }

  broadcastFrame(group: string, payload: TickPayload): string {
    return JSON.stringify({ event: 'broadcast', data: { g: group, p: payload } });
  }

  streamFrame(count: number, itemBytes: number, intervalMs: number): string {
    return JSON.stringify({ event: 'stream', data: { count, itemBytes, intervalMs } });
  }

  decode(data: Buffer): ClientEvent[] {
    const message = JSON.parse(data.toString('utf8')) as { event?: string; data?: TickPayload };
    switch (message.event) {
      case 'echo':
        return [ECHO];
      case 'joined':
        return [JOINED];
      case 'tick':
        return [{ kind: 'tick', round: message.data!.r, sentAt: message.data!.t }];
      default:
        return [OTHER];
    }
  }
}

/**
 * (c): Engine.IO 4 over a WebSocket from the start, Socket.IO packets inside. Events are
 * `42["name",...]`; an acknowledged one is `42<id>[...]`, answered by `43<id>[result]`. Join acks
 * use id 0, echo acks the sequence number (from 1).
 */
class SocketIoDialect implements Dialect {
  readonly keepAlive = undefined;
  constructor(private readonly filler: string) {}

  async connect(port: number): Promise<WebSocket> {
    const opening = await openSocket(`ws://127.0.0.1:${port}/socket.io/?EIO=4&transport=websocket`);
    return handshake(opening, async () => {
      const open = (await opening.next()).data.toString('utf8');
      if (!open.startsWith('0')) throw new Error(`Engine.IO open packet expected, not ${open}`);
      opening.socket.send('40');
      const answer = (await opening.next()).data.toString('utf8');
      if (!answer.startsWith('40')) throw new Error(`Socket.IO connect refused: ${answer}`);
    });
  }

  echoFrame(seq: number): string {
    return `42${seq}["echo",{"n":${seq},"s":"${this.filler}"}]`;
  }

  joinFrame(group: string): string {
    return `420${JSON.stringify(['join', group])}`;
  }

  broadcastFrame(group: string, payload: TickPayload): string {
    return `42${JSON.stringify(['broadcast', { g: group, p: payload }])}`;
  }

  decode(data: Buffer, _isBinary: boolean, socket: WebSocket): ClientEvent[] {
    const text = data.toString('utf8');
    if (text === '2') {
      socket.send('3');
      return [OTHER];
    }
    if (text.startsWith('43')) return [text.startsWith('430[') ? JOINED : ECHO];
    if (text.startsWith('42[')) {
      const [event, payload] = JSON.parse(text.slice(2)) as [string, TickPayload];
      if (event === 'tick') return [{ kind: 'tick', round: payload.r, sentAt: payload.t }];
    }
    if (text.startsWith('44')) return [{ kind: 'error', detail: text }];
    return [OTHER];
  }
}

interface HubMessageLike {
  type?: number;
  invocationId?: string | null;
  target?: string;
  arguments?: unknown[];
  error?: string;
}

/** (d): negotiate, upgrade with the connection token, handshake; then hub messages. */
abstract class SignalRDialect implements Dialect {
  abstract readonly keepAlive: string | Uint8Array;
  protected abstract readonly protocol: string;
  abstract echoFrame(seq: number): string | Uint8Array;
  abstract joinFrame(group: string): string | Uint8Array;
  abstract broadcastFrame(group: string, payload: TickPayload): string | Uint8Array;
  abstract broadcastAllFrame(payload: TickPayload): string | Uint8Array;
  abstract streamFrame(count: number, itemBytes: number, intervalMs: number): string | Uint8Array;
  protected abstract messages(data: Buffer, isBinary: boolean): HubMessageLike[];

  async connect(port: number, options: ConnectOptions = {}): Promise<WebSocket> {
    const hubPath = options.token ? '/hubs/secure' : '/hubs/bench';
    const headers: Record<string, string> = options.token ? { Authorization: `Bearer ${options.token}` } : {};
    const query = options.skipNegotiation ? '' : `?id=${encodeURIComponent((await negotiate(port, hubPath, headers)).connectionToken)}`;
    const opening = await openSocket(`ws://127.0.0.1:${port}${hubPath}${query}`, headers);
    return handshake(opening, () => jsonHandshake(opening, this.protocol));
  }

  decode(data: Buffer, isBinary: boolean): ClientEvent[] {
    return this.messages(data, isBinary).map(toEvent);
  }
}

function toEvent(message: HubMessageLike): ClientEvent {
  switch (message.type) {
    case 3:
      if (message.error !== undefined && message.error !== null) return { kind: 'error', detail: message.error };
      return message.invocationId === 'j' ? JOINED : ECHO;
    case 1:
      if (message.target === 'tick') {
        const payload = message.arguments![0] as TickPayload;
        return { kind: 'tick', round: payload.r, sentAt: payload.t };
      }
      return OTHER;
    case 7:
      return { kind: 'error', detail: `closed by the server: ${message.error ?? 'no error'}` };
    default:
      return OTHER;
  }
}

class SignalRJsonDialect extends SignalRDialect {
  readonly keepAlive = `{"type":6}${RS}`;
  protected readonly protocol = 'json';
  constructor(private readonly filler: string) {
    super();
  }

  echoFrame(seq: number): string {
    return `{"type":1,"invocationId":"${seq}","target":"echo","arguments":[{"n":${seq},"s":"${this.filler}"}]}${RS}`;
  }

  joinFrame(group: string): string {
    return `${JSON.stringify({ type: 1, invocationId: 'j', target: 'joinGroup', arguments: [group] })}${RS}`;
  }

  broadcastFrame(group: string, payload: TickPayload): string {
    return `${JSON.stringify({ type: 1, target: 'broadcast', arguments: [group, payload] })}${RS}`;
  }

  broadcastAllFrame(payload: TickPayload): string {
    return `${JSON.stringify({ type: 1, target: 'broadcastAll', arguments: [payload] })}${RS}`;
  }

  streamFrame(count: number, itemBytes: number, intervalMs: number): string {
    return `${JSON.stringify({ type: 4, invocationId: 's', target: 'counter', arguments: [count, itemBytes, intervalMs] })}${RS}`;
  }

  protected messages(data: Buffer): HubMessageLike[] {
    const text = data.toString('utf8');
    const messages: HubMessageLike[] = [];
    let start = 0;
    for (let end = text.indexOf(RS); end !== -1; start = end + 1, end = text.indexOf(RS, start)) {
      messages.push(JSON.parse(text.slice(start, end)) as HubMessageLike);
    }
    return messages;
  }
}

/** JSON over Server-Sent Events or long polling: the same messages, through a stand-in for the socket. */
class SignalRHttpDialect extends SignalRJsonDialect {
  constructor(
    filler: string,
    private readonly transport: HttpTransportName,
  ) {
    super(filler);
  }

  override async connect(port: number, options: ConnectOptions = {}): Promise<WebSocket> {
    const hubPath = options.token ? '/hubs/secure' : '/hubs/bench';
    const headers: Record<string, string> = options.token ? { Authorization: `Bearer ${options.token}` } : {};
    const { connectionToken } = await negotiate(port, hubPath, headers);
    // The worker uses what a ws socket and this have in common: send, message, close, pause.
    return (await HttpTransportSocket.open(port, hubPath, connectionToken, this.transport, headers)) as unknown as WebSocket;
  }
}

/** Messages are MessagePack arrays, each behind a VarInt length prefix, in binary frames. */
class SignalRMessagePackDialect extends SignalRDialect {
  protected readonly protocol = 'messagepack';
  private readonly encoder = new Encoder();
  private readonly decoder = new Decoder();
  readonly keepAlive: Uint8Array;

  constructor(private readonly filler: string) {
    super();
    this.keepAlive = this.frame([6]);
  }

  echoFrame(seq: number): Uint8Array {
    return this.frame([1, {}, String(seq), 'echo', [{ n: seq, s: this.filler }]]);
  }

  joinFrame(group: string): Uint8Array {
    return this.frame([1, {}, 'j', 'joinGroup', [group]]);
  }

  broadcastFrame(group: string, payload: TickPayload): Uint8Array {
    return this.frame([1, {}, null, 'broadcast', [group, payload]]);
  }

  broadcastAllFrame(payload: TickPayload): Uint8Array {
    return this.frame([1, {}, null, 'broadcastAll', [payload]]);
  }

  streamFrame(count: number, itemBytes: number, intervalMs: number): Uint8Array {
    return this.frame([4, {}, 's', 'counter', [count, itemBytes, intervalMs]]);
  }

  private frame(message: unknown[]): Uint8Array {
    const body = this.encoder.encode(message);
    const prefix: number[] = [];
    for (let length = body.length; ; ) {
      const low = length & 0x7f;
      length >>>= 7;
      prefix.push(length > 0 ? low | 0x80 : low);
      if (length === 0) break;
    }
    const framed = new Uint8Array(prefix.length + body.length);
    framed.set(prefix, 0);
    framed.set(body, prefix.length);
    return framed;
  }

  protected messages(data: Buffer, isBinary: boolean): HubMessageLike[] {
    if (!isBinary) return [];
    const messages: HubMessageLike[] = [];
    let offset = 0;
    while (offset < data.length) {
      let length = 0;
      let shift = 0;
      let byte: number;
      do {
        byte = data[offset++];
        length |= (byte & 0x7f) << shift;
        shift += 7;
      } while (byte & 0x80);
      const array = this.decoder.decode(data.subarray(offset, offset + length)) as unknown[];
      offset += length;
      messages.push(fromMessagePack(array));
    }
    return messages;
  }
}

function fromMessagePack(array: unknown[]): HubMessageLike {
  switch (array[0]) {
    case 1:
      return { type: 1, invocationId: array[2] as string | null, target: array[3] as string, arguments: array[4] as unknown[] };
    case 3:
      return { type: 3, invocationId: array[2] as string, error: array[3] === 1 ? (array[4] as string) : undefined };
    case 7:
      return { type: 7, error: array[1] as string | undefined };
    default:
      return { type: array[0] as number };
  }
}

function negotiate(port: number, hubPath: string, headers: Record<string, string>): Promise<{ connectionToken: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, path: `${hubPath}/negotiate?negotiateVersion=1`, method: 'POST', headers: { ...headers, 'Content-Length': '0' }, agent },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => {
          const body = Buffer.concat(chunks).toString('utf8');
          if (response.statusCode !== 200) return reject(new Error(`negotiate answered ${response.statusCode}: ${body.slice(0, 200)}`));
          resolve(JSON.parse(body) as { connectionToken: string });
        });
        response.on('error', reject);
      },
    );
    req.setTimeout(SOCKET_TIMEOUT_MS, () => req.destroy(new Error('negotiate timed out')));
    req.on('error', reject);
    req.end();
  });
}
