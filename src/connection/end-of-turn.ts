import { Logger } from '@nestjs/common';

/** Something holding writes back until the current turn of the event loop is over. */
export interface Flushable {
  flush(): void;
}

const logger = new Logger('SignalR:Connection');
let due: Flushable[] = [];
let scheduled = false;

/**
 * Calls `flush` once the current callback and every promise reaction it set off have run.
 * A nextTick queued from a microtask runs only after the microtask queue is empty, so the
 * completions of a whole chain of awaits are caught; one tick serves all connections of a turn.
 */
export function flushAtEndOfTurn(target: Flushable): void {
  due.push(target);
  if (scheduled) return;
  scheduled = true;
  process.nextTick(flushDue);
}

function flushDue(): void {
  const batch = due;
  due = [];
  scheduled = false;
  for (let i = 0; i < batch.length; i++) {
    // Written from here, a failing socket would otherwise take the process down with it and
    // leave the other connections of the turn unflushed.
    try {
      batch[i].flush();
    } catch (error) {
      logger.error(`A write failed: ${(error as Error)?.message}`);
    }
  }
}
