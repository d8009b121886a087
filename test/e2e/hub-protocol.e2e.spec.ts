import { HubConnectionState, Subject, type HubConnection } from '@microsoft/signalr';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClientPool, collect, TRANSPORTS_AND_PROTOCOLS } from '../support/client.js';
import { startHubApp, type RunningHubApp } from '../support/hub-app.js';
import { HubEvents, TestHub } from './test-hubs.js';
import { waitFor } from '../support/wait.js';

describe.each(TRANSPORTS_AND_PROTOCOLS)('hub protocol with the official @microsoft/signalr client over %s (%s)', (transport, protocol) => {
  let server: RunningHubApp;
  let hubUrl: string;
  const clients = new ClientPool(protocol, false, transport);
  const connect = (options = {}) => clients.connect(hubUrl, options);

  beforeAll(async () => {
    server = await startHubApp([TestHub, HubEvents]);
    hubUrl = `${server.baseUrl}/hubs/test`;
  });

  afterAll(async () => {
    await clients.stopAll();
    await server.close();
  });

  it('negotiates, connects and invokes with results', async () => {
    const client = await connect();
    expect(client.state).toBe(HubConnectionState.Connected);
    expect(client.connectionId).toMatch(/^[A-Za-z0-9_-]{22}$/);
    await expect(client.invoke('Add', 2, 3)).resolves.toBe(5);
    await expect(client.invoke('Echo', { nested: [1, 'two', null] })).resolves.toEqual({ nested: [1, 'two', null] });
  });

  it('looks methods up case-insensitively and honours @HubMethod names', async () => {
    const client = await connect();
    await expect(client.invoke('aDd', 1, 1)).resolves.toBe(2);
    await expect(client.invoke('renamed')).resolves.toBe('renamed');
    await expect(client.invoke('InternalName')).rejects.toThrow(
      "Failed to invoke 'InternalName' due to an error on the server. HubException: Method does not exist.",
    );
  });

  it('completes void methods with null', async () => {
    const client = await connect();
    await expect(client.invoke('Nothing')).resolves.toBeNull();
  });

  it('runs send() invocations without answering them', async () => {
    const client = await connect();
    const events = server.app.get(HubEvents);
    await client.send('Record', 'fire-and-forget');
    await client.invoke('Nothing');
    expect(events.fireAndForget).toContain('fire-and-forget');
  });

  it('gives the exact error texts of ASP.NET Core', async () => {
    const client = await connect();
    await expect(client.invoke('Missing')).rejects.toThrow(
      "Failed to invoke 'Missing' due to an error on the server. HubException: Method does not exist.",
    );
    await expect(client.invoke('Add', 1)).rejects.toThrow("Failed to invoke 'Add' due to an error on the server.");
    await expect(client.invoke('Add', 1, 2, 3)).rejects.toThrow("Failed to invoke 'Add' due to an error on the server.");
    await expect(client.invoke('Counter', 1, 1)).rejects.toThrow(
      "The client attempted to invoke the streaming 'Counter' method with a non-streaming invocation.",
    );
    const stream = client.stream('Add', 1, 2);
    await expect(
      new Promise((resolve, reject) => stream.subscribe({ next: () => undefined, complete: () => resolve(null), error: reject })),
    ).rejects.toThrow("The client attempted to invoke the non-streaming 'Add' method with a streaming invocation.");
    expect(client.state).toBe(HubConnectionState.Connected);
  });

  it('never sends internals of an unexpected error, but passes HubException messages', async () => {
    const client = await connect();
    const failure = await client.invoke('Fail').catch((error: Error) => error);
    expect((failure as Error).message).toBe("An unexpected error occurred invoking 'Fail' on the server.");
    await expect(client.invoke('Refuse')).rejects.toThrow(
      "An unexpected error occurred invoking 'Refuse' on the server. HubException: You cannot do that.",
    );
    expect(client.state).toBe(HubConnectionState.Connected);
  });

  it('does not expose lifecycle hooks, _-prefixed or excluded methods', async () => {
    const client = await connect();
    for (const name of ['OnConnected', 'onDisconnected', '_hidden', 'Excluded', 'constructor']) {
      await expect(client.invoke(name)).rejects.toThrow('Method does not exist.');
    }
  });

  it('gives hub methods the caller context and per-connection items', async () => {
    const first = await connect();
    const second = await connect();
    await expect(first.invoke('WhoAmI')).resolves.toBe(first.connectionId);
    await first.invoke('Remember', 'mine');
    await expect(first.invoke('Recall')).resolves.toBe('mine');
    await expect(second.invoke('Recall')).resolves.toBeNull();
  });

  it('streams from server to client (async generator and Observable), in order', async () => {
    const client = await connect();
    await expect(collect(client.stream('Counter', 5, 1))).resolves.toEqual([0, 1, 2, 3, 4]);
    await expect(collect(client.stream('Ticks', 3))).resolves.toEqual([0, 10, 20]);
  });

  it('sends a sanitized error when a server stream fails', async () => {
    const client = await connect();
    const error = await collect(client.stream('FailingStream')).catch((e: Error) => e);
    expect((error as Error).message).toBe("An unexpected error occurred invoking 'FailingStream' on the server.");
  });

  it('stops a server stream when the client cancels it', async () => {
    const client = await connect();
    const events = server.app.get(HubEvents);
    const before = events.canceledStreams;
    const received: number[] = [];
    await new Promise<void>((resolve) => {
      const subscription = client.stream<number>('Endless').subscribe({
        next: (value) => {
          received.push(value);
          if (received.length === 3) {
            subscription.dispose();
            resolve();
          }
        },
        complete: () => undefined,
        error: () => undefined,
      });
    });
    await waitFor(() => events.canceledStreams === before + 1, 5000);
    expect(received).toEqual([0, 1, 2]);
  });

  it('stops a server stream canceled in the same turn as its invocation', async () => {
    const client = await connect();
    const events = server.app.get(HubEvents);
    const before = events.canceledStreams;
    const received: number[] = [];
    client.stream<number>('WatchedTicks').subscribe({ next: (value) => received.push(value), complete: () => undefined, error: () => undefined }).dispose();
    await waitFor(() => events.canceledStreams === before + 1, 5000);
    await expect(client.invoke('Add', 1, 1)).resolves.toBe(2);
    expect(received).toEqual([]);
  });

  it("fails an upload stream the client ended with an error as a HubException with the client's text", async () => {
    const client = await connect();
    const subject = new Subject<number>();
    const result = client.invoke('Sum', subject);
    subject.next(1);
    subject.error(new Error('no more numbers'));
    await expect(result).rejects.toMatchObject({
      message: "An unexpected error occurred invoking 'Sum' on the server. HubException: no more numbers",
    });
  });

  it('streams from client to server', async () => {
    const client = await connect();
    const subject = new Subject<number>();
    const result = client.invoke('Sum', subject);
    for (const n of [1, 2, 3, 4]) subject.next(n);
    subject.complete();
    await expect(result).resolves.toBe(10);
  });

  it('streams both ways in one invocation', async () => {
    const client = await connect();
    const subject = new Subject<number>();
    const doubled = collect(client.stream('DoubleEach', subject));
    for (const n of [1, 2, 3]) subject.next(n);
    subject.complete();
    await expect(doubled).resolves.toEqual([2, 4, 6]);
  });

  it('asks a client for a result (client results)', async () => {
    const client = await connect();
    client.on('Answer', (question: string) => `answer to ${question}`);
    await expect(client.invoke('AskCaller', 'life')).resolves.toBe('answer to life');
  });

  it("gives the hub a client result's error as the client's text, the code as a property", async () => {
    const client = await connect();
    client.on('Answer', () => {
      throw new Error('no idea');
    });
    await expect(client.invoke('AskCallerForItsError', 'life')).resolves.toEqual({
      name: 'SignalRError',
      message: 'Error: no idea',
      code: 'SIGNALR_CLIENT_RESULT_FAILED',
    });
    client.off('Answer');
    await expect(client.invoke('AskCallerForItsError', 'life')).resolves.toMatchObject({ message: "Client didn't provide a result." });
  });

  it('writes bytes and dates as ASP.NET Core does', async () => {
    const client = await connect();
    await expect(client.invoke('BytesAndDates')).resolves.toEqual(
      protocol === 'json'
        ? { buffer: 'AQID', bytes: 'BA==', midnight: '2000-01-01T00:00:00Z', precise: '2000-01-01T00:00:00.5Z' }
        : {
            buffer: new Uint8Array([1, 2, 3]),
            bytes: new Uint8Array([4]),
            midnight: new Date(Date.UTC(2000, 0, 1)),
            precise: new Date(Date.UTC(2000, 0, 1, 0, 0, 0, 500)),
          },
    );
  });

  it('routes to all, caller, others, connections, all-except, groups and group-except', async () => {
    const [a, b, c] = [await connect(), await connect(), await connect()];
    const ids = [a, b, c].map((connection) => connection.connectionId!);
    const inbox = new Map<HubConnection, string[]>([[a, []], [b, []], [c, []]]);
    for (const [connection, messages] of inbox) {
      connection.on('Broadcast', (text: string) => messages.push(text));
      connection.on('GroupMessage', (group: string, text: string) => messages.push(`${group}:${text}`));
    }
    await a.invoke('Broadcast', 'all');
    await a.invoke('TellOthers', 'others');
    await a.invoke('TellCaller', 'caller');
    await a.invoke('TellConnections', [ids[1], ids[2]], 'connections');
    await a.invoke('TellAllExcept', [ids[0], ids[1]], 'all-except');
    await a.invoke('JoinGroup', 'g1');
    await b.invoke('JoinGroup', 'g1');
    await c.invoke('JoinGroup', 'g2');
    await a.invoke('SendToGroup', 'g1', 'hello');
    await a.invoke('SendToOthersInGroup', 'g1', 'others-in-group');
    await a.invoke('TellGroups', ['g1', 'g2'], 'groups');
    await a.invoke('TellGroupExcept', 'g1', [ids[1]], 'group-except');
    await b.invoke('LeaveGroup', 'g1');
    await a.invoke('SendToGroup', 'g1', 'after-leave');
    // A final round trip on every connection: its messages are in order, so all have arrived.
    await Promise.all([a, b, c].map((connection) => connection.invoke('Nothing')));
    expect(inbox.get(a)).toEqual(['all', 'caller', 'g1:hello', 'groups', 'group-except', 'g1:after-leave']);
    expect(inbox.get(b)).toEqual(['all', 'others', 'connections', 'g1:hello', 'g1:others-in-group', 'groups']);
    expect(inbox.get(c)).toEqual(['all', 'others', 'connections', 'all-except', 'groups']);
  });

  it('calls onConnected and onDisconnected', async () => {
    const events = server.app.get(HubEvents);
    const client = await connect();
    const id = client.connectionId!;
    expect(events.connected).toContain(id);
    await client.stop();
    await waitFor(() => events.disconnected.includes(id), 5000);
  });

  // skipNegotiation exists for WebSockets only: the test is defined for that transport alone.
  if (transport === 'WebSockets') it('connects with skipNegotiation', async () => {
    const client = await connect({ skipNegotiation: true });
    await expect(client.invoke('Add', 20, 22)).resolves.toBe(42);
  });
});
