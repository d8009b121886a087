import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConnectionSocket } from '../../src/connection/connection-socket.js';
import { ResumableSession } from '../../src/connection/resumable-session.js';
import { StatefulReconnectBuffer } from '../../src/connection/stateful-reconnect-buffer.js';
import { DEFAULT_HUB_OPTIONS, type ResolvedHubOptions } from '../../src/options/hub-options.js';
import { MessageType } from '../../src/protocol/hub-message.js';
import { type FrameLog, Loopback } from '../support/loopback.js';
import { sleep } from '../support/wait.js';

let loopback: Loopback;
beforeAll(async () => (loopback = await Loopback.start()));
afterAll(() => loopback.close());

async function session(overrides: Partial<ResolvedHubOptions> = {}): Promise<{ session: ResumableSession; client: FrameLog; closes: number[] }> {
  const { client, serverSide } = await loopback.connect();
  const closes: number[] = [];
  const options = { ...DEFAULT_HUB_OPTIONS, ...overrides };
  const wire = new ConnectionSocket(serverSide, options.maximumBufferedBytesPerClient, options.statefulReconnectBufferSize, {
    onFrame: () => {},
    onSocketClosed: (code) => void closes.push(code),
    closeAsSlowConsumer: () => {},
    unacknowledgedBytes: () => 0,
  });
  return { session: new ResumableSession(new StatefulReconnectBuffer(), wire, options, undefined), client, closes };
}

const COMPLETION = '{"type":3,"invocationId":"1","result":1}\u001e';

describe('ResumableSession', () => {
  it('keeps numbered messages for replay until they hold more than the outbound limit', async () => {
    const { session: subject } = await session({ maximumBufferedBytesPerClient: 2 * COMPLETION.length });
    expect(subject.keep('{"type":6}\u001e', MessageType.Ping)).toBe(true);
    expect(subject.unacknowledgedBytes).toBe(0);
    expect(subject.keep(COMPLETION, MessageType.Completion)).toBe(true);
    expect(subject.keep(COMPLETION, MessageType.Completion)).toBe(true);
    expect(subject.keep(COMPLETION, MessageType.Completion)).toBe(false);
  });

  it('opens the reconnect window for a dropped socket, and ends it after reconnectWindowMs', async () => {
    const { session: subject } = await session({ reconnectWindowMs: 30 });
    let expired = false;
    expect(subject.openWindow(1006, () => (expired = true))).toBe(true);
    await sleep(100);
    expect(expired).toBe(true);
  });

  it('opens no window for a socket its client closed on purpose', async () => {
    const { session: subject } = await session();
    expect(subject.openWindow(1000, () => {})).toBe(false);
  });

  it('opens the window for a socket the server dropped for the client to resume, closed with 1001', async () => {
    const { session: subject, client, closes } = await session({ reconnectWindowMs: 60_000 });
    subject.dropSocket();
    expect(await client.closed).toBe(1001);
    await sleep(20);
    expect(subject.openWindow(closes[0], () => {})).toBe(true);
    subject.end();
  });

  it('closes the window when a new socket resumes, which gets what was not acknowledged', async () => {
    // A window long enough for a loaded machine to connect the new socket within it.
    const { session: subject } = await session({ reconnectWindowMs: 500 });
    subject.keep(COMPLETION, MessageType.Completion);
    subject.keep(COMPLETION.replace('"1"', '"2"'), MessageType.Completion);
    expect(subject.receive({ type: MessageType.Ack, sequenceId: 1 })).toBe('handled');
    let expired = false;
    subject.openWindow(1006, () => (expired = true));
    const next = await loopback.connect();
    expect(subject.resume(next.serverSide)).toEqual({ sequenceId: 2, payloads: [COMPLETION.replace('"1"', '"2"')] });
    await sleep(700);
    expect(expired).toBe(false);
  });

  it('finds the client overdue once it acknowledged nothing for the client timeout while over the replay limit', async () => {
    const { session: subject } = await session({ statefulReconnectBufferSize: COMPLETION.length, clientTimeoutIntervalMs: 1000 });
    subject.keep(COMPLETION, MessageType.Completion);
    subject.keep(COMPLETION, MessageType.Completion);
    expect(subject.ackOverdue(10_000)).toBe(false);
    expect(subject.ackOverdue(10_999)).toBe(false);
    expect(subject.ackOverdue(11_000)).toBe(true);
    subject.receive({ type: MessageType.Ack, sequenceId: 2 });
    expect(subject.ackOverdue(12_000)).toBe(false);
  });
});
