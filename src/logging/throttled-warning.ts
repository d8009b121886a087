import type { Logger } from '@nestjs/common';

/**
 * A warning logged at most once per interval, however often it happens; the next one says how
 * many were left unsaid. Failed publishes during an outage, or connections refused during a
 * flood, would otherwise flood the log.
 */
export class ThrottledWarning {
  private lastLoggedAt = -Infinity;
  private suppressed = 0;

  constructor(
    private readonly logger: Pick<Logger, 'warn'>,
    private readonly intervalMs: number,
  ) {}

  warn(message: string): void {
    const now = performance.now();
    if (now - this.lastLoggedAt < this.intervalMs) {
      this.suppressed++;
      return;
    }
    const unsaid = this.suppressed > 0 ? ` (${this.suppressed} more like it since the last warning)` : '';
    this.lastLoggedAt = now;
    this.suppressed = 0;
    this.logger.warn(`${message}${unsaid}`);
  }
}
