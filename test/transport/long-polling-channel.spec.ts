import { once } from 'node:events';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHANNEL_CLOSED, CHANNEL_OPEN, CLIENT_GONE_SILENT } from '../../src/connection/frame-channel.js';
import { CHANNEL_CLOSING } from '../../src/transport/http-channel.js';
import { replyOn } from '../../src/transport/http-platform.js';
import { LongPollingChannel } from '../../src/transport/long-polling-channel.js';

/** Real polls on 127.0.0.1: each request the server takes is handed to the test as its response. */
class PollServer {
  private readonly waiting: ((response: ServerResponse) => void)[] = [];
  private readonly server: Server = createServer((_request, response) => this.waiting.shift()?.(response));

  async start(): Promise<void> {
    this.server.listen(0, '127.0.0.1');
    await once(this.server, 'listening');
  }

  /** Sends a poll: gives the server's side of it and the answer the client gets. */
  async poll(): Promise<{ response: ServerResponse; answer: Promise<{ status: number; body: string }>; abort(): void }> {
    const { port } = this.server.address() as AddressInfo;
    const taken = new Promise<ServerResponse>((resolve) => this.waiting.push(resolve));
    const controller = new AbortController();
    const answer = fetch(`http://127.0.0.1:${port}/`, { signal: controller.signal }).then(async (reply) => ({ status: reply.status, body: await reply.text() }));
    answer.catch(() => undefined);
    return { response: await taken, answer, abort: () => controller.abort() };
  }

  close(): void {
    this.server.closeAllConnections();
    this.server.close();
  }
}

const TIMES = { pollTimeoutMs: 60_000, disconnectTimeoutMs: 60_000, sendTimeoutMs: 60_000 };

describe('LongPollingChannel', () => {
  const server = new PollServer();

  beforeAll(() => server.start());
  afterAll(() => server.close());

  it("counts what waits for a poll as its buffered bytes, and calls each frame's callback once a poll's answer took it", async () => {
    const channel = new LongPollingChannel('c1', TIMES);
    const written: (Error | undefined)[] = [];
    channel.send('héllo', { binary: false }, (error) => written.push(error));
    channel.send(Buffer.from([1, 2, 3]), { binary: true }, (error) => written.push(error));
    expect(channel.bufferedAmount).toBe(Buffer.byteLength('héllo') + 3);
    const { response, answer } = await server.poll();
    const answered = channel.poll(replyOn(response), {});
    expect((await answer).body).toBe('héllo\u0001\u0002\u0003');
    await answered;
    expect(written).toEqual([undefined, undefined]);
    expect(channel.bufferedAmount).toBe(0);
    channel.terminate();
  });

  it('answers the poll it holds with 204 when a new one comes, and the new one with what is sent next', async () => {
    const channel = new LongPollingChannel('c2', TIMES);
    const first = await server.poll();
    void channel.poll(replyOn(first.response), {});
    const second = await server.poll();
    void channel.poll(replyOn(second.response), {});
    expect(await first.answer).toEqual({ status: 204, body: '' });
    channel.send('next', { binary: false });
    expect(await second.answer).toEqual({ status: 200, body: 'next' });
    channel.terminate();
  });

  it('after close, gives the next poll what is queued, then answers 204 and ends', async () => {
    const channel = new LongPollingChannel('c3', TIMES);
    const closes: number[] = [];
    channel.on('close', (code) => closes.push(code));
    channel.send('goodbye', { binary: false });
    channel.close();
    expect(channel.readyState).toBe(CHANNEL_CLOSING);
    const last = await server.poll();
    await channel.poll(replyOn(last.response), {});
    expect(await last.answer).toEqual({ status: 200, body: 'goodbye' });
    const after = await server.poll();
    await channel.poll(replyOn(after.response), {});
    expect(await after.answer).toEqual({ status: 204, body: '' });
    expect([channel.readyState, closes]).toEqual([CHANNEL_CLOSED, [1000]]);
  });

  it('when its poll is abandoned by the client, waits for the next one, and closes if none comes within the disconnect timeout', async () => {
    const channel = new LongPollingChannel('c4', { ...TIMES, disconnectTimeoutMs: 50 });
    const closed = once(channel, 'close');
    const abandoned = await server.poll();
    const answered = channel.poll(replyOn(abandoned.response), {});
    abandoned.abort();
    await answered;
    // Told apart from a dropped socket, so that the connection is recorded as timed out.
    expect(await closed).toEqual([CLIENT_GONE_SILENT]);
  });

  it('takes a poll whose client left before it got there as one that never came', async () => {
    const channel = new LongPollingChannel('c6', TIMES);
    const held = await server.poll();
    void channel.poll(replyOn(held.response), {});
    const gone = await server.poll();
    gone.abort();
    await once(gone.response, 'close');
    await channel.poll(replyOn(gone.response), {});
    channel.send('for the poll still open', { binary: false });
    expect(await held.answer).toEqual({ status: 200, body: 'for the poll still open' });
    channel.terminate();
  });

  it('holds a POST while the connection does not read, and refuses it once the channel closed', async () => {
    const channel = new LongPollingChannel('c5', TIMES);
    const frames: string[] = [];
    channel.on('message', (data: Buffer) => frames.push(data.toString()));
    channel.pause();
    let delivered: boolean | undefined;
    const held = channel.inTurn(() => channel.deliver(Buffer.from('first'))).then((outcome) => (delivered = outcome));
    // A POST after it waits for its turn, whatever the connection does.
    const next = channel.inTurn(() => channel.deliver(Buffer.from('second')));
    await Promise.resolve();
    expect([delivered, frames]).toEqual([undefined, []]);
    channel.resume();
    expect([await held, await next, frames]).toEqual([true, true, ['first', 'second']]);
    expect(channel.readyState).toBe(CHANNEL_OPEN);
    channel.pause();
    const refused = channel.inTurn(() => channel.deliver(Buffer.from('late')));
    channel.terminate();
    expect(await refused).toBe(false);
  });
});
