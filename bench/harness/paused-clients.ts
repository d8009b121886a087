import type { WorkerReply } from './ipc.js';
import { sum } from './scenarios.js';

/** What the clients that had stopped reading found once they read again (`resume-paused`). */
export interface PausedClientsOutcome {
  /** How many the server had closed; undefined when none were asked. */
  readonly slowClosed: number | undefined;
  /**
   * The last Close message or error each closed client read, or that its connection ended
   * without one: a Close message waits behind everything the client had not read, and is lost
   * with it once ws gives up on the closing handshake (30 s).
   */
  readonly closeReasons: Record<string, number> | undefined;
}

export function pausedClientsOutcome(replies: readonly WorkerReply[] | undefined): PausedClientsOutcome {
  if (!replies) return { slowClosed: undefined, closeReasons: undefined };
  const closeReasons: Record<string, number> = {};
  for (const reply of replies) {
    for (const [reason, count] of Object.entries((reply.reasons as Record<string, number> | undefined) ?? {})) {
      closeReasons[reason] = (closeReasons[reason] ?? 0) + count;
    }
  }
  return { slowClosed: sum(replies, 'closed'), closeReasons };
}
