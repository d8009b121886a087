import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RawEventStream, RawFallbackConnection, RawPollingClient, parseMessages } from '../support/http-transport-client.js';
import { HTTP_PLATFORMS, startHubApp, type RunningHubApp } from '../support/hub-app.js';
import { negotiate, RawHubSocket, RS, upgradeStatus } from '../support/raw-client.js';
import { EchoHub, EventsHub, PollingHub, QuietHub } from './transport-hubs.js';

// The wire of Server-Sent Events and long polling, answer by answer, as ASP.NET Core's
// HttpConnectionDispatcher and its transports give them (shared/docs/fallback-transports.md).

const NO_CACHE = { 'cache-control': 'no-cache, no-store', pragma: 'no-cache', expires: 'Thu, 01 Jan 1970 00:00:00 GMT' };

function headersOf(answer: { headers: Headers }, names: readonly string[]): Record<string, string | null> {
  return Object.fromEntries(names.map((name) => [name, answer.headers.get(name)]));
}

describe.each(HTTP_PLATFORMS)('Server-Sent Events and long polling on the wire, on %s', (platform) => {
  let server: RunningHubApp;
  const hub = (path: string) => `${server.baseUrl}${path}`;

  beforeAll(async () => (server = await startHubApp([EchoHub, PollingHub, EventsHub, QuietHub], {}, { platform })));
  afterAll(() => server.close());

  it("lists a hub's transports in ASP.NET Core's order, and refuses the others with 404 and its text", async () => {
    const listed = async (path: string) =>
      ((await (await fetch(`${hub(path)}/negotiate?negotiateVersion=1`, { method: 'POST' })).json()) as { availableTransports: unknown[] })
        .availableTransports;
    expect(await listed('/hubs/polling')).toEqual([
      { transport: 'WebSockets', transferFormats: ['Text', 'Binary'] },
      { transport: 'LongPolling', transferFormats: ['Text', 'Binary'] },
    ]);
    expect(await listed('/hubs/events')).toEqual([{ transport: 'ServerSentEvents', transferFormats: ['Text'] }]);

    const events = await RawEventStream.open(`${hub('/hubs/polling')}?id=${(await negotiate(hub('/hubs/polling'))).connectionToken}`);
    expect(events.status).toBe(404);
    await events.closed;
    expect(events.text).toBe('ServerSentEvents transport not supported by this end point type');
    const poll = await (await RawPollingClient.negotiated(hub('/hubs/events'))).poll();
    expect([poll.status, poll.body]).toEqual([404, 'LongPolling transport not supported by this end point type']);
    const token = (await negotiate(hub('/hubs/events'))).connectionToken;
    expect(await upgradeStatus(`${hub('/hubs/events')}?id=${token}`)).toEqual({ status: 404, body: 'WebSockets transport not supported by this end point type' });
  });

  it('long polling: the first poll at once, empty; the handshake, invocations and their answers in POSTs and polls', async () => {
    const client = await RawPollingClient.negotiated(hub('/hubs/echo'));
    const first = await client.poll();
    expect([first.status, first.body]).toEqual([200, '']);
    expect(headersOf(first, ['content-type', 'content-length', ...Object.keys(NO_CACHE)])).toEqual({
      'content-type': 'application/octet-stream',
      'content-length': '0',
      ...NO_CACHE,
    });
    const sent = await client.send(`{"protocol":"json","version":1}${RS}`);
    expect([sent.status, sent.body, sent.headers.get('content-type')]).toEqual([200, '', 'text/plain; charset=utf-8']);
    const handshake = await client.poll();
    expect([handshake.status, handshake.body, handshake.headers.get('content-type')]).toEqual([200, `{}${RS}`, 'application/octet-stream']);
    expect(await client.invoke('1', 'Echo', 'hello')).toEqual([{ type: 3, invocationId: '1', result: 'hello' }]);
  });

  it('long polling: a poll that finds nothing is answered empty at the poll timeout, and the client polls again', async () => {
    const client = await RawPollingClient.negotiated(hub('/hubs/polling'));
    await client.connect();
    const empty = await client.poll();
    expect([empty.status, empty.body, empty.headers.get('content-length'), empty.headers.get('content-type')]).toEqual([
      200,
      '',
      '0',
      'text/plain',
    ]);
    expect(await client.invoke('2', 'Echo', 'still here')).toEqual([{ type: 3, invocationId: '2', result: 'still here' }]);
  });

  it('long polling: a new poll answers the open one with 204 and takes its place', async () => {
    const client = await RawPollingClient.negotiated(hub('/hubs/echo'));
    await client.connect();
    const replaced = client.poll();
    // The server holds the first poll once it answered a request sent after it on the same connection.
    await client.send('');
    const replacing = client.poll();
    const answer = await replaced;
    expect([answer.status, answer.body, answer.headers.get('content-type')]).toEqual([204, '', 'text/plain']);
    await client.send(`${JSON.stringify({ type: 1, invocationId: '3', target: 'Echo', arguments: ['after'] })}${RS}`);
    expect(parseMessages((await replacing).body)).toEqual([{ type: 3, invocationId: '3', result: 'after' }]);
  });

  it('long polling: DELETE answers 202 and ends the connection, its open poll with 204; the token is spent', async () => {
    const client = await RawPollingClient.negotiated(hub('/hubs/echo'));
    await client.connect();
    const open = client.poll();
    await client.send('');
    const removed = await client.remove();
    expect([removed.status, removed.body, removed.headers.get('content-type')]).toEqual([202, '', 'text/plain; charset=utf-8']);
    expect((await open).status).toBe(204);
    for (const after of [await client.poll(), await client.send('x'), await client.remove()]) {
      expect([after.status, after.body]).toEqual([404, 'No Connection with that ID']);
    }
  });

  it('Server-Sent Events: the stream, its first comment line and one event per frame; a second stream 409', async () => {
    const { connectionToken } = await negotiate(hub('/hubs/echo'));
    const url = `${hub('/hubs/echo')}?id=${encodeURIComponent(connectionToken)}`;
    const stream = await RawEventStream.open(url);
    expect(stream.status).toBe(200);
    expect(stream.headers).toMatchObject({
      'content-type': 'text/event-stream',
      'cache-control': 'no-cache,no-store',
      pragma: 'no-cache',
      'content-encoding': 'identity',
    });
    await stream.until(() => stream.text === ':\r\n');
    const client = new RawPollingClient(hub('/hubs/echo'), connectionToken);
    await client.send(`{"protocol":"json","version":1}${RS}`);
    await client.send(`${JSON.stringify({ type: 1, invocationId: '4', target: 'Echo', arguments: ['streamed'] })}${RS}`);
    await stream.until(() => stream.events().length === 2);
    expect(stream.text).toBe(`:\r\ndata: {}${RS}\r\n\r\ndata: {"type":3,"invocationId":"4","result":"streamed"}${RS}\r\n\r\n`);

    const second = await RawEventStream.open(url);
    await second.closed;
    expect([second.status, second.text]).toEqual([409, '']);
    expect([(await client.poll()).status, (await client.poll()).body]).toEqual([400, 'Cannot change transports mid-connection']);
    const removed = await client.remove();
    expect([removed.status, removed.body]).toEqual([400, 'Cannot terminate this connection using the DELETE endpoint.']);
    expect(await upgradeStatus(url)).toEqual({ status: 400, body: 'Cannot change transports mid-connection' });
    stream.close();
  });

  it('Server-Sent Events carry text only: a MessagePack handshake is refused with ASP.NET Core words', async () => {
    const { connectionToken } = await negotiate(hub('/hubs/echo'));
    const stream = await RawEventStream.open(`${hub('/hubs/echo')}?id=${encodeURIComponent(connectionToken)}`);
    await new RawPollingClient(hub('/hubs/echo'), connectionToken).send(`{"protocol":"messagepack","version":1}${RS}`);
    await stream.closed;
    expect(stream.events()).toEqual([
      `{"error":"Cannot use the 'messagepack' protocol on the current transport. The transport does not support 'Binary' transfer format."}${RS}`,
    ]);
  });

  it('answers a WebSocket connection\'s POST with 405, a DELETE with 400, and an upgrade on a polling connection with 400', async () => {
    const { connectionToken } = await negotiate(hub('/hubs/echo'));
    const socket = await RawHubSocket.open(hub('/hubs/echo'), connectionToken);
    const client = new RawPollingClient(hub('/hubs/echo'), connectionToken);
    expect([(await client.send('x')).status, (await client.send('x')).body]).toEqual([405, 'POST requests are not allowed for WebSocket connections.']);
    expect((await client.remove()).body).toBe('Cannot terminate this connection using the DELETE endpoint.');
    expect((await client.poll()).body).toBe('Cannot change transports mid-connection');
    socket.socket.close();

    const polling = await RawPollingClient.negotiated(hub('/hubs/echo'));
    await polling.connect();
    expect(await upgradeStatus(polling.url)).toEqual({ status: 400, body: 'Cannot change transports mid-connection' });
  });

  it('refuses a request without a token (400), with an unknown one (404), and other methods (405)', async () => {
    for (const method of ['GET', 'POST', 'DELETE']) {
      const answer = await fetch(hub('/hubs/echo'), { method });
      expect([answer.status, await answer.text()]).toEqual([400, 'Connection ID required']);
    }
    const unknown = await new RawPollingClient(hub('/hubs/echo'), 'not-a-token').poll();
    expect([unknown.status, unknown.body]).toEqual([404, 'No Connection with that ID']);
    expect(headersOf(unknown, Object.keys(NO_CACHE))).toEqual(NO_CACHE);
    const put = await fetch(hub('/hubs/echo'), { method: 'PUT' });
    expect([put.status, put.headers.get('allow'), await put.text()]).toEqual([405, 'GET, POST, DELETE', '']);
  });

  it('long polling keeps itself alive: no pings, and a client that sends nothing but polls is not timed out', async () => {
    const polling = await RawFallbackConnection.open(hub('/hubs/quiet'), 'LongPolling');
    // A WebSocket client on the same hub, as silent: pinged, then closed by the client timeout.
    const socket = await RawHubSocket.connected(hub('/hubs/quiet'));
    await socket.closed;
    expect(socket.messages().some((message) => message.type === 6)).toBe(true);
    expect(await polling.invoke('5', 'Echo', 'alive')).toMatchObject({ result: 'alive' });
    expect(polling.messages.filter((message) => message.type === 6)).toEqual([]);
    await polling.stop();
  });
});
