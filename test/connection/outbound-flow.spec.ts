import { afterEach, describe, expect, it, vi } from 'vitest';
import { STREAM_PAUSE_BYTES, STREAM_RESUME_BYTES } from '../../src/options/hub-options.js';
import { OutboundFlow } from '../../src/connection/outbound-flow.js';

function flowOver(replayLimit = 1000) {
  const backlog = { unwritten: 0, unacknowledged: 0 };
  const flow = new OutboundFlow(
    { unwrittenBytes: () => backlog.unwritten, unacknowledgedBytes: () => backlog.unacknowledged },
    replayLimit,
  );
  return { backlog, flow };
}

describe('OutboundFlow', () => {
  it('lets producers go on without a promise while the client keeps up', () => {
    const { backlog, flow } = flowOver();
    backlog.unwritten = STREAM_PAUSE_BYTES - 1;
    expect(flow.whenWritable()).toBeUndefined();
  });

  it('holds producers from the pause threshold until the socket is down to the resume threshold', async () => {
    const { backlog, flow } = flowOver();
    backlog.unwritten = STREAM_PAUSE_BYTES;
    let woken = 0;
    void flow.whenWritable()!.then(() => woken++);
    void flow.whenWritable()!.then(() => woken++);

    backlog.unwritten = STREAM_RESUME_BYTES + 1;
    flow.check();
    await Promise.resolve();
    expect(woken).toBe(0);
    expect(flow.whenWritable()).toBeInstanceOf(Promise);

    backlog.unwritten = STREAM_RESUME_BYTES - 1;
    flow.check();
    await Promise.resolve();
    expect(woken).toBe(2);
    expect(flow.whenWritable()).toBeUndefined();
  });

  it('holds producers while a stateful client has more than the replay limit unacknowledged', async () => {
    const { backlog, flow } = flowOver(1000);
    backlog.unacknowledged = 1001;
    const waiting = flow.whenWritable();
    expect(waiting).toBeInstanceOf(Promise);
    backlog.unacknowledged = 1000;
    flow.check();
    await expect(waiting).resolves.toBeUndefined();
  });

  it('wakes everyone when the connection goes, whatever its backlog', async () => {
    const { backlog, flow } = flowOver();
    backlog.unwritten = 10 * STREAM_PAUSE_BYTES;
    const waiting = flow.whenWritable();
    flow.release();
    await expect(waiting).resolves.toBeUndefined();
    expect(flow.whenWritable()).toBeUndefined();
  });

  it('asks for write reports only while producers wait, and looks again by itself when none comes', async () => {
    vi.useFakeTimers();
    const { backlog, flow } = flowOver();
    expect(flow.hasWaiters).toBe(false);
    backlog.unwritten = STREAM_PAUSE_BYTES;
    let woken = false;
    void flow.whenWritable()!.then(() => (woken = true));
    expect(flow.hasWaiters).toBe(true);
    // The socket drained, but no frame that carried a report was written.
    backlog.unwritten = 0;
    await vi.advanceTimersByTimeAsync(20);
    expect(woken).toBe(true);
    expect(flow.hasWaiters).toBe(false);
  });
});

afterEach(() => vi.useRealTimers());
