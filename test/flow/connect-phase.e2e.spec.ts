import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startHubApp, type RunningHubApp } from '../support/hub-app.js';
import { RawHubSocket, RS } from '../support/raw-client.js';
import { sleep, waitFor } from '../support/wait.js';
import { FlowHub, FlowProbe } from './flow-hub.js';

const HANDSHAKE = `{"protocol":"json","version":1}${RS}`;
const CONNECT_TIMEOUT_MS = 1500;

/** A gate the test opens: the hub's onConnected waits on it. */
function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

describe('the connect phase: handshake and a slow onConnected', () => {
  let server: RunningHubApp;
  let probe: FlowProbe;
  let url: string;
  const sockets: RawHubSocket[] = [];

  beforeAll(async () => {
    server = await startHubApp([FlowHub, FlowProbe], { handshakeTimeoutMs: CONNECT_TIMEOUT_MS, keepAliveIntervalMs: 100 });
    probe = server.app.get(FlowProbe);
    url = `${server.baseUrl}/hubs/flow`;
  });

  afterEach(() => {
    for (const socket of sockets.splice(0)) socket.socket.terminate();
    probe.reset();
  });

  afterAll(() => server.close());

  async function open(): Promise<RawHubSocket> {
    const socket = await RawHubSocket.open(url);
    sockets.push(socket);
    return socket;
  }

  it('answers, in order, what a client sent while onConnected ran, and pings it meanwhile', async () => {
    const connecting = gate();
    probe.connectGate = connecting.promise;
    const raw = await open();
    raw.send(HANDSHAKE);
    for (let i = 0; i < 50; i++) raw.send(`{"type":1,"invocationId":"${i}","target":"echo","arguments":[${i}]}${RS}`);
    await raw.until(() => raw.messages().filter((message) => message.type === 6).length >= 2);
    expect(raw.messages().some((message) => message.type === 3)).toBe(false);

    connecting.open();
    await raw.until(() => raw.messages().filter((message) => message.type === 3).length === 50);
    const results = raw.messages().filter((message) => message.type === 3);
    expect(results.map((message) => message.result)).toEqual([...Array(50).keys()]);
  });

  it('leaves what a client sends during onConnected in its socket instead of reading it into memory', async () => {
    const connecting = gate();
    probe.connectGate = connecting.promise;
    const raw = await open();
    raw.send(HANDSHAKE);
    await raw.nextFrame();
    const frame = `{"type":1,"target":"echo","arguments":["${'z'.repeat(30_000)}"]}${RS}`;
    for (let i = 0; i < 1000; i++) raw.send(frame);
    // What the kernel buffers is a few MB at most: the rest stays with the sender, unread.
    let unsent = raw.socket.bufferedAmount;
    for (let settled = false; !settled; ) {
      await sleep(300);
      settled = raw.socket.bufferedAmount === unsent;
      unsent = raw.socket.bufferedAmount;
    }
    expect(unsent).toBeGreaterThan(15_000_000);
    connecting.open();
  });

  it('closes a connection whose onConnected outlives the connect timeout, and tells the hub once it returns', async () => {
    const connecting = gate();
    probe.connectGate = connecting.promise;
    const raw = await open();
    raw.send(HANDSHAKE);
    const { code } = await raw.closed;
    expect(code).toBe(1000);
    expect(raw.messages().at(-1)).toEqual({ type: 7, error: 'Connection closed with an error.', allowReconnect: true });
    const connectionId = [...probe.callers.keys()].at(-1)!;
    expect(probe.disconnected.has(connectionId)).toBe(false);

    connecting.open();
    await waitFor(() => probe.disconnected.has(connectionId), 5000);
  });
});
