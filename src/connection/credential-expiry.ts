/** setTimeout's ceiling (about 24.8 days); longer delays are re-armed in steps. */
const MAX_TIMER_DELAY_MS = 2 ** 31 - 1;

/**
 * Calls `expired` once the connection's credential expires. Re-armed with each credential the
 * connection is given (a stateful reconnect authenticates anew), so only the latest one counts.
 */
export class CredentialExpiry {
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly expired: () => void) {}

  /** `undefined`: a credential that does not expire (or expiry is not enforced). */
  arm(expiresAt: number | undefined): void {
    this.clear();
    if (expiresAt === undefined) return;
    const delay = Math.max(0, expiresAt - Date.now());
    this.timer = setTimeout(() => (Date.now() < expiresAt ? this.arm(expiresAt) : this.expired()), Math.min(delay, MAX_TIMER_DELAY_MS));
    this.timer.unref();
  }

  clear(): void {
    clearTimeout(this.timer);
  }
}
