import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MessageType } from '../../src/protocol/hub-message.js';
import { MessagePackHubProtocol } from '../../src/protocol/messagepack-hub-protocol.js';
import { startHubApp, type RunningHubApp } from '../support/hub-app.js';
import { RawHubSocket, RS } from '../support/raw-client.js';
import { HubEvents, TestHub } from './test-hubs.js';

/**
 * Invocations that arrive together complete within one turn of the event loop, and their
 * completions leave together in one WebSocket frame (one system call), still in order.
 */
describe('completions of one turn share a frame (raw sockets)', () => {
  let server: RunningHubApp;
  let hubUrl: string;

  beforeAll(async () => {
    server = await startHubApp([TestHub, HubEvents]);
    hubUrl = `${server.baseUrl}/hubs/test`;
  });

  afterAll(() => server.close());

  it('JSON: five invocations in one frame are answered in one frame, in order', async () => {
    const raw = await RawHubSocket.connected(hubUrl);
    const calls = [1, 2, 3, 4, 5].map((n) => `{"type":1,"invocationId":"${n}","target":"Add","arguments":[${n},100]}${RS}`);
    raw.send(calls.join(''));
    await raw.until(() => raw.messages().length >= 6);
    expect(raw.frames).toHaveLength(2);
    expect(raw.frames[1].split(RS).filter(Boolean).map((text) => JSON.parse(text))).toEqual(
      [1, 2, 3, 4, 5].map((n) => ({ type: 3, invocationId: String(n), result: n + 100 })),
    );
    raw.socket.close();
  });

  it('MessagePack: five invocations in one frame are answered in one binary frame, in order', async () => {
    const protocol = new MessagePackHubProtocol();
    const raw = await RawHubSocket.open(hubUrl);
    raw.send(`{"protocol":"messagepack","version":1}${RS}`);
    await raw.nextFrame();
    const calls = [1, 2, 3, 4, 5].map((n) =>
      protocol.writeMessage({ type: MessageType.Invocation, invocationId: String(n), target: 'Add', arguments: [n, 100] }),
    );
    raw.send(Buffer.concat(calls));
    await raw.until(() => raw.rawFrames.length >= 2);
    expect(raw.rawFrames).toHaveLength(2);
    expect(raw.rawFrames[1].binary).toBe(true);
    expect(protocol.parseMessages(raw.rawFrames[1].data)).toEqual(
      [1, 2, 3, 4, 5].map((n) => ({ type: MessageType.Completion, invocationId: String(n), result: n + 100, hasResult: true })),
    );
    raw.socket.close();
  });

  it('keeps a client message sent from a method ahead of the method\'s completion', async () => {
    const raw = await RawHubSocket.connected(hubUrl);
    raw.send(`{"type":1,"invocationId":"r","target":"RecordAndReply","arguments":[7]}${RS}`);
    await raw.until(() => raw.messages().length >= 3);
    expect(raw.messages().slice(1)).toEqual([
      { type: 1, target: 'Recorded', arguments: [7] },
      { type: 3, invocationId: 'r', result: null },
    ]);
    raw.socket.close();
  });
});
