import { SignalRModule } from 'nestjs-signalr';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFunctionalServer } from '../functional/functional-app.js';
import { TestHub } from '../functional/test-hub.js';
import { startHubApp, type RunningHubApp } from '../support/hub-app.js';
import { RawHubSocket } from '../support/raw-client.js';
import { startReferenceServer, type RunningReferenceServer } from '../support/reference-server.js';
import {
  binaryRecord,
  fetchTrace,
  longPollingTrace,
  JSON_HANDSHAKE,
  MESSAGEPACK_HANDSHAKE,
  record,
  serverSentEventsTrace,
  silentClientTrace,
  untilFirstPing,
  upgradeTrace,
  webSocketTrace,
} from './wire-traces.js';

// The same scripted raw sequences against the package (the functional test hub) and against
// ASP.NET Core's own server with the same hub (test/reference/ReferenceServer), compared whole.
// Where they differ on purpose, docs/compatibility.md names the difference and its test below.

type Sequence = (baseUrl: string) => Promise<unknown>;

const hub = (baseUrl: string) => `${baseUrl}/testhub`;
/** The ids of the calls in `frames` that answer with a completion. */
function callIds(frames: readonly (string | Buffer)[]): string[] {
  return frames
    .flatMap((frame) => String(frame).split('\u001e').filter(Boolean))
    .flatMap((text) => {
      try {
        const message = JSON.parse(text) as { type?: unknown; invocationId?: unknown };
        return (message.type === 1 || message.type === 4) && typeof message.invocationId === 'string' ? [message.invocationId] : [];
      } catch {
        return [];
      }
    });
}
/** A WebSocket sequence that waits for the completion of each of its calls. */
const ws = (...frames: (string | Buffer)[]): Sequence => (baseUrl) => webSocketTrace(hub(baseUrl), frames, { awaiting: callIds(frames) });
const invocation = (invocationId: string | undefined, target: string, ...args: unknown[]) => record({ type: 1, ...(invocationId ? { invocationId } : {}), target, arguments: args });

/** MessagePack frames after a MessagePack handshake. */
const binary = (...frames: Buffer[]): Sequence => (baseUrl) => webSocketTrace(hub(baseUrl), frames, { handshake: MESSAGEPACK_HANDSHAKE, awaiting: ['1'] });

/**
 * Malformed frames after a good handshake, from the protocol specs (test/protocol) and the shapes
 * the fuzz suites generate. Both servers close with an error; ASP.NET Core's names the exception.
 */
const MALFORMED_FRAMES: Record<string, string> = {
  'unterminated JSON': `{"type":1${'\u001e'}`,
  'unquoted key': `{type:6}${'\u001e'}`,
  'single quotes': `{'type':6}${'\u001e'}`,
  'bare word': `ping${'\u001e'}`,
  'an array': `[]${'\u001e'}`,
  'no type': `{}${'\u001e'}`,
  'type as a string': `{"type":"1","target":"Echo","arguments":[]}${'\u001e'}`,
  'target not a string': `{"type":1,"target":5,"arguments":[]}${'\u001e'}`,
  'no arguments': `{"type":1,"invocationId":"1","target":"Echo"}${'\u001e'}`,
  'arguments not an array': `{"type":1,"invocationId":"1","target":"Echo","arguments":{}}${'\u001e'}`,
  'invocation id a number': `{"type":1,"invocationId":1,"target":"Echo","arguments":["x"]}${'\u001e'}`,
  'cancel without an id': `{"type":5}${'\u001e'}`,
  'stream item without an id': `{"type":2,"item":1}${'\u001e'}`,
  'completion without an id': `{"type":3}${'\u001e'}`,
  'close with a number as error': `{"type":7,"error":5}${'\u001e'}`,
  'invalid UTF-8': Buffer.from([0x7b, 0x22, 0x74, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d, 0x1e]).toString('latin1'),
};

/** Sequences whose answers are the same from both servers. */
const SAME: Record<string, Sequence> = {
  'negotiate, version 1': (baseUrl) => fetchTrace(`${hub(baseUrl)}/negotiate?negotiateVersion=1`, { method: 'POST' }),
  'negotiate, version 0': (baseUrl) => fetchTrace(`${hub(baseUrl)}/negotiate?negotiateVersion=0`, { method: 'POST' }),
  'negotiate, no version': (baseUrl) => fetchTrace(`${hub(baseUrl)}/negotiate`, { method: 'POST' }),
  'negotiate, a later version': (baseUrl) => fetchTrace(`${hub(baseUrl)}/negotiate?negotiateVersion=7`, { method: 'POST' }),
  'negotiate, stateful reconnect asked for': (baseUrl) => fetchTrace(`${hub(baseUrl)}/negotiate?negotiateVersion=1&useStatefulReconnect=true`, { method: 'POST' }),
  'negotiate, a hub without WebSockets': (baseUrl) => fetchTrace(`${baseUrl}/testhub-nowebsockets/negotiate?negotiateVersion=1`, { method: 'POST' }),
  'WebSocket with an unknown id': (baseUrl) => upgradeTrace(`${hub(baseUrl)}?id=unknown`),
  'long poll with an unknown id': (baseUrl) => fetchTrace(`${hub(baseUrl)}?id=unknown`),
  'POST with an unknown id': (baseUrl) => fetchTrace(`${hub(baseUrl)}?id=unknown`, { method: 'POST', body: 'x' }),
  'DELETE with an unknown id': (baseUrl) => fetchTrace(`${hub(baseUrl)}?id=unknown`, { method: 'DELETE' }),
  'GET without an id': (baseUrl) => fetchTrace(hub(baseUrl)),
  'long polling: handshake, Echo, DELETE': (baseUrl) => longPollingTrace(hub(baseUrl)),
  'Server-Sent Events: handshake, Echo, a second stream, DELETE': (baseUrl) => serverSentEventsTrace(hub(baseUrl)),

  'handshake JSON': ws(),
  'handshake MessagePack, then an invocation': (baseUrl) =>
    webSocketTrace(hub(baseUrl), [binaryRecord([1, {}, '1', 'Echo', ['hi']])], { handshake: MESSAGEPACK_HANDSHAKE }),
  'MessagePack: stream invocation': binary(binaryRecord([4, {}, '1', 'Stream', []])),
  'MessagePack: invocation that throws': binary(binaryRecord([1, {}, '1', 'ThrowException', ['boom']])),
  'handshake with an unknown protocol': (baseUrl) => webSocketTrace(hub(baseUrl), [], { handshake: `{"protocol":"xml","version":1}\u001e` }),
  'handshake with JSON version 2 (stateful reconnect)': (baseUrl) => webSocketTrace(hub(baseUrl), [], { handshake: `{"protocol":"json","version":2}\u001e` }),
  'handshake with an unsupported version': (baseUrl) => webSocketTrace(hub(baseUrl), [], { handshake: `{"protocol":"json","version":3}\u001e` }),

  'invocation with a result': ws(invocation('1', 'Echo', 'hi')),
  'invocation without an id (non-blocking)': ws(invocation(undefined, 'InvokeWithString', 'hi')),
  'invocation of an unknown method': ws(invocation('1', 'NoSuchMethod')),
  'invocation with too many arguments': ws(invocation('1', 'Echo', 'a', 'b')),
  'invocation with too few arguments': ws(invocation('1', 'Echo')),
  'invocation that throws (detailed errors)': ws(invocation('1', 'ThrowException', 'boom')),
  'invocation returning nothing': ws(invocation('1', 'InvokeWithString', 'hi')),
  'invocation of a streaming method': ws(invocation('1', 'Stream')),
  'stream invocation': ws(record({ type: 4, invocationId: '1', target: 'Stream', arguments: [] })),
  'stream invocation of a non-streaming method': ws(record({ type: 4, invocationId: '1', target: 'Echo', arguments: ['x'] })),
  'stream invocation of an empty stream': ws(record({ type: 4, invocationId: '1', target: 'EmptyStream', arguments: [] })),
  'stream invocation that throws': ws(record({ type: 4, invocationId: '1', target: 'StreamThrowException', arguments: ['boom'] })),
  'cancel of an unknown invocation': ws(record({ type: 5, invocationId: 'nope' })),
  'client-to-server stream': ws(
    record({ type: 1, invocationId: '1', target: 'StreamingConcat', arguments: [], streamIds: ['s'] }),
    record({ type: 2, invocationId: 's', item: 'a' }),
    record({ type: 2, invocationId: 's', item: 'b' }),
    record({ type: 3, invocationId: 's' }),
  ),
  'client-to-server stream completed with an error': ws(
    record({ type: 1, invocationId: '1', target: 'StreamingConcat', arguments: [], streamIds: ['s'] }),
    record({ type: 2, invocationId: 's', item: 'a' }),
    record({ type: 3, invocationId: 's', error: 'client gave up' }),
  ),
  'stream item for an unknown stream': ws(record({ type: 2, invocationId: 'nope', item: 1 })),
  'completion for an unknown stream': ws(record({ type: 3, invocationId: 'nope' })),
  'ping': ws(record({ type: 6 })),
  'close from the client': ws(record({ type: 7 })),
};

/** Sequences where ASP.NET Core's close or handshake error names the exception and the package's does not. */
const WITHOUT_DETAIL: Record<string, Sequence> = {
  'handshake without a version': (baseUrl) => webSocketTrace(hub(baseUrl), [], { handshake: `{"protocol":"json"}\u001e` }),
  'handshake not JSON': (baseUrl) => webSocketTrace(hub(baseUrl), [], { handshake: `hello\u001e` }),
  'MessagePack: a message that is not an array': binary(binaryRecord({ type: 1 })),
  'MessagePack: a target that is not a string': binary(binaryRecord([1, {}, '1', 5, []])),
  'oversized message': ws(invocation('1', 'Echo', 'x'.repeat(40 * 1024))),
  ...Object.fromEntries(Object.entries(MALFORMED_FRAMES).map(([name, frame]) => [`malformed frame: ${name}`, ws(frame)])),
};

/** Error texts cut to their generic sentence, as the package writes them (in JSON's `error` and MessagePack's arrays alike). */
function withoutDetail(trace: unknown): unknown {
  return JSON.parse(
    JSON.stringify(trace, (_key, value: unknown) =>
      typeof value === 'string' ? value.replace(/^((?:Connection closed with an error|An unexpected error occurred during connection handshake)\.) .+$/s, '$1') : value,
    ),
  );
}

describe('the package beside ASP.NET Core (same raw sequences, same answers)', () => {
  let nest: RunningHubApp;
  let reference: RunningReferenceServer;

  beforeAll(async () => {
    [nest, reference] = await Promise.all([startFunctionalServer('http'), startReferenceServer()]);
  }, 240_000);

  afterAll(async () => {
    await nest?.close();
    await reference?.close();
  });

  it.each(Object.keys(SAME))('%s', async (name) => {
    const sequence = SAME[name];
    const [ours, theirs] = await Promise.all([sequence(nest.baseUrl), sequence(reference.baseUrl)]);
    expect(ours).toEqual(theirs);
  });

  // Each difference below is a row of docs/compatibility.md.

  it.each(Object.keys(WITHOUT_DETAIL))('%s: the same close, without the exception ASP.NET Core names', async (name) => {
    const sequence = WITHOUT_DETAIL[name];
    const [ours, theirs] = await Promise.all([sequence(nest.baseUrl), sequence(reference.baseUrl)]);
    expect(theirs).not.toEqual(ours);
    expect(ours).toEqual(withoutDetail(theirs));
  });

  it('trailing characters after a JSON message: the package closes with an error, ASP.NET Core reads the message', async () => {
    const sequence = ws(`{"type":6}}\u001e`);
    const [ours, theirs] = await Promise.all([sequence(nest.baseUrl), sequence(reference.baseUrl)]);
    expect(ours).toEqual({ handshake: {}, invocations: {}, others: [{ type: 7, error: 'Connection closed with an error.', allowReconnect: true }], closed: { code: 1000, reason: '' } });
    expect(theirs).toEqual({ handshake: {}, invocations: { barrier: [{ type: 3, invocationId: 'barrier', result: 'barrier' }] }, others: [], closed: 'open' });
  });

  it('a stream canceled as it starts: ASP.NET Core sends a completion after the cancel, the package none', async () => {
    const frames = [record({ type: 4, invocationId: '1', target: 'InfiniteStream', arguments: [] }) + record({ type: 5, invocationId: '1' })];
    const [ours, theirs] = await Promise.all([
      webSocketTrace(hub(nest.baseUrl), frames),
      webSocketTrace(hub(reference.baseUrl), frames, { awaiting: ['1'] }),
    ]);
    const canceled = [{ type: 1, target: 'StreamCanceled', arguments: [] }];
    expect(ours).toEqual({ handshake: {}, invocations: { barrier: [{ type: 3, invocationId: 'barrier', result: 'barrier' }] }, others: canceled, closed: 'open' });
    expect(theirs).toMatchObject({ invocations: { '1': [{ type: 3, invocationId: '1' }] }, others: canceled, closed: 'open' });
  });

  it('a MessagePack message split across two WebSocket frames: ASP.NET Core reads on, the package closes with an error', async () => {
    const message = binaryRecord([1, {}, '1', 'Echo', ['hi']]);
    const split = binary(message.subarray(0, 4), message.subarray(4));
    const [ours, theirs] = await Promise.all([split(nest.baseUrl), split(reference.baseUrl)]);
    expect(ours).toEqual({ handshake: {}, invocations: {}, others: [[7, 'Connection closed with an error.', true]], closed: { code: 1000, reason: '' } });
    expect(theirs).toMatchObject({ invocations: { '1': [[3, {}, '1', 3, 'hi']] }, closed: 'open' });
  });

  it('a message type from the future: the package ignores it and answers what follows', async () => {
    expect(await ws(record({ type: 99, invocationId: '1' }))(nest.baseUrl)).toEqual({
      handshake: {},
      invocations: { barrier: [{ type: 3, invocationId: 'barrier', result: 'barrier' }] },
      others: [],
      closed: 'open',
    });
  });

  it('negotiate with GET: both 405; the package names the method allowed and says why in the body', async () => {
    const [ours, theirs] = await Promise.all([nest, reference].map(({ baseUrl }) => fetch(`${hub(baseUrl)}/negotiate?negotiateVersion=1`)));
    expect([ours.status, ours.headers.get('allow'), await ours.text()]).toEqual([405, 'POST', 'Method Not Allowed']);
    expect([theirs.status, theirs.headers.get('allow'), await theirs.text()]).toEqual([405, null, '']);
  });

  it('text answers: the package names their charset, ASP.NET Core does not', async () => {
    const [ours, theirs] = await Promise.all([nest, reference].map(({ baseUrl }) => fetch(`${hub(baseUrl)}/negotiate?negotiateVersion=1`, { method: 'POST' })));
    expect(ours.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(theirs.headers.get('content-type')).toBe('application/json');
  });
});

// Keep-alive pings, the client timeout and the handshake timeout of the package beside ASP.NET
// Core's (test/reference/ReferenceServer), both with the same short timers so that they fire
// within a test. A row of docs/compatibility.md names each difference.

const KEEP_ALIVE_MS = 200;
const CLIENT_TIMEOUT_MS = 1_000;
const HANDSHAKE_TIMEOUT_MS = 500;

describe('timers of the package beside ASP.NET Core', () => {
  let nest: RunningHubApp;
  let reference: RunningReferenceServer;

  beforeAll(async () => {
    [nest, reference] = await Promise.all([
      startHubApp([TestHub], { keepAliveIntervalMs: KEEP_ALIVE_MS, clientTimeoutIntervalMs: CLIENT_TIMEOUT_MS, handshakeTimeoutMs: HANDSHAKE_TIMEOUT_MS }, {
        imports: [SignalRModule.forFeature([TestHub])],
      }),
      startReferenceServer({ timers: { KeepAliveMs: KEEP_ALIVE_MS, ClientTimeoutMs: CLIENT_TIMEOUT_MS, HandshakeTimeoutMs: HANDSHAKE_TIMEOUT_MS } }),
    ]);
  }, 240_000);

  afterAll(async () => {
    await nest?.close();
    await reference?.close();
  });

  it('keep-alive: both ping a client that sends nothing after its handshake', async () => {
    const [ours, theirs] = await Promise.all([untilFirstPing(`${nest.baseUrl}/testhub`), untilFirstPing(`${reference.baseUrl}/testhub`)]);
    expect(ours).toEqual([{}, { type: 6 }]);
    expect(theirs).toEqual([{}, { type: 6 }]);
  });

  it('handshake timeout: both close a socket that sends no handshake, without a word', async () => {
    const [ours, theirs] = await Promise.all([
      silentClientTrace(`${nest.baseUrl}/testhub`, undefined),
      silentClientTrace(`${reference.baseUrl}/testhub`, undefined),
    ]);
    expect(ours).toEqual(theirs);
  });

  it('client timeout: both close a client silent since its first ping, with the same close, without the exception ASP.NET Core names', async () => {
    const pingedOnce = JSON_HANDSHAKE + record({ type: 6 });
    const [ours, theirs] = await Promise.all([silentClientTrace(`${nest.baseUrl}/testhub`, pingedOnce), silentClientTrace(`${reference.baseUrl}/testhub`, pingedOnce)]);
    expect(ours).toEqual({
      pinged: true,
      messages: [{}, { type: 7, error: 'Connection closed with an error.', allowReconnect: true }],
      closed: { code: 1000, reason: '' },
    });
    expect(theirs).not.toEqual(ours);
    expect(withoutDetail(theirs)).toEqual(ours);
  });

  // ASP.NET Core's hub dispatcher arms the client timeout only when a Ping arrives (a client that
  // never pings is never timed out there); the package times
  // out every client from its handshake on. Both reference connections start together, so once the
  // pinging one is closed the silent one has been silent for longer than the timeout.
  it('client timeout: ASP.NET Core never times out a client that never pings; the package does', async () => {
    const [ours, theirsSilent, theirsPinged] = await Promise.all([
      RawHubSocket.open(hub(nest.baseUrl)),
      RawHubSocket.open(hub(reference.baseUrl)),
      RawHubSocket.open(hub(reference.baseUrl)),
    ]);
    ours.send(JSON_HANDSHAKE);
    theirsSilent.send(JSON_HANDSHAKE);
    theirsPinged.send(JSON_HANDSHAKE + record({ type: 6 }));
    await Promise.all([ours.closed, theirsPinged.closed]);
    expect(ours.messages().filter(({ type }) => type !== 6)).toEqual([{}, { type: 7, error: 'Connection closed with an error.', allowReconnect: true }]);
    theirsSilent.send(record({ type: 1, invocationId: '1', target: 'Echo', arguments: ['still open'] }));
    await theirsSilent.until(() => theirsSilent.messages().some(({ type }) => type === 3));
    expect(theirsSilent.messages().filter(({ type }) => type !== 6)).toEqual([{}, { type: 3, invocationId: '1', result: 'still open' }]);
    theirsSilent.socket.close();
  });
});
