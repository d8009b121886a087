import { Injectable } from '@nestjs/common';

/** Failed logins one address may make within a window; the next login of it is refused (429). */
export const FAILED_LOGINS_PER_WINDOW = 10;
export const FAILED_LOGIN_WINDOW_MS = 60_000;

/**
 * The failed logins of each remote address over the last window. A blocked address is refused
 * whatever password it sends: were a right guess let through, the answer would tell the guesser
 * when to stop, and the limit would slow nobody down.
 */
@Injectable()
export class FailedLogins {
  private readonly failuresByAddress = new Map<string, number[]>();
  private nextSweepAt = 0;

  /** True until the oldest of the window's failures is a window old. */
  isBlocked(address: string, now = Date.now()): boolean {
    return this.recentFailures(address, now).length >= FAILED_LOGINS_PER_WINDOW;
  }

  record(address: string, now = Date.now()): void {
    const failures = this.recentFailures(address, now);
    failures.push(now);
    // Logins that passed the check together may fail past the limit: the latest ones decide.
    if (failures.length > FAILED_LOGINS_PER_WINDOW) failures.shift();
    this.failuresByAddress.set(address, failures);
    this.forgetIdleAddresses(now);
  }

  private recentFailures(address: string, now: number): number[] {
    const windowStart = now - FAILED_LOGIN_WINDOW_MS;
    return (this.failuresByAddress.get(address) ?? []).filter((at) => at > windowStart);
  }

  /** At most once a window: a guesser cycling through addresses leaves at most two windows of them. */
  private forgetIdleAddresses(now: number): void {
    if (now < this.nextSweepAt) return;
    this.nextSweepAt = now + FAILED_LOGIN_WINDOW_MS;
    const windowStart = now - FAILED_LOGIN_WINDOW_MS;
    for (const [address, failures] of this.failuresByAddress) {
      if (failures[failures.length - 1] <= windowStart) this.failuresByAddress.delete(address);
    }
  }
}
