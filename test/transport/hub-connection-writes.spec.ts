import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import type { WebSocket } from 'ws';
import type { HubLifetimeManager } from '../../src/clients/hub-lifetime-manager.js';
import { HubExceptionFilter } from '../../src/errors/hub-exception-filter.js';
import { HubDispatcher } from '../../src/hub/hub-dispatcher.js';
import { DEFAULT_HUB_OPTIONS } from '../../src/options/hub-options.js';
import { MessageType } from '../../src/protocol/hub-message.js';
import { JsonHubProtocol } from '../../src/protocol/json-hub-protocol.js';
import { HubConnection } from '../../src/transport/hub-connection.js';
import type { HubRuntime } from '../../src/transport/hub-runtime.js';

const RS = '\u001e';
const endOfTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Records what the connection does to its socket, in order: frames sent, close, terminate. */
class FakeSocket extends EventEmitter {
  readyState = 1;
  readonly log: string[] = [];
  send(data: string | Uint8Array): void {
    this.log.push(typeof data === 'string' ? data : Buffer.from(data).toString('utf8'));
  }
  close(code: number): void {
    this.log.push(`close ${code}`);
    this.readyState = 2;
  }
  terminate(): void {
    this.log.push('terminate');
    this.readyState = 3;
  }
  pause(): void {}
  resume(): void {}
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
    maximumFrameSize: options.maximumReceiveMessageSize + 16,
    callerClients: () => ({}) as ReturnType<HubRuntime['callerClients']>,
    onConnected: async () => {},
    onDisconnected: async () => {},
    groupsTokenLifetimeMs: 600_000,
    issueGroupsToken: () => undefined,
    forget: () => {},
  };
}

async function connected(version = 1): Promise<{ connection: HubConnection; socket: FakeSocket }> {
  const socket = new FakeSocket();
  const connection = new HubConnection(socket as unknown as WebSocket, 'c1', { user: undefined, userIdentifier: undefined, expiresAt: undefined }, runtime());
  socket.emit('message', Buffer.from(`{"protocol":"json","version":${version}}${RS}`));
  await endOfTurn();
  expect(socket.log).toEqual([`{}${RS}`]);
  socket.log.length = 0;
  return { connection, socket };
}

const completion = (invocationId: string) => ({ type: MessageType.Completion, invocationId, result: invocationId, hasResult: true }) as const;
const record = (invocationId: string) => `{"type":3,"invocationId":"${invocationId}","result":"${invocationId}"}${RS}`;

describe('HubConnection writes', () => {
  it('sends the messages of one turn as one frame', async () => {
    const { connection, socket } = await connected();
    connection.send(completion('1'));
    connection.send(completion('2'));
    expect(socket.log).toEqual([]);
    await endOfTurn();
    expect(socket.log).toEqual([record('1') + record('2')]);
    connection.abort();
  });

  it('sends what is queued, then the Close message, before closing the socket', async () => {
    const { connection, socket } = await connected();
    connection.send(completion('1'));
    connection.send(completion('2'));
    connection.close({ type: MessageType.Close, error: 'bye' });
    expect(socket.log).toEqual([`${record('1')}${record('2')}{"type":7,"error":"bye"}${RS}`, 'close 1000']);
    await endOfTurn();
    expect(socket.log).toHaveLength(2);
  });

  it('hands queued messages to the socket before aborting it', async () => {
    const { connection, socket } = await connected();
    connection.send(completion('1'));
    connection.abort();
    expect(socket.log).toEqual([record('1'), 'terminate']);
  });

  it('replays on a resumed socket only what the client has not acknowledged, numbered per message', async () => {
    const { connection, socket } = await connected(2);
    for (const id of ['1', '2', '3']) connection.send(completion(id));
    await endOfTurn();
    expect(socket.log).toEqual([record('1') + record('2') + record('3')]);
    socket.emit('message', Buffer.from(`{"type":8,"sequenceId":2}${RS}`));
    connection.send(completion('4'));
    // The socket drops with message 4 still queued for it: it must reach the new socket once, in order.
    socket.readyState = 3;
    socket.emit('close', 1006);
    const next = new FakeSocket();
    connection.resume(next as unknown as WebSocket, undefined);
    await endOfTurn();
    expect(socket.log).toHaveLength(1);
    expect(next.log).toEqual([`{"type":9,"sequenceId":3}${RS}${record('3')}${record('4')}`]);
    connection.abort();
  });
});
