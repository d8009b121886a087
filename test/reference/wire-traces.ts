import { decode, encode } from '@msgpack/msgpack';
import { splitBinaryMessages } from '../../src/protocol/messagepack-framing.js';
import { varint } from '../protocol/frames.js';
import { RawEventStream, RawPollingClient, type HttpAnswer } from '../support/http-transport-client.js';
import { negotiate, RawHubSocket, RS, upgradeResponse } from '../support/raw-client.js';

// What a server answers to scripted raw sequences, written down so that two servers' answers can
// be compared whole: the differential suite runs each sequence against the package and against
// ASP.NET Core. Ids the servers choose (connection ids and tokens) are replaced by their kind.

export const JSON_HANDSHAKE = `{"protocol":"json","version":1}${RS}`;
export const MESSAGEPACK_HANDSHAKE = `{"protocol":"messagepack","version":1}${RS}`;
/** The invocation a sequence ends with: once its completion is back, every call before it was answered. */
const BARRIER_ID = 'barrier';
const RS_BYTE = 0x1e;
const BARRIER = { type: 1, invocationId: BARRIER_ID, target: 'Echo', arguments: ['barrier'] };

export function record(message: object): string {
  return JSON.stringify(message) + RS;
}

/** A MessagePack frame of messages, each with its length prefix. */
export function binaryRecord(...messages: unknown[]): Buffer {
  return Buffer.concat(messages.map((message) => {
    const body = encode(message);
    return Buffer.concat([Buffer.from(varint(body.length)), body]);
  }));
}

/** The messages of a MessagePack frame: the package's framing splits both servers' frames alike. */
function decodeBinaryFrame(data: Buffer): unknown[] {
  return splitBinaryMessages(data).map((body) => decode(body));
}

function textMessages(data: Buffer): unknown[] {
  return data.toString('utf8').split(RS).filter(Boolean).map((text) => JSON.parse(text) as unknown);
}

function isPing(message: unknown): boolean {
  const type = Array.isArray(message) ? message[0] : (message as { type?: unknown }).type;
  return type === 6;
}

function invocationIdOf(message: unknown): unknown {
  return Array.isArray(message) ? (message[0] === 1 || message[0] === 4 ? message[2] : [2, 3, 5].includes(message[0] as number) ? message[2] : undefined) : (message as { invocationId?: unknown }).invocationId;
}

function isCompletionOf(message: unknown, invocationId: string): boolean {
  const type = Array.isArray(message) ? message[0] : (message as { type?: unknown }).type;
  return type === 3 && invocationIdOf(message) === invocationId;
}

export interface WebSocketTrace {
  /** The handshake's answer. */
  readonly handshake: unknown;
  /** Each invocation's messages in order. Two invocations run side by side, in either order. */
  readonly invocations: Record<string, unknown[]>;
  /** The messages of no invocation (calls to the client, a close), in order; pings are left out: the servers' timers are their own. */
  readonly others: unknown[];
  /** How the server ended the socket, or `open` when the sequence ended with the socket still open. */
  readonly closed: { code: number; reason: string } | 'open';
}

/**
 * Negotiates, opens a WebSocket, sends `handshake`, each of `frames` and an Echo invocation
 * `barrier`; waits until every invocation in `awaiting` (the barrier's always) has its completion,
 * or the server closed the socket.
 */
export async function webSocketTrace(
  hubUrl: string,
  frames: readonly (string | Buffer)[],
  { handshake = JSON_HANDSHAKE, awaiting = [] }: { handshake?: string; awaiting?: readonly string[] } = {},
): Promise<WebSocketTrace> {
  const { connectionToken } = await negotiate(hubUrl);
  const raw = await RawHubSocket.openUrl(`${hubUrl}?id=${encodeURIComponent(connectionToken)}`);
  let closed: WebSocketTrace['closed'] = 'open';
  const closing = raw.closed.then((close) => (closed = close));
  const binary = handshake.includes('messagepack');
  const messagesOf = (data: Buffer) => (binary ? decodeBinaryFrame(data) : textMessages(data));
  // The handshake's answer is text whatever the protocol; a server may write the first messages in the same frame.
  const messages = () =>
    raw.rawFrames.flatMap(({ data }, index) => {
      if (index > 0) return messagesOf(data);
      const end = data.indexOf(RS_BYTE);
      return end === -1 ? textMessages(data) : [...textMessages(data.subarray(0, end + 1)), ...messagesOf(data.subarray(end + 1))];
    });
  raw.send(handshake);
  for (const frame of frames) raw.send(frame);
  raw.send(binary ? binaryRecord([1, {}, BARRIER_ID, 'Echo', ['barrier']]) : record(BARRIER));
  const ids = [...awaiting, BARRIER_ID];
  await Promise.race([closing, raw.until(() => ids.every((id) => messages().some((message) => isCompletionOf(message, id))), 10_000)]);
  if (closed === 'open') raw.socket.close();
  const [first, ...rest] = messages().filter((message) => !isPing(message));
  const invocations: Record<string, unknown[]> = {};
  const others: unknown[] = [];
  for (const message of rest) {
    const id = invocationIdOf(message);
    if (typeof id === 'string') (invocations[id] ??= []).push(message);
    else others.push(message);
  }
  return { handshake: first, invocations, others, closed };
}

/** An HTTP answer as far as the differential suite compares it: status, the type of its content and its body. */
export interface HttpTrace {
  readonly status: number;
  /** Without parameters: the package names its charset, ASP.NET Core does not (docs/compatibility.md). */
  readonly mediaType: string | undefined;
  /** Parsed when it is JSON: the order of its properties is no difference. */
  readonly body: unknown;
}

/** The body with the ids a server chose replaced by their kind. */
function withoutIds(body: string): string {
  return body.replace(/"(connectionId|connectionToken)":"[^"]+"/g, '"$1":"<$1>"');
}

export function httpTrace(answer: HttpAnswer): HttpTrace {
  const mediaType = answer.headers.get('content-type')?.split(';')[0];
  const body = withoutIds(answer.body);
  return { status: answer.status, mediaType, body: mediaType === 'application/json' ? JSON.parse(body) : body };
}

export async function fetchTrace(url: string, init: RequestInit = {}): Promise<HttpTrace> {
  const response = await fetch(url, init);
  return httpTrace({ status: response.status, headers: response.headers, body: await response.text() });
}

/** The status and body of a WebSocket upgrade refused (or 101). */
export async function upgradeTrace(url: string): Promise<{ status: number; body: string }> {
  const { status, body } = await upgradeResponse(url);
  return { status, body };
}

/** Long polling by hand: the first poll, the handshake's POST, the poll with its answer, an Echo, the DELETE and a poll after it. */
export async function longPollingTrace(hubUrl: string): Promise<Record<string, HttpTrace | number>> {
  const client = await RawPollingClient.negotiated(hubUrl);
  const firstPoll = httpTrace(await client.poll());
  const handshake = httpTrace(await client.send(JSON_HANDSHAKE));
  const handshakeAnswer = httpTrace(await client.poll());
  const echo = httpTrace(await client.send(record({ type: 1, invocationId: '1', target: 'Echo', arguments: ['hi'] })));
  const echoAnswer = httpTrace(await client.poll());
  const removed = httpTrace(await client.remove());
  // Its status only: ASP.NET Core leaves the body empty while the connection is still being disposed (docs/compatibility.md).
  const pollAfterDelete = (await client.poll()).status;
  return { firstPoll, handshake, handshakeAnswer, echo, echoAnswer, removed, pollAfterDelete };
}

/** Server-Sent Events by hand: the stream's answer, what it carries after a handshake and an Echo, a second stream, a DELETE. */
export async function serverSentEventsTrace(hubUrl: string): Promise<Record<string, unknown>> {
  const client = await RawPollingClient.negotiated(hubUrl);
  const stream = await RawEventStream.open(client.url);
  const handshake = httpTrace(await client.send(JSON_HANDSHAKE));
  await stream.until(() => stream.events().length >= 1);
  const echo = httpTrace(await client.send(record({ type: 1, invocationId: '1', target: 'Echo', arguments: ['hi'] })));
  await stream.until(() => stream.events().length >= 2);
  const secondStream = await RawEventStream.open(client.url);
  await secondStream.closed;
  const removed = httpTrace(await client.remove());
  stream.close();
  return {
    status: stream.status,
    mediaType: stream.headers['content-type'],
    cacheControl: stream.headers['cache-control'],
    events: stream.events().slice(0, 2),
    handshake,
    echo,
    secondStream: { status: secondStream.status, body: secondStream.text },
    removed,
  };
}

/** What a silent client sees until the server ends its WebSocket: whether pings came, the messages besides them, the close. */
export async function silentClientTrace(hubUrl: string, handshake: string | undefined): Promise<Record<string, unknown>> {
  const { connectionToken } = await negotiate(hubUrl);
  const raw = await RawHubSocket.openUrl(`${hubUrl}?id=${encodeURIComponent(connectionToken)}`);
  if (handshake) raw.send(handshake);
  const closed = await raw.closed;
  return tracedMessages(raw, closed);
}

/** What a silent client sees until its first ping: the messages before it. */
export async function untilFirstPing(hubUrl: string): Promise<unknown[]> {
  const { connectionToken } = await negotiate(hubUrl);
  const raw = await RawHubSocket.openUrl(`${hubUrl}?id=${encodeURIComponent(connectionToken)}`);
  raw.send(JSON_HANDSHAKE);
  const received = () => raw.frames.flatMap((frame) => textMessages(Buffer.from(frame)));
  await raw.until(() => received().some(isPing), 10_000);
  raw.socket.close();
  return received();
}

function tracedMessages(raw: RawHubSocket, closed: { code: number; reason: string }): Record<string, unknown> {
  const messages = raw.frames.flatMap((frame) => textMessages(Buffer.from(frame)));
  return { pinged: messages.some(isPing), messages: messages.filter((message) => !isPing(message)), closed };
}
