import { afterEach, describe, expect, it, vi } from 'vitest';
import { InProcessConnectionRegistry } from '../../src/security/in-process-connection-registry.js';

/**
 * How many ids the registry keeps in memory. Expired entries already answer as unknown, so
 * what the sweep protects, a process's memory over days of connections, shows only here.
 */
const heldIds = (registry: InProcessConnectionRegistry): number => (registry as unknown as { entries: Map<string, unknown> }).entries.size;

describe('InProcessConnectionRegistry', () => {
  afterEach(() => vi.useRealTimers());

  it('claims an id once: live while held, ended after its end', async () => {
    const registry = new InProcessConnectionRegistry();
    await expect(registry.claim('a', 15_000)).resolves.toBe('claimed');
    await expect(registry.claim('a', 15_000)).resolves.toBe('live');
    await registry.end('a', 15_000);
    await expect(registry.claim('a', 15_000)).resolves.toBe('ended');
    await expect(registry.takeOver('a', 15_000)).resolves.toBe('ended');
  });

  it('forgets an id the moment its hold or its end runs out, before a sweep drops it', async () => {
    vi.useFakeTimers({ now: 0 });
    const registry = new InProcessConnectionRegistry();
    await registry.claim('a', 100);
    await registry.end('b', 100);
    vi.setSystemTime(100);
    await expect(registry.claim('a', 1_000)).resolves.toBe('claimed');
    await expect(registry.takeOver('b', 1_000)).resolves.toEqual({ membershipVersion: undefined });
  });

  it('hands the recorded membership version to a takeover, and none when nothing was recorded', async () => {
    const registry = new InProcessConnectionRegistry();
    await expect(registry.takeOver('unknown', 1_000)).resolves.toEqual({ membershipVersion: undefined });
    await registry.claim('a', 1_000);
    await registry.recordMembership('a', 4, 60_000);
    await expect(registry.takeOver('a', 60_000)).resolves.toEqual({ membershipVersion: 4 });
  });

  it('holds a taken-over id, live and with its membership, for the hold it was taken over for', async () => {
    vi.useFakeTimers({ now: 0 });
    const registry = new InProcessConnectionRegistry();
    await registry.claim('a', 1_000);
    await registry.recordMembership('a', 4, 1_000);
    await registry.takeOver('a', 60_000);
    vi.setSystemTime(59_999);
    await expect(registry.claim('a', 1_000)).resolves.toBe('live');
    await expect(registry.takeOver('a', 60_000)).resolves.toEqual({ membershipVersion: 4 });
  });

  it('records no membership for an ended connection', async () => {
    const registry = new InProcessConnectionRegistry();
    await registry.end('a', 60_000);
    await registry.recordMembership('a', 9, 60_000);
    await expect(registry.claim('a', 1_000)).resolves.toBe('ended');
  });

  it('drops expired ids from memory, sweeping at most once a second', async () => {
    vi.useFakeTimers({ now: 0 });
    const registry = new InProcessConnectionRegistry();
    await registry.claim('held-briefly', 100);
    await registry.end('ended-briefly', 100);
    await registry.claim('held-long', 60_000);
    expect(heldIds(registry)).toBe(3);
    vi.setSystemTime(999);
    await registry.claim('claimed-before-the-next-sweep', 60_000);
    expect(heldIds(registry)).toBe(4);
    vi.setSystemTime(1_000);
    await registry.claim('claimed-at-the-next-sweep', 60_000);
    expect(heldIds(registry)).toBe(3);
    await expect(registry.claim('held-long', 60_000)).resolves.toBe('live');
  });

  it('sweeps on every kind of lookup, an entry the moment its hold runs out', async () => {
    vi.useFakeTimers({ now: 0 });
    const registry = new InProcessConnectionRegistry();
    await registry.claim('a', 3_000);
    vi.setSystemTime(1_999);
    await registry.recordMembership('other', 1, 60_000);
    expect(heldIds(registry)).toBe(2);
    await expect(registry.claim('a', 3_000)).resolves.toBe('live');
    vi.setSystemTime(3_000);
    await registry.end('other', 60_000);
    expect(heldIds(registry)).toBe(1);
    await registry.dispose();
    expect(heldIds(registry)).toBe(0);
  });
});
