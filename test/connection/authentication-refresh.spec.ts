import { describe, expect, it } from 'vitest';
import { tokenLifetimeSeconds } from '../../src/connection/authentication-refresh.js';

// What negotiate and the refresh answer announce: whole seconds, a JSON integer the .NET client
// accepts (it fails negotiate on a fraction or on a value past Int32), absent when nothing is left.
describe('tokenLifetimeSeconds', () => {
  const now = 1_000_000_000_000;

  it('counts the whole seconds left, rounding down', () => {
    expect(tokenLifetimeSeconds(now + 59_999, now)).toBe(59);
    expect(tokenLifetimeSeconds(now + 60_000, now)).toBe(60);
    expect(Number.isInteger(tokenLifetimeSeconds(now + 1_234, now))).toBe(true);
  });

  it('announces nothing for a credential without expiry, or with less than a second left', () => {
    expect(tokenLifetimeSeconds(undefined, now)).toBeUndefined();
    expect(tokenLifetimeSeconds(now + 999, now)).toBeUndefined();
    expect(tokenLifetimeSeconds(now - 5_000, now)).toBeUndefined();
  });

  it("stays within the .NET client's Int32", () => {
    expect(tokenLifetimeSeconds(now + 1e13, now)).toBe(2 ** 31 - 1);
  });
});
