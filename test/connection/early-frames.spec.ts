import { describe, expect, it } from 'vitest';
import { EarlyFrames } from '../../src/connection/early-frames.js';

describe('EarlyFrames', () => {
  it('gives back what it held, in order, once', () => {
    const early = new EarlyFrames(3, 100);
    const frames = [Buffer.from('a'), Buffer.from('bb'), Buffer.from('ccc')];
    for (const frame of frames) expect(early.hold(frame)).toBe(true);
    expect(early.take()).toEqual(frames);
    expect(early.take()).toEqual([]);
  });

  it('refuses the frame past the count or past the bytes, and keeps nothing of it', () => {
    const counted = new EarlyFrames(2, 100);
    expect(counted.hold(Buffer.from('a'))).toBe(true);
    expect(counted.hold(Buffer.from('b'))).toBe(true);
    expect(counted.hold(Buffer.from('c'))).toBe(false);
    expect(counted.take()).toHaveLength(2);

    const weighed = new EarlyFrames(10, 5);
    expect(weighed.hold(Buffer.alloc(5))).toBe(true);
    expect(weighed.hold(Buffer.alloc(1))).toBe(false);
    expect(weighed.take()).toHaveLength(1);
  });
});
