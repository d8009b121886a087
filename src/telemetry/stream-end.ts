/** Runs one step of the producer, in the invocation's trace context when it is traced. */
type Within = <T>(step: () => Promise<T>) => Promise<T>;

/**
 * The same stream, telling `finish` once how it ended: its last item read (`done`), an error from
 * its producer, or its reader's `return()` (a cancellation, or the connection's end).
 */
export function endedWith(
  stream: AsyncIterable<unknown>,
  finish: (error: unknown, failed: boolean) => void,
  within: Within | undefined,
): AsyncIterable<unknown> {
  let finished = false;
  const end = (error: unknown, failed: boolean) => {
    if (!finished) finish(error, failed);
    finished = true;
  };
  return {
    [Symbol.asyncIterator]() {
      const iterator = stream[Symbol.asyncIterator]();
      const run = within ?? ((step) => step());
      return {
        async next() {
          try {
            const step = await run(() => iterator.next());
            if (step.done) end(undefined, false);
            return step;
          } catch (error) {
            end(error, true);
            throw error;
          }
        },
        async return(value?: unknown) {
          end(undefined, false);
          return iterator.return ? run(() => iterator.return!(value)) : { done: true, value };
        },
      };
    },
  };
}
