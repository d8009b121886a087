import type { HubConnection } from '@microsoft/signalr';
import { encode } from '@msgpack/msgpack';
import * as fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import type { HubMessage } from '../../src/protocol/hub-message.js';
import { JsonHubProtocol } from '../../src/protocol/json-hub-protocol.js';
import { MessagePackHubProtocol } from '../../src/protocol/messagepack-hub-protocol.js';
import { HubEvents, TestHub } from '../e2e/test-hubs.js';
import { connectClient } from '../support/client.js';
import { startHubApp, type RunningHubApp } from '../support/hub-app.js';
import { RawHubSocket } from '../support/raw-client.js';
import { assertWellFormed, ensure, fuzzAsync, fuzzRuns, reportFuzzRuns, RS, snapshotPrototypes } from './fuzz-support.js';
import { varint } from '../protocol/frames.js';

/**
 * Property-based tests of a live server's dispatcher: raw connections send random sequences of
 * valid-shaped messages of every type (real and made-up targets, random ids, random arguments)
 * mixed with garbage frames. Whatever they send, the server stays up for everyone else, every
 * connection ends in a defined state within a bounded time, no error text leaks a secret or a
 * stack, and nothing accumulates.
 */

const MAX_MESSAGE_SIZE = 4096;
const MAX_QUEUED = 8;
const FINAL_ID = 'fuzz-final-check';
/** Bound for a connection to either answer the final invocation or be closed. */
const SETTLE_TIMEOUT_MS = 5000;
const CLOSE_WITH_ERROR = { type: 7, error: 'Connection closed with an error.', allowReconnect: true };
const HANDSHAKE_ERROR =
  /^(Handshake was canceled\.|An unexpected error occurred during connection handshake\.|The protocol '.*' is not supported\.|The server does not support version -?\d+ of the '.*' protocol\.)$/s;
/** What a leaked stack or source location looks like in an error text. */
const STACK_TRACE = /\n\s+at\s|\bat\s+\S+\s+\(|\(?[\w./\\-]+\.(?:ts|js|mjs|cjs):\d+:\d+|node_modules|node:internal/;

const jsonReader = new JsonHubProtocol();
const messagePackReader = new MessagePackHubProtocol();

// ---------------------------------------------------------------------------------------------
// What a session sends

/** Public methods of TestHub, hidden and excluded ones, and names every object has. */
const HUB_NAMES = [
  'Echo', 'Add', 'DelayedEcho', 'Nothing', 'Record', 'RecordAndReply', 'Renamed', 'InternalName', 'Fail', 'Refuse',
  'WhoAmI', 'Remember', 'Recall', 'Counter', 'Endless', 'Ticks', 'FailingStream', 'Sum', 'DoubleEach', 'AskCaller',
  'JoinGroup', 'LeaveGroup', 'SendToGroup', 'SendToOthersInGroup', 'Broadcast', 'TellOthers', 'TellCaller',
  'TellConnections', 'TellAllExcept', 'TellGroups', 'TellGroupExcept', '_hidden', 'Excluded', 'OnConnected',
  'OnDisconnected', 'constructor', 'toString', '__proto__', 'hasOwnProperty', 'valueOf', 'then',
] as const;

/** Random text that cannot pass for a secret or a stack frame when the server quotes it back. */
const garbageText = (maxLength: number) =>
  fc.string({ unit: 'binary', maxLength }).filter((text) => !/hunter2|\bat\b|:\d+:\d+|node_modules|node:|\.(ts|js)\b/i.test(text));

const target = fc.oneof(
  { weight: 4, arbitrary: fc.mixedCase(fc.constantFrom(...HUB_NAMES)) },
  { weight: 1, arbitrary: garbageText(20).filter((text) => text !== '') },
);
const invocationId = fc.oneof(
  { weight: 2, arbitrary: fc.constantFrom('1', '2', '3', 'x', 's1', 's2') },
  { weight: 1, arbitrary: fc.string({ unit: 'binary-ascii', minLength: 1, maxLength: 12 }) },
);
/** Upload stream ids; `s1` and `s2` are also the ids the server gives its own client-result invocations. */
const streamId = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom('s1', 's2', 's3', '1', '2') },
  { weight: 1, arbitrary: fc.string({ unit: 'binary-ascii', minLength: 1, maxLength: 8 }) },
);
const value = fc.jsonValue({ maxDepth: 4 });
const args = fc.oneof(
  fc.array(value, { maxLength: 4 }),
  fc.array(fc.oneof(fc.integer({ min: -3, max: 20 }), fc.string({ maxLength: 6 })), { maxLength: 3 }),
);
const headers = fc.dictionary(fc.string({ maxLength: 6 }), fc.string({ maxLength: 6 }), { maxKeys: 2, noNullPrototype: true });

type Wire = Record<string, unknown>;

/** Drops the keys whose generated value is undefined: the wire has no undefined. */
function wire(fields: Wire): Wire {
  return Object.fromEntries(Object.entries(fields).filter(([, field]) => field !== undefined));
}

const optional = <T>(arbitrary: fc.Arbitrary<T>, freq = 2) => fc.option(arbitrary, { nil: undefined, freq });

/**
 * DelayedEcho sleeps for its second argument: a legitimate wait that holds the connection's only
 * invocation slot, so it is kept short here (the fuzzer is after faults, not patience).
 */
function boundDelays(message: Wire): Wire {
  if (typeof message.target === 'string' && message.target.toLowerCase() === 'delayedecho' && Array.isArray(message.arguments)) {
    return { ...message, arguments: message.arguments.map((argument, index) => (index === 1 ? 5 : argument)) };
  }
  return message;
}

const shortText = fc.string({ maxLength: 8 });
const group = fc.constantFrom('g1', 'g2', 'room');
const smallCount = fc.integer({ min: 0, max: 5 });

/** Calls TestHub's methods with arguments of the right count and kinds, so that the hub's code runs. */
const HUB_CALLS: ReadonlyArray<{ readonly name: string; readonly args: fc.Arbitrary<unknown[]>; readonly streaming?: true; readonly uploads?: number }> = [
  { name: 'Echo', args: fc.tuple(value) },
  { name: 'Add', args: fc.tuple(fc.integer(), fc.integer()) },
  { name: 'DelayedEcho', args: fc.tuple(shortText, fc.integer({ min: 0, max: 5 })) },
  { name: 'Nothing', args: fc.constant([]) },
  { name: 'Record', args: fc.tuple(value) },
  { name: 'RecordAndReply', args: fc.tuple(fc.integer()) },
  { name: 'Renamed', args: fc.constant([]) },
  { name: 'Fail', args: fc.constant([]) },
  { name: 'Refuse', args: fc.constant([]) },
  { name: 'WhoAmI', args: fc.constant([]) },
  { name: 'Remember', args: fc.tuple(shortText) },
  { name: 'Recall', args: fc.constant([]) },
  { name: 'Counter', args: fc.tuple(smallCount, fc.integer({ min: 0, max: 3 })), streaming: true },
  { name: 'Endless', args: fc.constant([]), streaming: true },
  { name: 'Ticks', args: fc.tuple(smallCount), streaming: true },
  { name: 'FailingStream', args: fc.constant([]), streaming: true },
  { name: 'Sum', args: fc.constant([]), uploads: 1 },
  { name: 'DoubleEach', args: fc.constant([]), streaming: true, uploads: 1 },
  { name: 'AskCaller', args: fc.tuple(shortText) },
  { name: 'JoinGroup', args: fc.tuple(group) },
  { name: 'LeaveGroup', args: fc.tuple(group) },
  { name: 'SendToGroup', args: fc.tuple(group, shortText) },
  { name: 'SendToOthersInGroup', args: fc.tuple(group, shortText) },
  { name: 'Broadcast', args: fc.tuple(shortText) },
  { name: 'TellOthers', args: fc.tuple(shortText) },
  { name: 'TellCaller', args: fc.tuple(shortText) },
  { name: 'TellConnections', args: fc.tuple(fc.array(shortText, { maxLength: 2 }), shortText) },
  { name: 'TellAllExcept', args: fc.tuple(fc.array(shortText, { maxLength: 2 }), shortText) },
  { name: 'TellGroups', args: fc.tuple(fc.array(group, { maxLength: 2 }), shortText) },
  { name: 'TellGroupExcept', args: fc.tuple(group, fc.array(shortText, { maxLength: 2 }), shortText) },
];

const hubCall: fc.Arbitrary<Wire> = fc.constantFrom(...HUB_CALLS).chain((call) =>
  fc
    .record({
      target: fc.mixedCase(fc.constant(call.name)),
      arguments: call.args,
      // Mostly the right kind of invocation for the method, sometimes the wrong one.
      streamingCall: fc.oneof({ weight: 6, arbitrary: fc.constant(call.streaming === true) }, { weight: 1, arbitrary: fc.boolean() }),
      invocationId,
      blocking: fc.boolean(),
      streamIds: fc.array(streamId, { minLength: call.uploads ?? 0, maxLength: call.uploads ?? 0 }),
    })
    .map(({ streamingCall, blocking, streamIds: ids, invocationId: id, ...fields }) =>
      wire({ type: streamingCall ? 4 : 1, invocationId: streamingCall || blocking ? id : undefined, ...fields, streamIds: ids.length > 0 ? ids : undefined }),
    ),
);

/** Messages the protocol accepts, of all nine types and of unknown ones (which are skipped). */
const validMessage: fc.Arbitrary<Wire> = fc.oneof(
  { weight: 15, arbitrary: hubCall },
  {
    weight: 10,
    arbitrary: fc
      .record({
        target,
        arguments: args,
        invocationId: optional(invocationId, 3),
        streamIds: optional(fc.array(streamId, { maxLength: 2 }), 4),
        headers: optional(headers, 6),
      })
      .map((fields) => boundDelays(wire({ type: 1, ...fields }))),
  },
  {
    weight: 5,
    arbitrary: fc
      .record({ invocationId, target, arguments: args, streamIds: optional(fc.array(streamId, { maxLength: 2 }), 3), headers: optional(headers, 6) })
      .map((fields) => boundDelays(wire({ type: 4, ...fields }))),
  },
  { weight: 4, arbitrary: fc.record({ invocationId: streamId, item: value }).map((fields) => wire({ type: 2, ...fields })) },
  {
    weight: 3,
    arbitrary: fc
      .record({
        invocationId: fc.oneof(streamId, invocationId),
        outcome: fc.oneof(fc.constant({}), fc.record({ result: value }), fc.record({ error: garbageText(20) })),
      })
      .map(({ invocationId: id, outcome }) => wire({ type: 3, invocationId: id, ...outcome })),
  },
  { weight: 3, arbitrary: invocationId.map((id) => wire({ type: 5, invocationId: id })) },
  { weight: 2, arbitrary: fc.constant({ type: 6 }) },
  {
    weight: 1,
    arbitrary: fc
      .record({ error: optional(fc.string({ maxLength: 10 })), allowReconnect: optional(fc.boolean()) })
      .map((fields) => wire({ type: 7, ...fields })),
  },
  { weight: 1, arbitrary: fc.record({ type: fc.constantFrom(8, 9), sequenceId: fc.oneof(fc.nat({ max: 5 }), fc.maxSafeNat()) }) },
  { weight: 1, arbitrary: fc.record({ type: fc.oneof(fc.constantFrom(0, 10, 42, -1), fc.integer()), extra: value }) },
);

/** Messages with one field of the wrong kind: each closes the connection with an error. */
const invalidMessage: fc.Arbitrary<Wire> = fc.oneof(
  fc.record({ type: fc.constant(1), target: fc.constantFrom<unknown>('', 42, null, ['Add'], { name: 'Add' }), arguments: args }),
  fc.record({ type: fc.constantFrom(1, 4), invocationId: fc.constantFrom<unknown>('', 'i'.repeat(129), 7, null, ['1']), target, arguments: args }),
  fc.record({ type: fc.constant(1), target, arguments: args, streamIds: fc.constantFrom<unknown>('s1', null, {}, [''], [3]) }),
  fc.record({ type: fc.constant(1), target, arguments: fc.constantFrom<unknown>(null, {}, 'a', 3) }),
  fc.record({ type: fc.constant(1), target, arguments: args, headers: fc.constantFrom<unknown>({ a: 1 }, [], 'h', null) }),
  fc.record({ type: fc.constant(3), invocationId, error: fc.constantFrom<unknown>(5, null, {}) }),
  fc.record({ type: fc.constant(3), invocationId, error: fc.constant('e'), result: value }),
  fc.record({ type: fc.constant(2), invocationId: streamId }),
  fc.record({ type: fc.constantFrom(8, 9), sequenceId: fc.constantFrom<unknown>(-1, 1.5, '1', null) }),
  fc.record({ type: fc.constantFrom<unknown>('1', 1.5, null), target: fc.constant('Add'), arguments: fc.constant([1, 2]) }),
);

const message: fc.Arbitrary<Wire> = fc.oneof({ weight: 50, arbitrary: validMessage }, { weight: 1, arbitrary: invalidMessage });

/** One record: the message and its text, sometimes with prototype keys spliced in (the server must drop them). */
const record = fc
  .tuple(message, fc.constantFrom('', '', '', '"__proto__":{"polluted":true},', '"constructor":{"prototype":{"polluted":true}},'))
  .map(([fields, splice]) => ({ fields, text: `{${splice}${JSON.stringify(fields).slice(1)}${RS}` }));

type Frame =
  | { readonly kind: 'records'; readonly messages: readonly Wire[]; readonly text: string }
  | { readonly kind: 'text'; readonly text: string }
  | { readonly kind: 'bytes'; readonly bytes: Uint8Array }
  | { readonly kind: 'oversized'; readonly length: number };

const anyFrame: fc.Arbitrary<Frame> = fc.oneof(
  {
    weight: 60,
    arbitrary: fc
      .array(record, { minLength: 1, maxLength: 4 })
      .map((records): Frame => ({ kind: 'records', messages: records.map((r) => r.fields), text: records.map((r) => r.text).join('') })),
  },
  // A valid record cut short, or two glued without their separator.
  { weight: 1, arbitrary: fc.tuple(record, fc.nat()).map(([{ text }, cut]): Frame => ({ kind: 'text', text: text.slice(0, cut % text.length) })) },
  { weight: 1, arbitrary: fc.tuple(record, record).map(([a, b]): Frame => ({ kind: 'text', text: a.text.slice(0, -1) + b.text })) },
  { weight: 1, arbitrary: fc.tuple(garbageText(40), fc.boolean()).map(([text, end]): Frame => ({ kind: 'text', text: text + (end ? RS : '') })) },
  { weight: 1, arbitrary: fc.uint8Array({ minLength: 1, maxLength: 64 }).map((bytes): Frame => ({ kind: 'bytes', bytes })) },
  { weight: 1, arbitrary: fc.constantFrom<Frame>({ kind: 'text', text: RS }, { kind: 'text', text: `${RS}${RS}` }, { kind: 'text', text: `{"type":6}${RS}${RS}` }) },
  // Past the maximum message size (closed with an error) or past twice it (refused unread, 1009).
  {
    weight: 1,
    arbitrary: fc
      .oneof(fc.integer({ min: MAX_MESSAGE_SIZE + 1, max: 2 * MAX_MESSAGE_SIZE }), fc.constant(3 * MAX_MESSAGE_SIZE))
      .map((length): Frame => ({ kind: 'oversized', length })),
  },
);

type Handshake =
  | { readonly kind: 'valid'; readonly protocol: 'json' | 'messagepack'; readonly version: 1 | 2; readonly withFirstFrame: boolean }
  | { readonly kind: 'garbage'; readonly text: string };

const handshake: fc.Arbitrary<Handshake> = fc.oneof(
  {
    weight: 30,
    arbitrary: fc.record({
      kind: fc.constant('valid' as const),
      protocol: fc.constantFrom('json' as const, 'json' as const, 'messagepack' as const),
      version: fc.constantFrom(1 as const, 2 as const),
      withFirstFrame: fc.boolean(),
    }),
  },
  {
    weight: 1,
    arbitrary: fc
      .oneof(
        fc.record({ protocol: fc.constantFrom<unknown>('xml', '', 'JSON', 3), version: fc.constantFrom<unknown>(1, 0, 99, '1', 1.5) }).map((h) => JSON.stringify(h) + RS),
        fc.constantFrom(`{"protocol":${RS}`, `[]${RS}`, `{"protocol":"json","version":1}`, `${RS}`, `{"protocol":"json","version":1,"__proto__":{"x":1}}${RS}`),
      )
      .map((text): Handshake => ({ kind: 'garbage', text })),
  },
);

const session = fc.record({
  handshake,
  frames: fc.array(anyFrame, { minLength: 1, maxLength: 6 }),
  /** Whether the client waits for the server between frames, which interleaves its answers. */
  pauses: fc.array(fc.boolean(), { minLength: 6, maxLength: 6 }),
});
type Session = typeof session extends fc.Arbitrary<infer T> ? T : never;

// ---------------------------------------------------------------------------------------------
// Running a session against the server

let server: RunningHubApp;
let hubUrl: string;
let bystander: HubConnection;
let events: HubEvents;
const sessionConnectionIds: string[] = [];
const endings = new Map<string, number>();
let heapBefore = 0;
let prototypesUntouched: () => void;

function count(ending: string, tally: Map<string, number> = endings): void {
  tally.set(ending, (tally.get(ending) ?? 0) + 1);
}

/** What the server answered, by kind: shows (with FUZZ_REPORT=1) that the sessions reach the hub's methods. */
const answers = new Map<string, number>();
function served(sent: Record<string, unknown>): void {
  if (sent.type === 3) {
    const error = typeof sent.error === 'string' ? sent.error : undefined;
    if (error === undefined) count(sent.hasResult ? 'completion with a result' : 'void completion', answers);
    else if (error.startsWith('An unexpected error occurred invoking')) count('completion: unexpected error (sanitized)', answers);
    else count(`completion: ${error.replace(/'.*'/s, "'…'").slice(0, 60)}`, answers);
  } else {
    count(`type ${String(sent.type)}`, answers);
  }
}

async function openSocket(stateful: boolean): Promise<{ raw: RawHubSocket; connectionId: string }> {
  const query = stateful ? '&useStatefulReconnect=true' : '';
  const response = await fetch(`${hubUrl}/negotiate?negotiateVersion=1${query}`, { method: 'POST' });
  ensure(response.ok, `negotiate answered ${response.status}`);
  const { connectionId, connectionToken } = (await response.json()) as { connectionId: string; connectionToken: string };
  return { raw: await RawHubSocket.open(hubUrl, connectionToken), connectionId };
}

/** How a session's messages go on the wire, and how the server's frames are read back. */
interface Codec {
  readonly name: 'json' | 'messagepack';
  /** A frame holding `messages`; `jsonText` is the same in JSON (prototype keys spliced in, maybe). */
  frame(messages: readonly Wire[], jsonText?: string): string | Buffer;
  /** Garbage: sent as it is, in the connection's kind of frame. */
  garbage(data: string | Buffer): string | Buffer;
  parse(frame: Buffer): HubMessage[];
  /** What the server answers a client's Close with. */
  readonly closeAnswer: Record<string, unknown>;
}

const jsonCodec: Codec = {
  name: 'json',
  frame: (messages, jsonText) => jsonText ?? messages.map((m) => JSON.stringify(m) + RS).join(''),
  garbage: (data) => data,
  parse: (data) => jsonReader.parseMessages(data),
  closeAnswer: { type: 7 },
};

/** The array layout of a message in the MessagePack protocol, filled from the JSON-shaped fields (however wrong). */
function messagePackLayout(m: Wire): unknown[] {
  const h = m.headers ?? {};
  switch (m.type) {
    case 1:
    case 4:
      return [m.type, h, m.invocationId ?? null, m.target, m.arguments, m.streamIds ?? []];
    case 2:
      return [2, h, m.invocationId, m.item];
    case 3:
      if ('error' in m) return [3, h, m.invocationId, 1, m.error];
      return 'result' in m ? [3, h, m.invocationId, 3, m.result] : [3, h, m.invocationId, 2];
    case 5:
      return [5, h, m.invocationId];
    case 6:
      return [6];
    case 7:
      return [7, m.error ?? null, m.allowReconnect ?? false];
    case 8:
    case 9:
      return [m.type, m.sequenceId];
    default:
      return [m.type, m.extra ?? null];
  }
}


const messagePackCodec: Codec = {
  name: 'messagepack',
  frame: (messages) =>
    Buffer.concat(
      messages.map((m) => {
        const body = encode(messagePackLayout(m));
        return Buffer.concat([Buffer.from(varint(body.length)), body]);
      }),
    ),
  garbage: (data) => (typeof data === 'string' ? Buffer.from(data, 'utf8') : data),
  parse: (data) => messagePackReader.parseMessages(data),
  closeAnswer: { type: 7, allowReconnect: false },
};

function frameData(item: Frame, codec: Codec): string | Buffer {
  switch (item.kind) {
    case 'records':
      return codec.frame(item.messages, item.text);
    case 'text':
      return codec.garbage(item.text);
    case 'bytes':
      return Buffer.from(item.bytes);
    case 'oversized':
      return codec.garbage(`{"type":1,"target":"Echo","arguments":["${'x'.repeat(item.length - 45)}"]}${RS}`);
  }
}

/** Every message of every frame the server sent after its handshake answer, checked, in order. */
function checkServerFrames(frames: readonly Buffer[], codec: Codec): Record<string, unknown>[] {
  const messages: Record<string, unknown>[] = [];
  frames.forEach((data, index) => {
    ensure(!data.toString('latin1').toLowerCase().includes('hunter2'), 'a frame leaks the secret', data.toString('utf8'));
    if (index === 0) return; // the handshake answer
    // What the server writes, its own reader must accept: well-formed messages, nothing else.
    for (const parsed of codec.parse(data) as unknown as Record<string, unknown>[]) {
      assertWellFormed(parsed, isWireValue);
      if (typeof parsed.error === 'string') ensure(!STACK_TRACE.test(parsed.error), 'an error text holds a stack trace or a source location', parsed);
      messages.push(parsed);
      served(parsed);
    }
  });
  return messages;
}

/** Values in the server's messages: JSON's kinds (and MessagePack's binaries, for its connections). */
function isWireValue(object: object): boolean {
  const proto = Object.getPrototypeOf(object);
  return proto === Object.prototype || proto === Array.prototype || proto === Uint8Array.prototype;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Resolves with `condition()` as soon as it holds or the socket is closed, or after
 * SETTLE_TIMEOUT_MS; leaves no listener or timer behind.
 */
function settle(raw: RawHubSocket, condition: () => boolean): Promise<boolean> {
  return new Promise((resolve) => {
    // Registered after RawHubSocket's own listener, so a frame is recorded before this looks.
    const onEvent = () => {
      if (condition() || raw.socket.readyState === WebSocket.CLOSED) finish();
    };
    const finish = () => {
      clearTimeout(timer);
      raw.socket.off('message', onEvent).off('close', onEvent);
      resolve(condition());
    };
    const timer = setTimeout(finish, SETTLE_TIMEOUT_MS);
    raw.socket.on('message', onEvent).on('close', onEvent);
    onEvent();
  });
}

/** `promise`, or undefined after `ms`; the timer does not outlive the race. */
async function within<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** What the client knows of what it sent: the Close it asked for, the uploads it opened, the limits it crossed. */
class SentLog {
  sentClose = false;
  sentHuge = false;
  readonly streamIds = new Set<string>();
  // Stateful reconnect numbers the client's invocations, items, completions and cancels; a Sequence
  // message rewinds the count, and the server then skips that many messages as replays.
  private nextSequenceId = 1;
  private latestSequenceId = 0;

  note(item: Frame): void {
    if (item.kind === 'oversized' && item.length > 2 * MAX_MESSAGE_SIZE) this.sentHuge = true;
    if (item.kind !== 'records') return;
    for (const sent of item.messages) {
      if (sent.type === 7) this.sentClose = true;
      if ((sent.type === 1 || sent.type === 4) && Array.isArray(sent.streamIds)) {
        for (const id of sent.streamIds) if (typeof id === 'string' && id !== '' && id.length <= 128) this.streamIds.add(id);
      }
      if (sent.type === 9 && typeof sent.sequenceId === 'number' && sent.sequenceId <= this.nextSequenceId) {
        this.nextSequenceId = sent.sequenceId;
      } else if (typeof sent.type === 'number' && sent.type >= 1 && sent.type <= 5) {
        this.latestSequenceId = Math.max(this.latestSequenceId, this.nextSequenceId++);
      }
    }
  }

  /** Numbered messages the server will still take for replays (and skip) before it handles new ones. */
  get replaysOwed(): number {
    return Math.max(0, this.latestSequenceId - this.nextSequenceId + 1);
  }
}

async function runSession(plan: Session): Promise<void> {
  const { handshake: hello } = plan;
  const stateful = hello.kind === 'valid' && hello.version === 2;
  const codec = hello.kind === 'valid' && hello.protocol === 'messagepack' ? messagePackCodec : jsonCodec;
  const { raw, connectionId } = await openSocket(stateful);
  // Frames as bytes: MessagePack connections receive binary frames.
  const received: Buffer[] = [];
  raw.socket.on('message', (data: Buffer) => received.push(data));
  const closed = raw.closed.then((info) => ({ ...info, framesAtClose: received.length }));
  const isClosed = () => raw.socket.readyState === WebSocket.CLOSED;
  const send = (messages: Wire[]) => raw.send(codec.frame(messages));
  try {
    const frames = [...plan.frames];
    const log = new SentLog();

    // Handshake, alone or with the first frame of messages.
    if (hello.kind === 'valid') {
      const request = Buffer.from(`{"protocol":"${hello.protocol}","version":${hello.version}}${RS}`);
      const first = frames[0];
      const firstData = first.kind === 'records' ? frameData(first, codec) : undefined;
      if (hello.withFirstFrame && firstData !== undefined && request.length + Buffer.byteLength(firstData) <= MAX_MESSAGE_SIZE) {
        frames.shift();
        log.note(first);
        raw.send(typeof firstData === 'string' ? request.toString() + firstData : Buffer.concat([request, firstData]));
      } else {
        raw.send(request.toString()); // a text frame, as the official clients send it
      }
    } else {
      raw.send(hello.text);
    }
    await settle(raw, () => received.length > 0);
    const answer = received[0]?.toString('utf8');
    ensure(answer !== undefined, 'the server closed the socket without answering the handshake');
    if (answer !== `{}${RS}`) {
      ensure(hello.kind === 'garbage', 'a valid handshake was refused', answer);
      ensure(answer.endsWith(RS), 'a handshake answer without a record separator', answer);
      const parsed = JSON.parse(answer.slice(0, -1)) as { error?: unknown };
      ensure(typeof parsed.error === 'string' && HANDSHAKE_ERROR.test(parsed.error), 'unexpected handshake answer', answer);
      const { code, framesAtClose } = await closed;
      ensure(code === 1000 && framesAtClose === 1, `after a handshake error: close code ${code}, ${framesAtClose} frames`);
      count('handshake error');
      return;
    }

    // The session's frames.
    for (const [index, item] of frames.entries()) {
      if (isClosed()) break;
      log.note(item);
      raw.send(frameData(item, codec));
      if (plan.pauses[index]) await sleep(1);
    }

    // Finish the uploads the session opened (a hub method reading one rightly waits for its end),
    // then a Ping and an invocation whose answer proves that the connection still works.
    if (stateful) for (let i = 0; i < log.replaysOwed; i++) send([{ type: 5, invocationId: 'fuzz-replayed' }]);
    for (const id of log.streamIds) send([{ type: 3, invocationId: id }]);
    send([{ type: 6 }]);
    send([{ type: 1, invocationId: FINAL_ID, target: 'Add', arguments: [1, 2] }]);

    const answered = await settle(raw, () => received.some((data) => data.includes(FINAL_ID)));
    ensure(answered || isClosed(), `the connection neither answered the final invocation nor was closed within ${SETTLE_TIMEOUT_MS} ms`);
    const open = !isClosed();
    const messages = checkServerFrames(received, codec);
    const final = messages.find((m) => m.invocationId === FINAL_ID);
    if (final !== undefined) {
      expect(final).toEqual({ type: 3, invocationId: FINAL_ID, result: 3, hasResult: true });
      count(`${codec.name}: ${open ? 'open, answered' : 'answered, then closed'}`);
      return;
    }

    // Closed by the server: its last word is a Close message, or the socket's 1009 for a huge frame.
    const { code } = await closed;
    const last = messages.at(-1);
    if (last?.type === 7) {
      ensure(code === 1000, `closed with code ${code} after a Close message`);
      expect(last).toEqual(last.error === undefined && log.sentClose ? codec.closeAnswer : CLOSE_WITH_ERROR);
      ensure(messages.filter((m) => m.type === 7).length === 1, 'more than one Close message', messages);
      count(`${codec.name}: ${last.error === undefined ? 'closed at the client’s request' : 'closed with an error'}`);
      return;
    }
    ensure(code === 1009 && log.sentHuge, `closed (code ${code}) without a Close message`, messages.slice(-3));
    count(`${codec.name}: refused a frame over twice the limit (1009)`);
  } finally {
    if (!isClosed()) raw.socket.close();
    if ((await within(closed, 2000)) === undefined) raw.socket.terminate();
    sessionConnectionIds.push(connectionId);
  }
}

describe('the dispatcher of a live server under random sessions', () => {
  beforeAll(async () => {
    server = await startHubApp([TestHub, HubEvents], {
      maximumReceiveMessageSize: MAX_MESSAGE_SIZE,
      handshakeTimeoutMs: 500,
      // Waits that are legitimate but would only slow the fuzzer down.
      clientResultTimeoutMs: 200,
      reconnectWindowMs: 300,
      maximumQueuedInvocationsPerClient: MAX_QUEUED,
      // Upload items never pause reading here, so no session can stall itself by design.
      streamBufferCapacity: 1000,
    });
    hubUrl = `${server.baseUrl}/hubs/test`;
    events = server.app.get(HubEvents);
    bystander = await connectClient(hubUrl);
    await expect(bystander.invoke('Add', 1, 2)).resolves.toBe(3);
    prototypesUntouched = snapshotPrototypes();
    (globalThis as { gc?: () => void }).gc?.();
    heapBefore = process.memoryUsage().heapUsed;
  });

  afterAll(async () => {
    reportFuzzRuns(`dispatcher.fuzz.spec.ts\n  endings ${JSON.stringify(Object.fromEntries(endings))}\n  answers ${JSON.stringify(Object.fromEntries(answers))}`);
    await bystander?.stop();
    await server?.close();
  });

  it(
    'keeps the server up and ends every connection in a defined state',
    async () => {
      await fuzzAsync(
        'random sessions against TestHub',
        fc.asyncProperty(session, async (plan) => {
          await runSession(plan);
          // Whatever that connection did, a well-behaved client is still served.
          expect(await bystander.invoke('Add', 40, 2)).toBe(42);
          prototypesUntouched();
        }),
        200,
        20_000,
      );
      // The generators reach every kind of ending that matters (checked unless a slow machine cut the run short).
      if (fuzzRuns.at(-1)?.interrupted) return;
      for (const protocol of ['json', 'messagepack']) {
        expect(endings.get(`${protocol}: open, answered`) ?? 0).toBeGreaterThan(0);
        expect(endings.get(`${protocol}: closed with an error`) ?? 0).toBeGreaterThan(0);
      }
    },
    60_000,
  );

  it('tears every connection down and keeps memory bounded', async () => {
    // Every session connection that reached the hub is disconnected from it (stateful ones after their window).
    if (sessionConnectionIds.length === 0) return; // the sessions did not run (a filtered run)
    const connected = new Set(events.connected);
    const reached = sessionConnectionIds.filter((id) => connected.has(id));
    expect(reached.length).toBeGreaterThan(0);
    const deadline = Date.now() + 5000;
    const pending = () => reached.filter((id) => !events.disconnected.includes(id));
    while (pending().length > 0 && Date.now() < deadline) await sleep(50);
    expect(pending()).toEqual([]);
    (globalThis as { gc?: () => void }).gc?.();
    const growth = process.memoryUsage().heapUsed - heapBefore;
    expect(growth).toBeLessThan(200 * 1024 * 1024);
    await expect(bystander.invoke('Add', 2, 2)).resolves.toBe(4);
  });
});
