import { describe, expect, it } from 'vitest';
import { Liveness, LivenessVerdict } from '../../src/connection/liveness.js';

describe('Liveness', () => {
  it('asks for a Ping once nothing was sent for the keep-alive interval, and not after a send', () => {
    const liveness = new Liveness(0);
    expect(liveness.verdict(99, 100, 1000, true)).toBe(LivenessVerdict.Fine);
    expect(liveness.verdict(100, 100, 1000, true)).toBe(LivenessVerdict.PingDue);
    liveness.sent();
    liveness.received();
    liveness.fold(150);
    expect(liveness.verdict(200, 100, 1000, true)).toBe(LivenessVerdict.Fine);
  });

  it('finds a client silent for the client timeout, unless silence is not being checked', () => {
    const liveness = new Liveness(0);
    liveness.sent();
    liveness.fold(900);
    expect(liveness.verdict(1000, 100_000, 1000, true)).toBe(LivenessVerdict.Silent);
    expect(liveness.verdict(1000, 100_000, 1000, false)).toBe(LivenessVerdict.Fine);
    liveness.received();
    liveness.fold(1000);
    expect(liveness.verdict(1999, 100_000, 1000, true)).toBe(LivenessVerdict.Fine);
  });

  it('counts only what happened before the fold: a message after it waits for the next tick', () => {
    const liveness = new Liveness(0);
    liveness.fold(500);
    liveness.received();
    expect(liveness.verdict(1000, 100_000, 1000, true)).toBe(LivenessVerdict.Silent);
  });
});
