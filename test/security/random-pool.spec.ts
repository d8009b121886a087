import { describe, expect, it } from 'vitest';
import { pooledRandomBytes } from '../../src/security/random-pool.js';

describe('pooledRandomBytes', () => {
  it('hands out the sizes asked for, each draw different', () => {
    const draws = Array.from({ length: 1000 }, () => pooledRandomBytes(16));
    expect(draws.every((draw) => draw.length === 16)).toBe(true);
    expect(new Set(draws.map((draw) => draw.toString('hex'))).size).toBe(draws.length);
  });

  it('never changes bytes it handed out when it draws again', () => {
    const kept = pooledRandomBytes(12);
    const copy = Buffer.from(kept);
    // Several pools' worth of draws after it, including one larger than a pool.
    for (let i = 0; i < 2000; i++) pooledRandomBytes(12);
    pooledRandomBytes(10_000);
    expect(kept.equals(copy)).toBe(true);
  });

  it('gives a draw larger than a pool in full', () => {
    const large = pooledRandomBytes(10_000);
    expect(large.length).toBe(10_000);
    // 10,000 zero bytes from a CSPRNG would be a broken generator, not chance.
    expect(large.some((byte) => byte !== 0)).toBe(true);
  });

  it('serves draws from one batch until its last byte, then from a new one', () => {
    // A draw larger than a batch is served whole, so the next draw starts a batch of 4,096 bytes.
    pooledRandomBytes(5000);
    const first = pooledRandomBytes(16);
    const rest = pooledRandomBytes(4096 - 16);
    // Views of one buffer: one call into the CSPRNG served both, up to the batch's last byte.
    expect(rest.buffer).toBe(first.buffer);
    expect(rest.byteOffset).toBe(first.byteOffset + 16);
    const next = pooledRandomBytes(1);
    expect(next.buffer).not.toBe(first.buffer);
  });
});
