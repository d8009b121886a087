import { Observable } from 'rxjs';

/**
 * Items a client streams to a hub method, consumed once. When the consumer falls behind by
 * `capacity` items, `onFull` lets the connection stop reading from the socket until it catches up.
 */
export class UploadStream<T = unknown> implements AsyncIterable<T> {
  private readonly buffer: T[] = [];
  private waiter: ((result: IteratorResult<T>) => void) | undefined;
  private failWaiter: ((error: Error) => void) | undefined;
  private ended = false;
  private failure: Error | undefined;
  private consumed = false;

  constructor(
    private readonly capacity: number,
    private readonly onFull: () => void,
    private readonly onDrain: () => void,
  ) {}

  push(item: T): void {
    if (this.ended) return;
    if (this.waiter) return this.settle({ value: item, done: false });
    this.buffer.push(item);
    if (this.buffer.length === this.capacity) this.onFull();
  }

  complete(): void {
    this.end(undefined);
  }

  fail(error: Error): void {
    this.end(error);
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    if (this.consumed) throw new Error('An upload stream can be read only once.');
    this.consumed = true;
    return {
      next: () => this.next(),
      return: async () => {
        this.end(undefined);
        this.buffer.length = 0;
        return { value: undefined, done: true };
      },
    };
  }

  toObservable(): Observable<T> {
    return new Observable<T>((subscriber) => {
      const iterator = this[Symbol.asyncIterator]();
      void (async () => {
        try {
          for (let step = await iterator.next(); !step.done && !subscriber.closed; step = await iterator.next()) {
            subscriber.next(step.value);
          }
          subscriber.complete();
        } catch (error) {
          subscriber.error(error);
        }
      })();
      return () => void iterator.return?.();
    });
  }

  private next(): Promise<IteratorResult<T>> {
    if (this.buffer.length > 0) {
      const wasFull = this.buffer.length === this.capacity;
      const value = this.buffer.shift() as T;
      if (wasFull) this.onDrain();
      return Promise.resolve({ value, done: false });
    }
    if (this.failure) return Promise.reject(this.failure);
    if (this.ended) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve, reject) => {
      this.waiter = resolve;
      this.failWaiter = reject;
    });
  }

  private end(error: Error | undefined): void {
    if (this.ended) return;
    this.ended = true;
    this.failure = error;
    if (this.buffer.length >= this.capacity) this.onDrain();
    if (!this.waiter) return;
    if (error) {
      const fail = this.failWaiter!;
      this.waiter = this.failWaiter = undefined;
      fail(error);
    } else {
      this.settle({ value: undefined, done: true });
    }
  }

  private settle(result: IteratorResult<T>): void {
    const resolve = this.waiter!;
    this.waiter = this.failWaiter = undefined;
    resolve(result);
  }
}
