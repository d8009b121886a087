import { createServer } from 'node:http';
import { describe, expect, it } from 'vitest';
import { readBody } from '../../src/transport/request-body.js';
import { judgeRealRequest } from '../support/real-request.js';

/** A body sent without a declared length, chunk by chunk, read under `limit`. */
function readStreamed(chunks: string[], limit: number) {
  return judgeRealRequest(createServer(), 'http', { method: 'POST', body: chunks }, (request) => readBody(request, limit));
}

describe('readBody', () => {
  it('refuses a declared length over the limit with 413 before reading any of it', async () => {
    const verdict = await judgeRealRequest(createServer(), 'http', { method: 'POST', headers: { 'Content-Length': '11' } }, async (request) => {
      const outcome = await readBody(request, 10);
      return { outcome, read: request.readableLength, ended: request.readableEnded };
    });
    expect(verdict).toEqual({ outcome: { status: 413 }, read: 0, ended: false });
  });

  it("takes a body the application's own parser already read, under the same limit", async () => {
    const verdict = await judgeRealRequest(createServer(), 'http', { method: 'POST' }, async (request) => {
      request.resume();
      await new Promise((resolve) => request.once('end', resolve));
      Object.assign(request, { body: 'parsed' });
      return [await readBody(request, 10), await readBody(request, 5)];
    });
    expect(verdict).toEqual([{ body: Buffer.from('parsed') }, { status: 413 }]);
  });

  it('refuses a body the application parsed into something else (400), rather than wait for it', async () => {
    const verdict = await judgeRealRequest(createServer(), 'http', { method: 'POST' }, async (request) => {
      request.resume();
      await new Promise((resolve) => request.once('end', resolve));
      Object.assign(request, { body: { parsed: true } });
      return readBody(request, 10);
    });
    expect(verdict).toEqual({ status: 400 });
  });

  it('takes a streamed body of exactly the limit whole, and refuses one a byte past it with 413 as it passes', async () => {
    expect(await readStreamed(['12345', '67890'], 10)).toEqual({ body: Buffer.from('1234567890') });
    expect(await readStreamed(['12345', '678901'], 10)).toEqual({ status: 413 });
  });

  it('refuses with 400 a body whose client left before it ended', async () => {
    const verdict = await judgeRealRequest(
      createServer(),
      'http',
      // Declares more than it sends: the server waits for the rest until the socket goes.
      { method: 'POST', headers: { 'Content-Length': '50' }, body: ['part'] },
      (request) => {
        const outcome = readBody(request, 100);
        request.once('data', () => request.socket.destroy());
        return outcome;
      },
    );
    expect(verdict).toEqual({ status: 400 });
  });

  it("prefers the raw bytes the application kept (Nest's rawBody) to what its parser made, and takes a parsed Buffer as it is", async () => {
    const verdict = await judgeRealRequest(createServer(), 'http', { method: 'POST' }, async (request) => {
      request.resume();
      await new Promise((resolve) => request.once('end', resolve));
      const kept: unknown[] = [];
      Object.assign(request, { body: { parsed: true }, rawBody: Buffer.from('raw') });
      kept.push(await readBody(request, 10));
      Object.assign(request, { body: Buffer.from('bytes'), rawBody: undefined });
      kept.push(await readBody(request, 10));
      return kept;
    });
    expect(verdict).toEqual([{ body: Buffer.from('raw') }, { body: Buffer.from('bytes') }]);
  });
});
