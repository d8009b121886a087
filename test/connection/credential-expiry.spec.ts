import { afterEach, describe, expect, it, vi } from 'vitest';
import { CredentialExpiry } from '../../src/connection/credential-expiry.js';

describe('CredentialExpiry', () => {
  afterEach(() => vi.useRealTimers());

  it('fires at the expiry of the credential it was armed with last', () => {
    vi.useFakeTimers({ now: 0 });
    const expired = vi.fn();
    const expiry = new CredentialExpiry(expired);
    expiry.arm(1000);
    expiry.arm(5000);
    vi.advanceTimersByTime(4999);
    expect(expired).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(expired).toHaveBeenCalledTimes(1);
  });

  it('waits past the 24.8-day ceiling of one timer, and never fires once cleared or for no expiry', () => {
    vi.useFakeTimers({ now: 0 });
    const expired = vi.fn();
    const expiry = new CredentialExpiry(expired);
    const farAway = 40 * 24 * 3600 * 1000;
    expiry.arm(farAway);
    vi.advanceTimersByTime(farAway - 1);
    expect(expired).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(expired).toHaveBeenCalledTimes(1);

    expiry.arm(farAway + 10);
    expiry.clear();
    expiry.arm(undefined);
    vi.advanceTimersByTime(farAway);
    expect(expired).toHaveBeenCalledTimes(1);
  });
});
