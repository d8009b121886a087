import { HubConnectionState, type HubConnection } from '@microsoft/signalr';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ClientPool, WIRE_PROTOCOLS } from '../support/client.js';
import { startHubApp, type RunningHubApp } from '../support/hub-app.js';
import { RawHubSocket, RS } from '../support/raw-client.js';
import { waitFor } from '../support/wait.js';
import { FlowHub, FlowProbe } from '../flow/flow-hub.js';

const REPLAY_LIMIT = 100_000;
const CLIENT_TIMEOUT_MS = 1000;

describe.each(WIRE_PROTOCOLS)('stateful reconnect under a burst (%s)', (protocol) => {
  let server: RunningHubApp;
  let clients: ClientPool;
  let url: string;

  beforeAll(async () => {
    server = await startHubApp([FlowHub, FlowProbe], { statefulReconnectBufferSize: REPLAY_LIMIT });
    url = `${server.baseUrl}/hubs/flow`;
    clients = new ClientPool(protocol, true);
  });

  afterEach(() => clients.stopAll());
  afterAll(() => server.close());

  it('keeps every member of a room connected through a 1 MB burst, each receiving all of it in order', async () => {
    const members: HubConnection[] = [];
    for (let i = 0; i < 4; i++) members.push(await clients.connect(url));
    const received = members.map((member) => {
      const numbers: number[] = [];
      member.on('said', (n: number) => numbers.push(n));
      return numbers;
    });
    for (const member of members) await member.invoke('join', 'room');

    // 1 MB: ten times the replay limit; only the client's Acks, read while it is over, let it through.
    const sent: number = await members[0].invoke('flood', 'room', 256, 4096, 'nobody');
    await waitFor(() => received.every((numbers) => numbers.length === sent), 20_000);
    for (const numbers of received) expect(numbers).toEqual([...Array(sent).keys()]);
    for (const member of members) expect(member.state).toBe(HubConnectionState.Connected);
    expect(await members[3].invoke('echo', 'after')).toBe('after');
  }, 30_000);
});

/** A raw stateful client that pings but acknowledges only when told to. */
async function silentStatefulClient(hubUrl: string): Promise<{ raw: RawHubSocket; connectionToken: string; pinger: NodeJS.Timeout }> {
  const response = await fetch(`${hubUrl}/negotiate?negotiateVersion=1&useStatefulReconnect=true`, { method: 'POST' });
  const { connectionToken } = (await response.json()) as { connectionToken: string };
  const raw = await RawHubSocket.open(hubUrl, connectionToken);
  raw.send(`{"protocol":"json","version":2}${RS}`);
  await raw.nextFrame();
  const pinger = setInterval(() => raw.socket.readyState === raw.socket.OPEN && raw.send(`{"type":6}${RS}`), 100);
  return { raw, connectionToken, pinger };
}

const invocation = (id: string, target: string, args: unknown[]) => `{"type":1,"invocationId":"${id}","target":"${target}","arguments":${JSON.stringify(args)}}${RS}`;

describe('stateful reconnect: a client over its replay limit (raw socket)', () => {
  let server: RunningHubApp;
  let url: string;
  const pingers: NodeJS.Timeout[] = [];

  beforeAll(async () => {
    server = await startHubApp([FlowHub, FlowProbe], {
      statefulReconnectBufferSize: REPLAY_LIMIT,
      clientTimeoutIntervalMs: CLIENT_TIMEOUT_MS,
      keepAliveIntervalMs: 200,
      maximumQueuedInvocationsPerClient: 5,
    });
    url = `${server.baseUrl}/hubs/flow`;
  });

  afterEach(() => {
    for (const pinger of pingers.splice(0)) clearInterval(pinger);
  });

  afterAll(() => server.close());

  /** A silent client that made the server send it 150 KB, over its 100 KB replay limit. */
  async function overItsReplayLimit(room: string): Promise<{ raw: RawHubSocket; connectionToken: string }> {
    const { raw, connectionToken, pinger } = await silentStatefulClient(url);
    pingers.push(pinger);
    raw.send(invocation('join', 'join', [room]));
    raw.send(invocation('flood', 'flood', [room, 30, 5000, 'nobody']));
    return { raw, connectionToken };
  }

  it('holds its invocations until it acknowledges, and still reads its Acks', async () => {
    const { raw } = await overItsReplayLimit('quiet');
    await raw.until(() => raw.messages().some((message) => message.invocationId === 'flood'));
    const sequenced = raw.messages().filter((message) => message.type === 1 || message.type === 3).length;

    raw.send(invocation('held', 'echo', ['held']));
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(raw.messages().some((message) => message.invocationId === 'held')).toBe(false);

    raw.send(`{"type":8,"sequenceId":${sequenced}}${RS}`);
    await raw.until(() => raw.messages().some((message) => message.invocationId === 'held'));
    expect(raw.messages().find((message) => message.invocationId === 'held')).toMatchObject({ type: 3, result: 'held' });
    raw.socket.terminate();
  });

  it('is closed when it piles up invocations instead of acknowledging: not reading them would hold back its Acks', async () => {
    const { raw } = await overItsReplayLimit('piling');
    await raw.until(() => raw.messages().some((message) => message.invocationId === 'flood'));
    raw.send(Array.from({ length: 10 }, (_, i) => invocation(`held${i}`, 'echo', [i])).join(''));
    const { code } = await raw.closed;
    expect(code).toBe(1000);
    expect(raw.messages().at(-1)).toEqual({ type: 7, error: 'Connection closed with an error.', allowReconnect: true });
    expect(raw.messages().some((message) => String(message.invocationId).startsWith('held'))).toBe(false);
  });

  it('loses its socket when it acknowledges nothing for the client timeout, and resumes with the replay', async () => {
    const { raw, connectionToken } = await overItsReplayLimit('silent');
    const { code } = await raw.closed;
    expect(code).toBe(1001);
    const said = raw.messages().filter((message) => message.target === 'said').map((message) => (message.arguments as unknown[])[0]);
    expect(said).toEqual([...Array(30).keys()]);

    const resumed = await RawHubSocket.open(url, connectionToken);
    await resumed.until(() => resumed.messages().some((message) => message.invocationId === 'flood'));
    const replay = resumed.messages().filter((message) => message.type !== 6 && message.type !== 8);
    expect(replay[0]).toEqual({ type: 9, sequenceId: 1 });
    expect(replay.filter((message) => message.target === 'said').map((message) => (message.arguments as unknown[])[0])).toEqual([...Array(30).keys()]);
    resumed.socket.terminate();
  });
});
