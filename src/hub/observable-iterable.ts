import type { Observable } from 'rxjs';

/**
 * Reads an Observable as an AsyncIterable so that all server streams share one sending loop.
 * An Observable cannot be slowed down, so its items queue until the loop takes them; ending
 * the iteration early unsubscribes.
 */
export function observableToAsyncIterable<T>(source: Observable<T>): AsyncIterable<T> {
  return {
    [Symbol.asyncIterator](): AsyncIterator<T> {
      const queued: T[] = [];
      let done = false;
      let failure: { error: unknown } | undefined;
      let wake: (() => void) | undefined;
      const notify = () => {
        const resume = wake;
        wake = undefined;
        resume?.();
      };
      const subscription = source.subscribe({
        next: (value) => {
          queued.push(value);
          notify();
        },
        error: (error: unknown) => {
          failure = { error };
          notify();
        },
        complete: () => {
          done = true;
          notify();
        },
      });
      return {
        async next(): Promise<IteratorResult<T>> {
          for (;;) {
            if (queued.length > 0) return { value: queued.shift() as T, done: false };
            if (failure) throw failure.error;
            if (done) return { value: undefined, done: true };
            await new Promise<void>((resolve) => (wake = resolve));
          }
        },
        async return(): Promise<IteratorResult<T>> {
          subscription.unsubscribe();
          done = true;
          queued.length = 0;
          return { value: undefined, done: true };
        },
      };
    },
  };
}
