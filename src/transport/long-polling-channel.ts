import { Logger } from '@nestjs/common';
import { CHANNEL_CLOSED, CHANNEL_OPEN, CLIENT_GONE_SILENT } from '../connection/frame-channel.js';
import type { Payload } from '../connection/outgoing-batch.js';
import type { HttpReply } from './http-platform.js';
import { ABNORMAL_CLOSURE, CHANNEL_CLOSING, HttpChannel, NORMAL_CLOSURE } from './http-channel.js';
import { WriteDeadline } from './write-deadline.js';

const logger = new Logger('SignalR:Transport');

// Every poll's answer, as ASP.NET Core sends them: never cached, never sniffed.
const NO_CACHE = {
  'Cache-Control': 'no-cache, no-store',
  Pragma: 'no-cache',
  Expires: 'Thu, 01 Jan 1970 00:00:00 GMT',
  'X-Content-Type-Options': 'nosniff',
} as const;

export interface LongPollingTimes {
  /** A poll without messages is answered empty after this long. */
  readonly pollTimeoutMs: number;
  /** With no poll open for this long, the client is gone. */
  readonly disconnectTimeoutMs: number;
  /** A poll's answer the client has not taken in this long means it stalled. */
  readonly sendTimeoutMs: number;
}

/**
 * What a poll is answered through: its HTTP reply, or, for a poll that reached another node, what
 * takes the answer back there (see `RelayedReply`).
 */
export interface PollReply {
  send: HttpReply['send'];
  readonly response: {
    once(event: 'close', listener: () => void): unknown;
    destroy(): unknown;
    readonly destroyed: boolean;
    readonly writableFinished: boolean;
  };
}

/** A poll waiting for messages, with the headers its own request earned (CORS). */
interface OpenPoll {
  readonly reply: PollReply;
  readonly headers: Record<string, string>;
  readonly timeout: NodeJS.Timeout;
  readonly answered: () => void;
}

/**
 * A long-polling connection as a FrameChannel. What the connection sends waits here, counted
 * against its outbound limit like a socket's unwritten bytes, until a poll takes all of it. A
 * new poll answers the one still open with 204; a poll that finds nothing within the poll
 * timeout is answered empty; with no poll open for the disconnect timeout the channel closes.
 */
export class LongPollingChannel extends HttpChannel {
  readonly transport = 'LongPolling';
  private queued: Payload[] = [];
  private queuedBytes = 0;
  private callbacks: ((error?: Error) => void)[] = [];
  private open: OpenPoll | undefined;
  private answerDue = false;
  /** The answer handed to its response and not yet written, and its size. */
  private answering: { readonly response: PollReply['response']; readonly bytes: number } | undefined;
  private disconnect: NodeJS.Timeout;
  private readonly deadline: WriteDeadline;

  constructor(
    private readonly connectionId: string,
    private readonly times: LongPollingTimes,
  ) {
    super();
    this.disconnect = this.disconnectTimer();
    this.deadline = new WriteDeadline(times.sendTimeoutMs, () => {
      logger.warn(`Connection ${connectionId} did not take a poll's answer within ${times.sendTimeoutMs} ms; closing it.`);
      this.terminate();
    });
  }

  get bufferedAmount(): number {
    return this.queuedBytes + (this.answering?.bytes ?? 0);
  }

  /**
   * A poll: answers the poll still open with 204, then this one at once with what is queued, or
   * when something comes, or empty at the poll timeout. Resolves once it is answered, or its client left.
   */
  poll(reply: PollReply, headers: Record<string, string>): Promise<void> {
    if (this.readyState === CHANNEL_CLOSED) {
      reply.send(204, { ...headers, ...NO_CACHE, 'Content-Type': 'text/plain' });
      return Promise.resolve();
    }
    // Its client left while it was being admitted: as if it never came.
    if (reply.response.destroyed) return Promise.resolve();
    clearTimeout(this.disconnect);
    if (this.open) this.answerEmpty(204);
    return new Promise((resolve) => {
      const timeout = setTimeout(() => this.answerEmpty(200), this.times.pollTimeoutMs).unref();
      const poll: OpenPoll = { reply, headers, timeout, answered: resolve };
      this.open = poll;
      // The client gave up on it (its stop aborts the poll before its DELETE).
      reply.response.once('close', () => {
        if (this.open !== poll) return;
        this.release(poll);
        resolve();
      });
      if (this.queuedBytes > 0 || this.readyState !== CHANNEL_OPEN) this.answer();
    });
  }

  send(data: Payload, _options: { binary: boolean }, written?: (error?: Error) => void): void {
    if (this.readyState !== CHANNEL_OPEN) return written?.(new Error('The long-polling connection is closed.'));
    this.queued.push(data);
    this.queuedBytes += typeof data === 'string' ? Buffer.byteLength(data) : data.length;
    if (written) this.callbacks.push(written);
    // What the connection sends in one turn goes out in one answer.
    if (this.open && !this.answerDue) {
      this.answerDue = true;
      setImmediate(() => this.open && this.answerDue && this.answer());
    }
  }

  /** What is queued still goes to the next poll; the poll after it is answered 204 and the channel ends. */
  close(): void {
    if (this.readyState !== CHANNEL_OPEN) return;
    this.readyState = CHANNEL_CLOSING;
    if (this.open && this.queuedBytes === 0) this.answer();
  }

  /** The client's DELETE, or the connection's end without a goodbye: an open poll gets 204. */
  terminate(code = ABNORMAL_CLOSURE): void {
    if (this.open) this.answerEmpty(204);
    // A stalled answer holds its bytes for as long as its client does not read.
    if (code !== NORMAL_CLOSURE) this.answering?.response.destroy();
    this.queued = [];
    this.queuedBytes = 0;
    for (const written of this.callbacks.splice(0)) written(new Error('The long-polling connection ended.'));
    clearTimeout(this.disconnect);
    this.deadline.dispose();
    this.ended(code);
  }

  /** The client's DELETE. */
  remove(): void {
    this.terminate(NORMAL_CLOSURE);
  }

  /** Answers the open poll with everything queued; once closing, with 204 when nothing is. */
  private answer(): void {
    this.answerDue = false;
    const poll = this.open!;
    if (this.queuedBytes === 0) {
      this.answerEmpty(204);
      return this.terminate(NORMAL_CLOSURE);
    }
    const body = joined(this.queued, this.queuedBytes);
    const callbacks = this.callbacks;
    this.queued = [];
    this.queuedBytes = 0;
    this.callbacks = [];
    this.release(poll);
    const { response } = poll.reply;
    const answering = (this.answering = { response, bytes: body.length });
    this.deadline.started();
    response.once('close', () => {
      if (this.answering === answering) this.answering = undefined;
      this.deadline.finished();
      const error = response.writableFinished ? undefined : new Error('The poll ended before its answer was written.');
      for (const written of callbacks) written(error);
      poll.answered();
    });
    poll.reply.send(200, { ...poll.headers, ...NO_CACHE, 'Content-Type': 'application/octet-stream', 'Content-Length': body.length }, body);
  }

  /** 200 at the poll timeout (the client polls again), 204 to a poll that another replaced. */
  private answerEmpty(status: 200 | 204): void {
    const poll = this.open!;
    this.release(poll);
    poll.reply.send(status, { ...poll.headers, ...NO_CACHE, 'Content-Type': 'text/plain', ...(status === 200 ? { 'Content-Length': 0 } : {}) });
    poll.answered();
  }

  /** No poll is open from here: the client has the disconnect timeout to send the next one. */
  private release(poll: OpenPoll): void {
    clearTimeout(poll.timeout);
    this.open = undefined;
    if (this.readyState === CHANNEL_CLOSED) return;
    clearTimeout(this.disconnect);
    this.disconnect = this.disconnectTimer();
  }

  private disconnectTimer(): NodeJS.Timeout {
    return setTimeout(() => {
      logger.debug(`Connection ${this.connectionId} sent no poll for ${this.times.disconnectTimeoutMs} ms; closing it.`);
      this.terminate(CLIENT_GONE_SILENT);
    }, this.times.disconnectTimeoutMs).unref();
  }
}

/** The frames of one answer: text joined as text, anything binary as bytes. */
function joined(frames: Payload[], bytes: number): Buffer {
  if (frames.length === 1) return toBuffer(frames[0]);
  return Buffer.concat(frames.map(toBuffer), bytes);
}

function toBuffer(frame: Payload): Buffer {
  return typeof frame === 'string' ? Buffer.from(frame) : Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength);
}
