import { createServer } from 'node:http';
import { describe, expect, it } from 'vitest';
import { readBody } from '../../src/transport/request-body.js';
import { judgeRealRequest } from '../support/real-request.js';

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
});
