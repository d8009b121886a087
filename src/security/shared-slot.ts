import type { ConnectionSlot } from './connection-caps.js';

/**
 * One slot under the caps, shared by several connections that are one to their client (the hubs
 * of a classic connection): each holds a share, and the slot goes back once every share has and
 * no more will be handed out.
 */
export class SharedSlot {
  private shares = 0;
  private sealed = false;

  constructor(private readonly slot: ConnectionSlot) {}

  share(): ConnectionSlot {
    this.shares++;
    let held = true;
    return {
      admitted: true,
      release: () => {
        if (!held) return;
        held = false;
        this.shares--;
        this.releaseWhenDone();
      },
    };
  }

  /** No more shares will be handed out. */
  seal(): void {
    this.sealed = true;
    this.releaseWhenDone();
  }

  private releaseWhenDone(): void {
    if (this.sealed && this.shares === 0) this.slot.release();
  }
}
