import type { ClaimOutcome, ConnectionRegistry, TakeOverOutcome } from './connection-registry.js';

interface Entry {
  ended: boolean;
  membershipVersion: number | undefined;
  /** Epoch milliseconds after which the entry no longer matters. */
  until: number;
}

/** Sweeps are cheap but not free: at most one per this many milliseconds. */
const SWEEP_INTERVAL_MS = 1000;

/**
 * The registry of a single process. It dies with the process: after a restart, ended
 * connections are known only by their tokens' age, and stale groups tokens cannot be told from
 * current ones (a shared registry, e.g. on Redis, closes both gaps).
 */
export class InProcessConnectionRegistry implements ConnectionRegistry {
  private readonly entries = new Map<string, Entry>();
  private nextSweepAt = 0;

  async claim(connectionId: string, holdMs: number): Promise<ClaimOutcome> {
    const entry = this.current(connectionId);
    if (entry) return entry.ended ? 'ended' : 'live';
    this.entries.set(connectionId, { ended: false, membershipVersion: undefined, until: Date.now() + holdMs });
    return 'claimed';
  }

  async takeOver(connectionId: string, holdMs: number): Promise<TakeOverOutcome> {
    const entry = this.current(connectionId);
    if (entry?.ended) return 'ended';
    const membershipVersion = entry?.membershipVersion;
    this.entries.set(connectionId, { ended: false, membershipVersion, until: Date.now() + holdMs });
    return { membershipVersion };
  }

  async recordMembership(connectionId: string, membershipVersion: number, holdMs: number): Promise<void> {
    const entry = this.current(connectionId);
    if (entry?.ended) return;
    this.entries.set(connectionId, { ended: false, membershipVersion, until: Date.now() + holdMs });
  }

  async end(connectionId: string, keepMs: number): Promise<void> {
    const entry = this.current(connectionId);
    this.entries.set(connectionId, { ended: true, membershipVersion: entry?.membershipVersion, until: Date.now() + keepMs });
  }

  async dispose(): Promise<void> {
    this.entries.clear();
  }

  private current(connectionId: string): Entry | undefined {
    const now = Date.now();
    if (now >= this.nextSweepAt) this.sweep(now);
    const entry = this.entries.get(connectionId);
    return entry && entry.until > now ? entry : undefined;
  }

  private sweep(now: number): void {
    this.nextSweepAt = now + SWEEP_INTERVAL_MS;
    for (const [connectionId, entry] of this.entries) {
      if (entry.until <= now) this.entries.delete(connectionId);
    }
  }
}
