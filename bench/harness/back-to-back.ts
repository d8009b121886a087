import type { WorkerPool } from './processes.js';

export interface BackToBackPlan {
  /** Round number of the first broadcast; the load processes must be armed from it. */
  readonly firstRound: number;
  readonly broadcasts: number;
  /** At most this many broadcasts on their way at once. */
  readonly window: number;
  /** Load processes that report each round (those holding receivers). */
  readonly reporting: number;
  readonly timeoutMs: number;
  /** Sends round `round`; resolves with its send time (monotonic microseconds). */
  readonly send: (round: number) => Promise<number>;
}

export interface BackToBackRun {
  /** From the first send to the last receipt of any round. */
  readonly seconds: number;
  /** Rounds that not every receiver had when their wait timed out. */
  readonly incompleteRounds: number;
}

/**
 * Broadcasts sent back to back with a bounded number on their way: the throughput of a fan-out.
 * A round is done when every reporting load process has had it delivered to all its receivers.
 */
export async function sendBackToBack(workers: WorkerPool, plan: BackToBackPlan): Promise<BackToBackRun> {
  const inFlight: Promise<number[]>[] = [];
  let firstSentAt: number | undefined;
  let lastReceiptAt = 0;
  let incompleteRounds = 0;
  const settle = async (pending: Promise<number[]>) => {
    const lastAts = await pending;
    if (lastAts.length < plan.reporting) incompleteRounds++;
    lastReceiptAt = Math.max(lastReceiptAt, ...lastAts);
  };
  for (let round = plan.firstRound; round < plan.firstRound + plan.broadcasts; round++) {
    if (inFlight.length >= plan.window) await settle(inFlight.shift()!);
    inFlight.push(workers.waitForRound(round, plan.reporting, plan.timeoutMs));
    const sentAt = await plan.send(round);
    firstSentAt ??= sentAt;
  }
  for (const pending of inFlight) await settle(pending);
  return { seconds: (lastReceiptAt - (firstSentAt ?? lastReceiptAt)) / 1e6, incompleteRounds };
}
