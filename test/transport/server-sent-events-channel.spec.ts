import { once } from 'node:events';
import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { serverSentEvent, ServerSentEventsChannel } from '../../src/transport/server-sent-events-channel.js';

describe('serverSentEvent', () => {
  it("writes a frame as ASP.NET Core's formatter does: one data line per line, a blank line after", () => {
    expect(serverSentEvent('{"type":6}\u001e')).toBe('data: {"type":6}\u001e\r\n\r\n');
    expect(serverSentEvent('a\r\nb\nc')).toBe('data: a\r\ndata: b\r\ndata: c\r\n\r\n');
    // A trailing line feed leaves an empty last line; a lone carriage return stays, as theirs keeps it.
    expect(serverSentEvent('a\n')).toBe('data: a\r\ndata: \r\n\r\n');
    expect(serverSentEvent('\r\nb')).toBe('data: \r\r\ndata: b\r\n\r\n');
    expect(serverSentEvent('')).toBe('\r\n');
  });
});

/** A real event stream on 127.0.0.1: the server's response and what the client reads of it. */
async function stream(): Promise<{ response: ServerResponse; client: IncomingMessage; close(): void }> {
  const server = createServer();
  const taken = new Promise<ServerResponse>((resolve) => server.once('request', (_request, response) => resolve(response)));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  const clientRequest = request(`http://127.0.0.1:${port}/`);
  clientRequest.end();
  const response = await taken;
  response.writeHead(200, { 'Content-Type': 'text/event-stream' }).flushHeaders();
  const [client] = (await once(clientRequest, 'response')) as [IncomingMessage];
  client.setEncoding('utf8');
  return {
    response,
    client,
    close: () => {
      server.closeAllConnections();
      server.close();
    },
  };
}

describe('ServerSentEventsChannel', () => {
  it("starts with ASP.NET Core's comment line, sends each frame as an event, and ends the stream on close", async () => {
    const { response, client, close } = await stream();
    let text = '';
    client.on('data', (chunk: string) => (text += chunk));
    const ended = once(client, 'end');
    const channel = new ServerSentEventsChannel(response, 'c1', 60_000);
    const closed = once(channel, 'close');
    const written = new Promise<Error | undefined>((resolve) => channel.send('{}\u001e', { binary: false }, resolve));
    expect(await written).toBeUndefined();
    channel.close();
    await ended;
    expect(text).toBe(':\r\ndata: {}\u001e\r\n\r\n');
    expect(await closed).toEqual([1000]);
    close();
  });

  it('reports a client that left as a close without a goodbye', async () => {
    const { response, client, close } = await stream();
    const channel = new ServerSentEventsChannel(response, 'c2', 60_000);
    const closed = once(channel, 'close');
    client.destroy();
    expect(await closed).toEqual([1006]);
    close();
  });

  it('ends at once when its client left before the stream was opened', async () => {
    const { response, client, close } = await stream();
    client.destroy();
    await once(response, 'close');
    const channel = new ServerSentEventsChannel(response, 'c3', 60_000);
    expect(await once(channel, 'close')).toEqual([1006]);
    close();
  });
});
