import { flushAtEndOfTurn, type Flushable } from './end-of-turn.js';

export type Payload = string | Uint8Array;

/** Where a batch's frames go. */
export interface FrameSink {
  /** `messages`: how many the frame joins. */
  sendBatch(frame: Payload, binary: boolean, messages: number): void;
}

/**
 * Past this many queued bytes (UTF-16 units for text) the batch goes out at once: a replay or a
 * burst of stream items becomes a few frames of bounded size rather than one huge one.
 */
export const MAX_BATCH_BYTES = 64 * 1024;

/**
 * The messages one connection produces within a turn of the event loop, sent as one WebSocket
 * frame. Every message on the wire is the same in both protocols whether it travels alone or not
 * (JSON records end with 0x1E, MessagePack ones carry their length), and each frame costs a
 * system call: joining them is where most of a busy server's time goes.
 */
export class OutgoingBatch implements Flushable {
  private readonly payloads: Payload[] = [];
  private bytes = 0;
  private waiting = false;

  constructor(
    private readonly binary: boolean,
    private readonly sink: FrameSink,
  ) {}

  /** What waits for the end of the turn (UTF-16 units for text: close enough to bytes for limits). */
  get queuedBytes(): number {
    return this.bytes;
  }

  add(payload: Payload): void {
    if (this.bytes > 0 && this.bytes + payload.length > MAX_BATCH_BYTES) this.flush();
    this.payloads.push(payload);
    this.bytes += payload.length;
    if (this.waiting) return;
    this.waiting = true;
    flushAtEndOfTurn(this);
  }

  /** Sends what is queued now, ahead of anything written to the socket directly (a close). */
  flush(): void {
    this.waiting = false;
    const { payloads } = this;
    if (payloads.length === 0) return;
    const messages = payloads.length;
    const frame = messages === 1 ? payloads[0] : join(payloads, this.bytes, this.binary);
    this.discard();
    this.sink.sendBatch(frame, this.binary, messages);
  }

  /** Drops what is queued: it was meant for a socket that is gone. */
  discard(): void {
    this.payloads.length = 0;
    this.bytes = 0;
  }
}

/** Text records come as strings (a connection's own messages) or as bytes (a broadcast's, encoded once). */
function join(payloads: Payload[], bytes: number, binary: boolean): Payload {
  if (binary) return Buffer.concat(payloads as Uint8Array[], bytes);
  if (payloads.every((payload) => typeof payload === 'string')) return payloads.join('');
  return Buffer.concat(payloads.map((payload) => (typeof payload === 'string' ? Buffer.from(payload) : payload)));
}
