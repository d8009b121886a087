import { EventEmitter } from 'node:events';
import { CHANNEL_CLOSED, CHANNEL_OPEN, type FrameChannel } from '../connection/frame-channel.js';
import type { Payload } from '../connection/outgoing-batch.js';

/** ws's `readyState` while a close is under way: nothing more is sent, what is queued still goes. */
export const CHANNEL_CLOSING = 2;

/** The codes a channel closes with, as ws reports them: an orderly end, and a client gone without one. */
export const NORMAL_CLOSURE = 1000;
export const ABNORMAL_CLOSURE = 1006;

/**
 * What Server-Sent Events and long polling share: a FrameChannel whose frames from the client
 * come in the bodies of POSTs. POSTs are handled one at a time, in order (ASP.NET Core's write
 * lock), and a body reaches the connection only while it reads: while it does not, the POST
 * waits, which holds back the client's next send as a paused socket would.
 */
export abstract class HttpChannel extends EventEmitter implements FrameChannel {
  readyState = CHANNEL_OPEN;
  abstract readonly transport: 'ServerSentEvents' | 'LongPolling';
  abstract readonly bufferedAmount: number;
  private paused = false;
  private wakeReader: (() => void) | undefined;
  private lastPost: Promise<unknown> = Promise.resolve();

  abstract send(data: Payload, options: { binary: boolean }, written?: (error?: Error) => void): void;
  abstract close(code: number): void;
  abstract terminate(): void;

  /** Runs `post` once the POSTs that came before it are done. */
  inTurn<T>(post: () => Promise<T>): Promise<T> {
    const turn = this.lastPost.then(post);
    this.lastPost = turn.catch(() => undefined);
    return turn;
  }

  /** Hands a POST's body to the connection once it reads; false if the channel closed first. */
  async deliver(body: Buffer): Promise<boolean> {
    while (this.paused && this.readyState === CHANNEL_OPEN) await new Promise<void>((resolve) => (this.wakeReader = resolve));
    if (this.readyState !== CHANNEL_OPEN) return false;
    if (body.length > 0) this.emit('message', body);
    return true;
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
    this.wake();
  }

  /** The channel is over: reported once, as ws reports a socket's close. */
  protected ended(code: number): void {
    if (this.readyState === CHANNEL_CLOSED) return;
    this.readyState = CHANNEL_CLOSED;
    this.wake();
    this.emit('close', code);
  }

  private wake(): void {
    const wake = this.wakeReader;
    this.wakeReader = undefined;
    wake?.();
  }
}
