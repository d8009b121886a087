/**
 * Tells when a client stopped taking what is written to it: `stalled` is called once a write has
 * waited `timeoutMs` to be handed to the kernel, each write after a finished one getting its full
 * time. One timer per channel, re-armed rather than re-made, since every frame passes here.
 */
export class WriteDeadline {
  private pending = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly timeoutMs: number,
    private readonly stalled: () => void,
  ) {}

  started(): void {
    if (this.pending++ > 0) return;
    if (this.timer) this.timer.refresh();
    else this.timer = setTimeout(() => this.pending > 0 && this.stalled(), this.timeoutMs).unref();
  }

  finished(): void {
    if (--this.pending > 0) this.timer?.refresh();
  }

  dispose(): void {
    clearTimeout(this.timer);
    this.pending = 0;
  }
}
