import { STREAM_PAUSE_BYTES, STREAM_RESUME_BYTES } from '../options/hub-options.js';

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
    return new Promise((resolve) => this.waiters.push(resolve));
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

  private wakeAll(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }
}
