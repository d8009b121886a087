import { describe, expect, it } from 'vitest';
import { Liveness, LivenessVerdict } from '../../src/connection/liveness.js';

/** A tick clock the spec moves by hand: what the keep-alive ticker does once per tick. */
function clockAt(now: number, resolutionMs = 100) {
  return { now, resolutionMs };
}

describe('Liveness', () => {
  it('asks for a Ping once nothing was sent for the keep-alive interval, and not after a send', () => {
    const clock = clockAt(0);
    const liveness = new Liveness(clock);
    expect(liveness.verdict(99, 100, 1000, true)).toBe(LivenessVerdict.Fine);
    expect(liveness.verdict(100, 100, 1000, true)).toBe(LivenessVerdict.PingDue);
    clock.now = 150;
    liveness.sent();
    expect(liveness.verdict(200, 100, 1000, true)).toBe(LivenessVerdict.Fine);
    expect(liveness.verdict(250, 100, 1000, true)).toBe(LivenessVerdict.PingDue);
  });

  it('finds a client silent only once it surely was for the whole timeout: a stamp may lag its message by a tick', () => {
    const clock = clockAt(0);
    const liveness = new Liveness(clock);
    clock.now = 900;
    liveness.sent();
    expect(liveness.verdict(1099, 100_000, 1000, true)).toBe(LivenessVerdict.Fine);
    expect(liveness.verdict(1100, 100_000, 1000, true)).toBe(LivenessVerdict.Silent);
    expect(liveness.verdict(1100, 100_000, 1000, false)).toBe(LivenessVerdict.Fine);
    clock.now = 1000;
    liveness.received();
    expect(liveness.verdict(2099, 100_000, 1000, true)).toBe(LivenessVerdict.Fine);
    expect(liveness.verdict(2100, 100_000, 1000, true)).toBe(LivenessVerdict.Silent);
  });

  it('is next due at the earlier of its Ping and its silence, or at its Ping while silence is not checked', () => {
    const clock = clockAt(0);
    const liveness = new Liveness(clock);
    expect(liveness.nextDue(15_000, 30_000, true)).toBe(15_000);
    clock.now = 20_000;
    liveness.sent();
    expect(liveness.nextDue(15_000, 30_000, true)).toBe(30_100);
    expect(liveness.nextDue(15_000, 30_000, false)).toBe(35_000);
    liveness.received();
    expect(liveness.nextDue(15_000, 30_000, true)).toBe(35_000);
  });
});
