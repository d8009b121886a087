import { describe, expect, it } from 'vitest';
import { FAILED_LOGIN_WINDOW_MS, FAILED_LOGINS_PER_WINDOW, FailedLogins } from '../../sample-app/auth/failed-logins.js';

const T0 = 1_000_000;

/** Ten failures of `address`, the first at `start`, the last at `start + spreadMs`. */
function failTenTimes(failedLogins: FailedLogins, address: string, start: number, spreadMs: number): void {
  for (let i = 0; i < FAILED_LOGINS_PER_WINDOW; i++) failedLogins.record(address, start + Math.round((i * spreadMs) / (FAILED_LOGINS_PER_WINDOW - 1)));
}

describe('FailedLogins (the sample\'s limit on failed logins per address)', () => {
  it('blocks an address from its 11th failed login within 60 s, whatever came before', () => {
    expect(FAILED_LOGINS_PER_WINDOW).toBe(10);
    expect(FAILED_LOGIN_WINDOW_MS).toBe(60_000);
    const failedLogins = new FailedLogins();
    failTenTimes(failedLogins, '198.51.100.7', T0, 59_000);
    expect(failedLogins.isBlocked('198.51.100.7', T0 + 59_001)).toBe(true);
    expect(failedLogins.isBlocked('198.51.100.8', T0 + 59_001)).toBe(false);
  });

  it('stays blocked until the window has passed, then lets the address try again', () => {
    const failedLogins = new FailedLogins();
    failTenTimes(failedLogins, '198.51.100.7', T0, 9);
    expect(failedLogins.isBlocked('198.51.100.7', T0 + FAILED_LOGIN_WINDOW_MS - 1)).toBe(true);
    expect(failedLogins.isBlocked('198.51.100.7', T0 + FAILED_LOGIN_WINDOW_MS)).toBe(false);
    // Nine failures are still in the window: one more blocks again, until the next oldest is a window old.
    failedLogins.record('198.51.100.7', T0 + FAILED_LOGIN_WINDOW_MS);
    expect(failedLogins.isBlocked('198.51.100.7', T0 + FAILED_LOGIN_WINDOW_MS)).toBe(true);
    expect(failedLogins.isBlocked('198.51.100.7', T0 + FAILED_LOGIN_WINDOW_MS + 1)).toBe(false);
    expect(failedLogins.isBlocked('198.51.100.7', T0 + 2 * FAILED_LOGIN_WINDOW_MS + 10)).toBe(false);
  });

  it('does not block ten failures spread over more than a window', () => {
    const failedLogins = new FailedLogins();
    failTenTimes(failedLogins, '198.51.100.7', T0, 2 * FAILED_LOGIN_WINDOW_MS);
    expect(failedLogins.isBlocked('198.51.100.7', T0 + 2 * FAILED_LOGIN_WINDOW_MS + 1)).toBe(false);
  });
});
