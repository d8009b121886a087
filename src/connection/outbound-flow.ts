import { STREAM_PAUSE_BYTES, STREAM_RESUME_BYTES } from '../options/hub-options.js';

/**
 * How often waiting producers look again by themselves. The frames that filled the socket were
 * sent before anyone waited, so carry no write callback; frames sent while producers wait do, and
 * usually wake them first.
 */
const FALLBACK_CHECK_MS = 10;

/** Where a connection's unread bytes are: not yet written to its socket, and not yet acknowledged. */
export interface OutboundBacklog {
  /** Bytes queued in the package or in the socket, not yet handed to the kernel. */
  unwrittenBytes(): number;
  /** Bytes a stateful-reconnect client has not acknowledged; 0 for other connections. */
  unacknowledgedBytes(): number;
}

/**
 * Backpressure for the producers of one connection. Streams and the client's own invocations ask
 * before producing; while the client is behind they wait, rather than queueing without bound,
 * and are woken once it has caught up. Broadcasts never wait (one slow member must not hold up
 * the others): the connection applies its hard limit to them instead.
 */
export class OutboundFlow {
  private waiters: (() => void)[] = [];
  /** While producers wait: looks again now and then, in case no written frame says it is time. */
  private fallback: NodeJS.Timeout | undefined;
  /** Between the pause and the resume thresholds the state does not flip back and forth. */
  private paused = false;
  private released = false;

  constructor(
    private readonly backlog: OutboundBacklog,
    private readonly replayLimit: number,
  ) {}

  /** Undefined when the producer may go on now (no allocation on the common path), else when it may. */
  whenWritable(): Promise<void> | undefined {
    if (this.writable()) return undefined;
    this.fallback ??= this.lookAgainSoon();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /**
   * Whether producers wait: only then is a frame's write worth hearing about. A callback on every
   * frame costs a busy broadcaster dearly (measured: 40% of fan-out throughput, most of it in GC).
   */
  get hasWaiters(): boolean {
    return this.waiters.length > 0;
  }

  /** Wakes the waiting producers if the client has caught up; called as bytes leave or are acknowledged. */
  check(): void {
    if (this.waiters.length > 0 && this.writable()) this.wakeAll();
  }

  /** The connection is gone: whoever waits goes on, and finds it closed. */
  release(): void {
    this.released = true;
    this.wakeAll();
  }

  private writable(): boolean {
    if (this.released) return true;
    const unwritten = this.backlog.unwrittenBytes();
    this.paused = unwritten >= (this.paused ? STREAM_RESUME_BYTES : STREAM_PAUSE_BYTES);
    return !this.paused && this.backlog.unacknowledgedBytes() <= this.replayLimit;
  }

  private lookAgainSoon(): NodeJS.Timeout {
    return setTimeout(() => this.lookAgain(), FALLBACK_CHECK_MS).unref();
  }

  private lookAgain(): void {
    this.fallback = undefined;
    if (this.waiters.length === 0) return;
    if (this.writable()) this.wakeAll();
    else this.fallback = this.lookAgainSoon();
  }

  private wakeAll(): void {
    clearTimeout(this.fallback);
    this.fallback = undefined;
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }
}
