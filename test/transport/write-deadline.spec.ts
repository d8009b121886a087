import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { WriteDeadline } from '../../src/transport/write-deadline.js';

function deadlineOf(timeoutMs: number) {
  const stalls: number[] = [];
  const deadline = new WriteDeadline(timeoutMs, () => stalls.push(Date.now()));
  return { deadline, stalls };
}

describe('WriteDeadline', () => {
  beforeEach(() => vi.useFakeTimers({ now: 0 }));
  afterEach(() => vi.useRealTimers());

  it('reports a write still waiting at the timeout, once', () => {
    const { deadline, stalls } = deadlineOf(100);
    deadline.started();
    vi.advanceTimersByTime(99);
    expect(stalls).toEqual([]);
    vi.advanceTimersByTime(1_000);
    expect(stalls).toEqual([100]);
  });

  it('reports nothing when every write finished in time', () => {
    const { deadline, stalls } = deadlineOf(100);
    deadline.started();
    vi.advanceTimersByTime(80);
    deadline.finished();
    vi.advanceTimersByTime(1_000);
    expect(stalls).toEqual([]);
  });

  it('gives a write started after a finished one its full time', () => {
    const { deadline, stalls } = deadlineOf(100);
    deadline.started();
    vi.advanceTimersByTime(80);
    deadline.finished();
    vi.advanceTimersByTime(10);
    deadline.started();
    vi.advanceTimersByTime(99);
    expect(stalls).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(stalls).toEqual([190]);
  });

  it('times overlapping writes from the last that finished: one left waiting gets the timeout from then', () => {
    const { deadline, stalls } = deadlineOf(100);
    deadline.started();
    vi.advanceTimersByTime(50);
    deadline.started();
    vi.advanceTimersByTime(10);
    deadline.finished();
    vi.advanceTimersByTime(99);
    expect(stalls).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(stalls).toEqual([160]);
  });

  it('reports nothing once disposed, and counts afresh after', () => {
    const { deadline, stalls } = deadlineOf(100);
    deadline.started();
    deadline.started();
    deadline.dispose();
    vi.advanceTimersByTime(1_000);
    expect(stalls).toEqual([]);
    deadline.started();
    deadline.finished();
    vi.advanceTimersByTime(1_000);
    expect(stalls).toEqual([]);
  });
});
