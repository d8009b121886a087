import type { IncomingMessage } from 'node:http';

/** A request's body, or the status that refuses it: 413 past the limit, 400 when its client left mid-way. */
export type BodyOutcome = { readonly body: Buffer } | { readonly status: 400 | 413 };

const TOO_LARGE = { status: 413 } as const;
const ABORTED = { status: 400 } as const;

/**
 * Reads a POST's body into memory, never more than `limit` bytes of it: a declared length past
 * the limit is refused unread, a longer stream as soon as it passes the limit. A body the
 * application's own parser already read (`express.text()`, `express.raw()`) is taken from it.
 */
export function readBody(request: IncomingMessage, limit: number): Promise<BodyOutcome> {
  const parsed = (request as { body?: unknown }).body;
  if (request.readableEnded && (typeof parsed === 'string' || Buffer.isBuffer(parsed))) {
    const body = Buffer.isBuffer(parsed) ? parsed : Buffer.from(parsed);
    return Promise.resolve(body.length > limit ? TOO_LARGE : { body });
  }
  if (Number(request.headers['content-length']) > limit) return Promise.resolve(TOO_LARGE);
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let bytes = 0;
    const settle = (outcome: BodyOutcome) => {
      request.off('data', onData).off('end', onEnd).off('close', onClose).off('error', onClose);
      resolve(outcome);
    };
    const onData = (chunk: Buffer) => {
      bytes += chunk.length;
      if (bytes > limit) {
        request.pause();
        return settle(TOO_LARGE);
      }
      chunks.push(chunk);
    };
    const onEnd = () => settle({ body: chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, bytes) });
    const onClose = () => settle(ABORTED);
    request.on('data', onData).on('end', onEnd).on('close', onClose).on('error', onClose);
  });
}
