import type { HubConnection } from '@microsoft/signalr';
import { MessageType } from '../../src/protocol/hub-message.js';
import { MessagePackHubProtocol } from '../../src/protocol/messagepack-hub-protocol.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectClient } from '../support/client.js';
import { startHubApp, type RunningHubApp } from '../support/hub-app.js';
import { negotiate, RawHubSocket, RS, upgradeStatus } from '../support/raw-client.js';
import { HubEvents, TestHub } from './test-hubs.js';

const CLOSE_WITH_ERROR = { type: 7, error: 'Connection closed with an error.', allowReconnect: true };

const FRAME_LIMIT = 64 * 1024;

/** An Echo invocation of about 950 bytes. */
const echo = (i: number) => `{"type":1,"invocationId":"${i}","target":"Echo","arguments":["${'x'.repeat(900)}"]}${RS}`;

describe('what the official client cannot provoke (raw sockets)', () => {
  let server: RunningHubApp;
  let hubUrl: string;
  let bystander: HubConnection;

  beforeAll(async () => {
    server = await startHubApp([TestHub, HubEvents], {
      handshakeTimeoutMs: 300,
      clientTimeoutIntervalMs: 600,
      keepAliveIntervalMs: 200,
      maximumReceiveMessageSize: 1024,
      maximumReceiveFrameSize: FRAME_LIMIT,
    });
    hubUrl = `${server.baseUrl}/hubs/test`;
    // A well-behaved client that must be unaffected by everything below.
    bystander = await connectClient(hubUrl, {}, (connection) => {
      connection.serverTimeoutInMilliseconds = 5000;
      connection.keepAliveIntervalInMilliseconds = 100;
    });
  });

  afterAll(async () => {
    await expect(bystander.invoke('Add', 40, 2)).resolves.toBe(42);
    await bystander.stop();
    await server.close();
  });

  it('answers negotiate on POST only (405 otherwise)', async () => {
    const response = await fetch(`${hubUrl}/negotiate?negotiateVersion=1`, { method: 'GET' });
    expect(response.status).toBe(405);
    expect(response.headers.get('allow')).toBe('POST');
    const body = await negotiate(hubUrl);
    expect(body).toMatchObject({
      negotiateVersion: 1,
      availableTransports: [
        { transport: 'WebSockets', transferFormats: ['Text', 'Binary'] },
        { transport: 'ServerSentEvents', transferFormats: ['Text'] },
        { transport: 'LongPolling', transferFormats: ['Text', 'Binary'] },
      ],
    });
    expect(body).not.toHaveProperty('ProtocolVersion');
    expect(body.connectionId).not.toBe(body.connectionToken);
  });

  it('refuses unknown (404) and already-used (409) connection tokens', async () => {
    expect(await upgradeStatus(`${hubUrl}?id=not-a-token`)).toEqual({ status: 404, body: 'No Connection with that ID' });
    const raw = await RawHubSocket.open(hubUrl);
    const token = new URL(raw.socket.url).searchParams.get('id')!;
    expect((await upgradeStatus(`${hubUrl}?id=${token}`)).status).toBe(409);
    raw.socket.close();
    await raw.closed;
    await new Promise((resolve) => setTimeout(resolve, 50));
    // The token died with its connection.
    expect((await upgradeStatus(`${hubUrl}?id=${token}`)).status).toBe(404);
  });

  it('leaves upgrades to other paths alone', async () => {
    server.app.getHttpServer().once('upgrade', (request: { url: string }, socket: { end(text: string): void }) => {
      if (request.url === '/elsewhere') socket.end('HTTP/1.1 418 Teapot\r\nContent-Length: 0\r\n\r\n');
    });
    expect((await upgradeStatus(`${server.baseUrl}/elsewhere`)).status).toBe(418);
  });

  it('answers the handshake with {} and accepts several messages in one frame', async () => {
    const raw = await RawHubSocket.open(hubUrl);
    raw.send(
      `{"protocol":"json","version":1}${RS}` +
        `{"type":1,"invocationId":"1","target":"Add","arguments":[1,2]}${RS}` +
        `{"type":6}${RS}{"type":1,"invocationId":"2","target":"Echo","arguments":["x"]}${RS}`,
    );
    await raw.until(() => raw.messages().length >= 3);
    expect(raw.frames[0]).toBe(`{}${RS}`);
    expect(raw.messages().slice(1, 3)).toEqual([
      { type: 3, invocationId: '1', result: 3 },
      { type: 3, invocationId: '2', result: 'x' },
    ]);
    raw.socket.close();
  });

  it('refuses unknown protocols and versions with the exact handshake errors', async () => {
    const unknown = await RawHubSocket.open(hubUrl);
    unknown.send(`{"protocol":"xml","version":1}${RS}`);
    expect(await unknown.nextFrame()).toBe(`{"error":"The protocol 'xml' is not supported."}${RS}`);
    await unknown.closed;
    const version = await RawHubSocket.open(hubUrl);
    version.send(`{"protocol":"json","version":99}${RS}`);
    expect(await version.nextFrame()).toBe(`{"error":"The server does not support version 99 of the 'json' protocol."}${RS}`);
    await version.closed;
  });

  it('cancels a handshake that never comes', async () => {
    const raw = await RawHubSocket.open(hubUrl);
    expect(await raw.nextFrame(2000)).toBe(`{"error":"Handshake was canceled."}${RS}`);
    await raw.closed;
  });

  it('refuses a malformed handshake', async () => {
    const raw = await RawHubSocket.open(hubUrl);
    raw.send(`{"protocol":${RS}`);
    expect(await raw.nextFrame()).toBe(`{"error":"An unexpected error occurred during connection handshake."}${RS}`);
    await raw.closed;
  });

  it.each([
    ['malformed JSON', `{"type":1,${RS}`],
    ['a frame without a record separator', '{"type":6}'],
    ['a message that is not an object', `[1,2,3]${RS}`],
    ['an invocation without a target', `{"type":1,"invocationId":"1","arguments":[]}${RS}`],
  ])('closes only the offending connection on %s', async (_label, frame) => {
    const raw = await RawHubSocket.connected(hubUrl);
    raw.send(frame);
    await raw.closed;
    expect(raw.messages().at(-1)).toEqual(CLOSE_WITH_ERROR);
    await expect(bystander.invoke('Add', 1, 1)).resolves.toBe(2);
  });

  it('ignores unknown message types', async () => {
    const raw = await RawHubSocket.connected(hubUrl);
    raw.send(`{"type":42,"whatever":true}${RS}{"type":1,"invocationId":"7","target":"Add","arguments":[3,4]}${RS}`);
    await raw.until(() => raw.messages().some((m) => m.invocationId === '7'));
    expect(raw.messages().at(-1)).toEqual({ type: 3, invocationId: '7', result: 7 });
    raw.socket.close();
  });

  it('closes a connection whose message exceeds the maximum size', async () => {
    const raw = await RawHubSocket.connected(hubUrl);
    raw.send(`{"type":1,"target":"Echo","arguments":["${'x'.repeat(1100)}"]}${RS}`);
    await raw.closed;
    expect(raw.messages().at(-1)).toEqual(CLOSE_WITH_ERROR);
  });

  it('reads a frame holding many messages, each within the limit, as the official client batches them', async () => {
    const raw = await RawHubSocket.connected(hubUrl);
    raw.send(Array.from({ length: 20 }, (_, i) => echo(i)).join(''));
    await raw.until(() => raw.messages().filter((m) => m.type === 3).length === 20);
    expect(raw.messages().filter((m) => m.type === 3).map((m) => m.invocationId)).toEqual(Array.from({ length: 20 }, (_, i) => String(i)));
    raw.socket.close();
  });

  it('refuses frames beyond maximumReceiveFrameSize before reading them', async () => {
    const raw = await RawHubSocket.connected(hubUrl);
    raw.send('x'.repeat(FRAME_LIMIT + 1));
    expect((await raw.closed).code).toBe(1009);
  });

  it('pings an idle client and drops one that stops sending', async () => {
    const raw = await RawHubSocket.connected(hubUrl);
    await raw.until(() => raw.messages().some((m) => m.type === 6), 2000);
    const closed = await raw.closed;
    expect(closed.code).toBe(1000);
    expect(raw.messages().at(-1)).toEqual(CLOSE_WITH_ERROR);
  });

  it('answers a client Close by closing', async () => {
    const raw = await RawHubSocket.connected(hubUrl);
    raw.send(`{"type":7}${RS}`);
    expect((await raw.closed).code).toBe(1000);
  });

  it('answers stream items, completions and cancels for unknown ids with nothing', async () => {
    const raw = await RawHubSocket.connected(hubUrl);
    raw.send(
      `{"type":2,"invocationId":"nope","item":1}${RS}{"type":3,"invocationId":"nope","result":1}${RS}` +
        `{"type":5,"invocationId":"nope"}${RS}{"type":1,"invocationId":"8","target":"Nothing","arguments":[]}${RS}`,
    );
    await raw.until(() => raw.messages().some((m) => m.invocationId === '8'));
    expect(raw.messages().slice(1)).toEqual([{ type: 3, invocationId: '8', result: null }]);
    raw.socket.close();
  });
});

describe('MessagePack over raw sockets', () => {
  let server: RunningHubApp;
  let hubUrl: string;
  const protocol = new MessagePackHubProtocol();

  beforeAll(async () => {
    server = await startHubApp([TestHub, HubEvents]);
    hubUrl = `${server.baseUrl}/hubs/test`;
  });

  afterAll(() => server.close());

  const connected = async () => {
    const raw = await RawHubSocket.open(hubUrl);
    raw.send(`{"protocol":"messagepack","version":1}${RS}`);
    await raw.nextFrame();
    return raw;
  };

  it('answers the handshake in a binary frame and invocations in MessagePack', async () => {
    const raw = await connected();
    expect(raw.rawFrames[0]).toEqual({ data: Buffer.from(`{}${RS}`), binary: true });
    raw.send(Buffer.from(protocol.writeMessage({ type: MessageType.Invocation, invocationId: '1', target: 'Add', arguments: [2, 3] })));
    await raw.until(() => raw.rawFrames.length === 2);
    expect(raw.rawFrames[1].binary).toBe(true);
    expect(protocol.parseMessages(raw.rawFrames[1].data)).toEqual([
      { type: MessageType.Completion, invocationId: '1', result: 5, hasResult: true },
    ]);
    raw.socket.close();
  });

  it.each([
    ['random bytes', Buffer.from([0xc1, 0xff, 0x00, 0x13, 0x37])],
    ['a length prefix longer than the frame', Buffer.from([0x7f, 0x91, 0x06])],
    ['a message that is not an array', Buffer.from([0x02, 0xa1, 0x78])],
    ['a text frame', 'not messagepack'],
  ])('closes only the offending connection on %s, with a MessagePack Close', async (_label, frame) => {
    const raw = await connected();
    raw.send(frame);
    await raw.closed;
    const last = raw.rawFrames.at(-1)!;
    expect(protocol.parseMessages(last.data)).toEqual([
      { type: MessageType.Close, error: 'Connection closed with an error.', allowReconnect: true },
    ]);
  });
});
