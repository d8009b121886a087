/**
 * Runs at most `parallelLimit` invocations of one connection at a time, in arrival order.
 * Waiting ones are bounded: a client that keeps piling up work is misbehaving, and `enqueue`
 * returns false so that the caller can close it.
 */
export class InvocationQueue {
  private running = 0;
  private readonly waiting: (() => Promise<void>)[] = [];
  private disposed = false;

  constructor(
    private readonly parallelLimit: number,
    private readonly queueLimit: number,
  ) {}

  enqueue(task: () => Promise<void>): boolean {
    if (this.disposed) return true;
    if (this.running < this.parallelLimit) {
      this.start(task);
      return true;
    }
    if (this.waiting.length >= this.queueLimit) return false;
    this.waiting.push(task);
    return true;
  }

  dispose(): void {
    this.disposed = true;
    this.waiting.length = 0;
  }

  private start(task: () => Promise<void>): void {
    this.running++;
    // Tasks handle their own errors; the rejection handler only keeps a bug from becoming an
    // unhandled rejection. One bound handler for both: no promises or closures per task.
    task().then(this.finished, this.finished);
  }

  private readonly finished = (): void => {
    this.running--;
    const next = this.disposed ? undefined : this.waiting.shift();
    if (next) this.start(next);
  };
}
