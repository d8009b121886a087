import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MessageType } from '../../src/protocol/hub-message.js';
import { HubConnection } from '../../src/connection/hub-connection.js';
import { ANONYMOUS_REQUEST } from '../support/anonymous-request.js';
import { bareRuntime, type FrameLog, Loopback } from '../support/loopback.js';

const RS = '\u001e';

let loopback: Loopback;
beforeAll(async () => (loopback = await Loopback.start()));
afterAll(() => loopback.close());

async function connected(version = 1): Promise<{ connection: HubConnection; client: FrameLog }> {
  const { client, serverSide } = await loopback.connect();
  const connection = new HubConnection(serverSide, 'c1', { user: undefined, userIdentifier: undefined, expiresAt: undefined, request: ANONYMOUS_REQUEST }, bareRuntime());
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
