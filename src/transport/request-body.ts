import type { IncomingMessage } from 'node:http';

/** A request's body, or the status that refuses it: 413 past the limit, 400 when its client left mid-way or it cannot be had. */
export type BodyOutcome = { readonly body: Buffer } | { readonly status: 400 | 413 };

const TOO_LARGE = { status: 413 } as const;
const ABORTED = { status: 400 } as const;
const UNREADABLE = { status: 400 } as const;

/**
 * Reads a POST's body into memory, never more than `limit` bytes of it: a declared length past
 * the limit is refused unread, a longer stream as soon as it passes the limit. A body the
 * application's own parser already read is taken as it kept it (`express.text()`,
 * `express.raw()`, Nest's `rawBody`); one it turned into something else cannot be (400).
 */
export function readBody(request: IncomingMessage, limit: number): Promise<BodyOutcome> {
  if (request.readableEnded) {
    const { body: parsed, rawBody } = request as { body?: unknown; rawBody?: unknown };
    const kept = Buffer.isBuffer(rawBody) ? rawBody : Buffer.isBuffer(parsed) || typeof parsed === 'string' ? parsed : undefined;
    if (kept === undefined) return Promise.resolve(UNREADABLE);
    const body = Buffer.isBuffer(kept) ? kept : Buffer.from(kept);
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
