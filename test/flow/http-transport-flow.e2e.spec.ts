import { request as httpRequest } from 'node:http';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MAX_BATCH_BYTES } from '../../src/connection/outgoing-batch.js';
import { ClientPool } from '../support/client.js';
import { parseMessages, RawEventStream, RawPollingClient } from '../support/http-transport-client.js';
import { startHubApp, type RunningHubApp } from '../support/hub-app.js';
import { RS } from '../support/raw-client.js';
import { waitFor } from '../support/wait.js';
import { BriefFlowHub, FlowHub, FlowProbe } from './flow-hub.js';

// The outbound limit, the disconnect timeout, the send timeout and the receive limit over the
// transports whose client is not a socket: long polling, where messages wait between polls, and
// Server-Sent Events, where a stalled reader leaves them in the stream.

const LIMIT = 256 * 1024;
const MESSAGE_BYTES = 16 * 1024;
const SLOW_CONSUMER = 'Connection closed because the client did not read the messages sent to it fast enough.';

describe('flow control over long polling and Server-Sent Events', () => {
  let server: RunningHubApp;
  let probe: FlowProbe;
  const senders = new ClientPool();
  const hub = (path: string) => `${server.baseUrl}${path}`;

  beforeAll(async () => {
    server = await startHubApp([FlowHub, BriefFlowHub, FlowProbe], { maximumBufferedBytesPerClient: LIMIT });
    probe = server.app.get(FlowProbe);
  });

  afterEach(async () => {
    await senders.stopAll();
    probe.reset();
  });

  afterAll(() => server.close());

  /** A long-polling client joined to `room`, with no poll open. */
  async function idlePoller(path: string, room: string): Promise<RawPollingClient> {
    const client = await RawPollingClient.negotiated(hub(path));
    await client.connect();
    await client.invoke('join', 'Join', room);
    return client;
  }

  it('holds what a long-polling client has not polled up to the limit, hands it all to the next poll, and past the limit closes it as a slow consumer', async () => {
    const slow = await idlePoller('/hubs/flow', 'room');
    const sender = await senders.connect(hub('/hubs/flow'));
    await sender.invoke('join', 'room');

    // Below the limit, everything waits for the next poll, which takes it all at once.
    expect(await sender.invoke('flood', 'room', 4, MESSAGE_BYTES, slow.connectionId)).toBe(4);
    const held = parseMessages((await slow.poll()).body);
    expect(held.map((message) => (message.arguments as unknown[])[0])).toEqual([0, 1, 2, 3]);

    const sent: number = await sender.invoke('flood', 'room', 6000, MESSAGE_BYTES, slow.connectionId);
    expect(sent).toBeLessThan(6000);
    expect(probe.disconnected.has(slow.connectionId!)).toBe(true);
    expect(probe.maxUnwritten).toBeLessThanOrEqual(LIMIT + MAX_BATCH_BYTES + 2 * MESSAGE_BYTES);
    // Its next poll brings what was held, and why it was closed, at the end.
    const last = parseMessages((await slow.poll()).body);
    expect(last.at(-1)).toEqual({ type: 7, error: SLOW_CONSUMER, allowReconnect: true });
    expect(last.length).toBeGreaterThan(1);
    expect((await slow.poll()).status).toBe(204);
  }, 30_000);

  it('closes a long-polling connection whose client has no poll open for the disconnect timeout', async () => {
    const gone = await idlePoller('/hubs/flow-brief', 'room');
    await waitFor(() => probe.disconnected.has(gone.connectionId!), 5000);
    const after = await gone.poll();
    expect([after.status, after.body]).toEqual([404, 'No Connection with that ID']);
  });

  it('closes an event stream whose reader stalls past the send timeout, with less sent than the outbound limit', async () => {
    const { connectionId, token } = await RawPollingClient.negotiated(hub('/hubs/flow-brief'));
    const requests = new RawPollingClient(hub('/hubs/flow-brief'), token);
    const stream = await RawEventStream.open(requests.url);
    await requests.send(`{"protocol":"json","version":1}${RS}`);
    await stream.until(() => stream.events().length === 1);
    await requests.send(`${JSON.stringify({ type: 1, invocationId: 'j', target: 'Join', arguments: ['stalled'] })}${RS}`);
    await stream.until(() => stream.events().length === 2);
    // It stops reading: the kernel's buffers fill, and then nothing more the server writes is taken.
    stream.response.pause();
    // A sender on the same hub (groups are a hub's own), sending 24 MiB in all: far below the hub's 64 MiB limit.
    const sender = await senders.connect(hub('/hubs/flow-brief'));
    await sender.invoke('flood', 'stalled', 3000, 8 * 1024, connectionId);
    await waitFor(() => probe.disconnected.has(connectionId!), 10_000);
    stream.close();
  }, 30_000);

  it('refuses a POST body over maximumReceiveFrameSize with 413, unread, and ends the connection, as a WebSocket frame over it does', async () => {
    for (const chunked of [false, true]) {
      const client = await RawPollingClient.negotiated(hub('/hubs/flow-brief'));
      await client.connect();
      const body = 'x'.repeat(64 * 1024 + 1);
      const status = chunked ? await postChunked(client.url, body) : (await client.send(body)).status;
      expect(status).toBe(413);
      await waitFor(() => probe.disconnected.has(client.connectionId!), 5000);
      expect((await client.poll()).body).toBe('No Connection with that ID');
    }
  });
});

/** POSTs `body` in chunks of 16 KiB with no length declared; gives the answer's status. */
function postChunked(url: string, body: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(url, { method: 'POST', headers: { 'Transfer-Encoding': 'chunked' } });
    request.on('response', (response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    });
    // The server may answer and close before the whole body is written.
    request.on('error', (error: NodeJS.ErrnoException) => (error.code === 'EPIPE' || error.code === 'ECONNRESET' ? undefined : reject(error)));
    for (let at = 0; at < body.length; at += 16 * 1024) request.write(body.slice(at, at + 16 * 1024));
    request.end();
  });
}
