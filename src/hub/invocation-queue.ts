/**
 * Runs at most `parallelLimit` invocations of one connection at a time, in arrival order. The
 * queue itself takes whatever it is given: its owner bounds it by no longer reading from the
 * client while `waitingCount` is high, and hears through `onStarted` when it comes down.
 */
export class InvocationQueue {
  private running = 0;
  private readonly waiting: (() => Promise<void>)[] = [];
  private disposed = false;

  constructor(
    private readonly parallelLimit: number,
    private readonly onStarted: () => void,
  ) {}

  get waitingCount(): number {
    return this.waiting.length;
  }

  enqueue(task: () => Promise<void>): void {
    if (this.disposed) return;
    if (this.running < this.parallelLimit) this.start(task);
    else this.waiting.push(task);
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
    if (!next) return;
    this.start(next);
    this.onStarted();
  };
}
