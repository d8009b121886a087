import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import type { HubLifetimeManager } from '../../src/lifetime/hub-lifetime-manager.js';
import { HubExceptionFilter } from '../../src/errors/hub-exception-filter.js';
import { HubDispatcher } from '../../src/hub/hub-dispatcher.js';
import { DEFAULT_HUB_OPTIONS } from '../../src/options/hub-options.js';
import { MessageType } from '../../src/protocol/hub-message.js';
import { JsonHubProtocol } from '../../src/protocol/json-hub-protocol.js';
import { HubConnection } from '../../src/connection/hub-connection.js';
import type { HubRuntime } from '../../src/connection/hub-runtime.js';
import { ANONYMOUS_REQUEST } from '../support/anonymous-request.js';

const RS = '\u001e';

/** A raw client on a real loopback socket: every WebSocket frame it receives, and how the socket ended. */
class FrameLog {
  readonly frames: string[] = [];
  readonly closed: Promise<number>;

  constructor(readonly socket: WebSocket) {
    socket.on('message', (data: Buffer) => this.frames.push(data.toString('utf8')));
    this.closed = new Promise((resolve) => socket.on('close', (code: number) => resolve(code)));
  }

  async framesAfterQuiet(count: number): Promise<string[]> {
    while (this.frames.length < count) await new Promise((resolve) => setTimeout(resolve, 5));
    await new Promise((resolve) => setTimeout(resolve, 50)); // nothing more may follow
    return this.frames.splice(0);
  }
}

/** A real ws server on 127.0.0.1 whose accepted sockets are handed out in order. */
class Loopback {
  private readonly accepted: WebSocket[] = [];
  private waiting: ((socket: WebSocket) => void) | undefined;

  private constructor(private readonly server: WebSocketServer) {
    server.on('connection', (socket: WebSocket) => {
      if (this.waiting) this.waiting(socket);
      else this.accepted.push(socket);
      this.waiting = undefined;
    });
  }

  static async start(): Promise<Loopback> {
    const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await once(server, 'listening');
    return new Loopback(server);
  }

  /** Opens a client and resolves with it and the server's side of the same socket. */
  async connect(): Promise<{ client: FrameLog; serverSide: WebSocket }> {
    const { port } = this.server.address() as AddressInfo;
    const client = new FrameLog(new WebSocket(`ws://127.0.0.1:${port}`));
    const serverSide = this.accepted.shift() ?? (await new Promise<WebSocket>((resolve) => (this.waiting = resolve)));
    await once(client.socket, 'open').catch(() => undefined);
    return { client, serverSide };
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

function runtime(): HubRuntime {
  const options = { ...DEFAULT_HUB_OPTIONS };
  const json = new JsonHubProtocol();
  return {
    path: '/hubs/fake',
    options,
    protocols: new Map([[json.name, json]]),
    dispatcher: new HubDispatcher(new Map(), options, new HubExceptionFilter(false)),
    lifetimeManager: { onConnected: async () => {}, onDisconnected: async () => {} } as unknown as HubLifetimeManager,
    groups: {} as HubRuntime['groups'],
    allowStatefulReconnect: true,
    callerClients: () => ({}) as ReturnType<HubRuntime['callerClients']>,
    onConnected: async () => {},
    onDisconnected: async () => {},
    groupsTokenLifetimeMs: 600_000,
    issueGroupsToken: () => undefined,
    forget: () => {},
  };
}

let loopback: Loopback;
beforeAll(async () => (loopback = await Loopback.start()));
afterAll(() => loopback.close());

async function connected(version = 1): Promise<{ connection: HubConnection; client: FrameLog }> {
  const { client, serverSide } = await loopback.connect();
  const connection = new HubConnection(serverSide, 'c1', { user: undefined, userIdentifier: undefined, expiresAt: undefined, request: ANONYMOUS_REQUEST }, runtime());
  client.socket.send(`{"protocol":"json","version":${version}}${RS}`);
  expect(await client.framesAfterQuiet(1)).toEqual([`{}${RS}`]);
  return { connection, client };
}

const completion = (invocationId: string) => ({ type: MessageType.Completion, invocationId, result: invocationId, hasResult: true }) as const;
const record = (invocationId: string) => `{"type":3,"invocationId":"${invocationId}","result":"${invocationId}"}${RS}`;

describe('HubConnection writes, on a real loopback socket', () => {
  it('sends the messages of one turn as one frame', async () => {
    const { connection, client } = await connected();
    connection.send(completion('1'));
    connection.send(completion('2'));
    expect(await client.framesAfterQuiet(1)).toEqual([record('1') + record('2')]);
    connection.abort();
  });

  it('sends what is queued, then the Close message, before closing the socket', async () => {
    const { connection, client } = await connected();
    connection.send(completion('1'));
    connection.send(completion('2'));
    connection.close({ type: MessageType.Close, error: 'bye' });
    expect(await client.closed).toBe(1000);
    expect(client.frames).toEqual([`${record('1')}${record('2')}{"type":7,"error":"bye"}${RS}`]);
  });

  it('hands queued messages to the socket before aborting it', async () => {
    const { connection, client } = await connected();
    connection.send(completion('1'));
    connection.abort();
    expect(await client.closed).toBe(1006);
    expect(client.frames).toEqual([record('1')]);
  });

  it('replays on a resumed socket only what the client has not acknowledged, numbered per message', async () => {
    const { connection, client } = await connected(2);
    for (const id of ['1', '2', '3']) connection.send(completion(id));
    expect(await client.framesAfterQuiet(1)).toEqual([record('1') + record('2') + record('3')]);
    client.socket.send(`{"type":8,"sequenceId":2}${RS}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
    // The socket drops with message 4 queued for it: it must reach the new socket once, in order.
    connection.send(completion('4'));
    client.socket.terminate();
    const next = await loopback.connect();
    connection.resume(next.serverSide, { user: undefined, userIdentifier: undefined, expiresAt: undefined, request: ANONYMOUS_REQUEST });
    expect(await next.client.framesAfterQuiet(1)).toEqual([`{"type":9,"sequenceId":3}${RS}${record('3')}${record('4')}`]);
    connection.abort();
  });
});
