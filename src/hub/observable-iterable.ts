import type { Observable } from 'rxjs';
import { HubException } from '../errors/hub-exception.js';
import { invocationErrors } from '../errors/invocation-errors.js';

/**
 * Reads an Observable as an AsyncIterable so that all server streams share one sending loop.
 * An Observable cannot be slowed down, so its items queue until the loop takes them, at most
 * `capacity` of them: past that the iteration fails (and unsubscribes) rather than holding an
 * unbounded backlog for a client that does not read. Ending the iteration early unsubscribes.
 */
export function observableToAsyncIterable<T>(source: Observable<T>, capacity: number): AsyncIterable<T> {
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
      // Assigned after subscribe returns: a synchronous source may overflow before that.
      let subscription: { unsubscribe(): void } | undefined;
      subscription = source.subscribe({
        next: (value) => {
          if (done || failure) return;
          if (queued.length < capacity) queued.push(value);
          else {
            // What is queued still goes out, then the client learns why the stream ended.
            failure = { error: new HubException(invocationErrors.observableOverflow(capacity)) };
            subscription?.unsubscribe();
          }
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
      if (failure) subscription.unsubscribe();
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
          subscription?.unsubscribe();
          done = true;
          queued.length = 0;
          return { value: undefined, done: true };
        },
      };
    },
  };
}

