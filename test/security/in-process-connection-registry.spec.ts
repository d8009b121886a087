import { afterEach, describe, expect, it, vi } from 'vitest';
import { InProcessConnectionRegistry } from '../../src/security/in-process-connection-registry.js';

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

  it('forgets an id once its hold or its end has run out', async () => {
    vi.useFakeTimers({ now: 0 });
    const registry = new InProcessConnectionRegistry();
    await registry.claim('a', 1_000);
    await registry.end('b', 1_000);
    vi.setSystemTime(1_000);
    await expect(registry.claim('a', 1_000)).resolves.toBe('claimed');
    await expect(registry.claim('b', 1_000)).resolves.toBe('claimed');
  });

  it('hands the recorded membership version to a takeover, and none when nothing was recorded', async () => {
    const registry = new InProcessConnectionRegistry();
    await expect(registry.takeOver('unknown', 1_000)).resolves.toEqual({ membershipVersion: undefined });
    await registry.claim('a', 1_000);
    await registry.recordMembership('a', 4, 60_000);
    await expect(registry.takeOver('a', 60_000)).resolves.toEqual({ membershipVersion: 4 });
  });

  it('records no membership for an ended connection', async () => {
    const registry = new InProcessConnectionRegistry();
    await registry.end('a', 60_000);
    await registry.recordMembership('a', 9, 60_000);
    await expect(registry.claim('a', 1_000)).resolves.toBe('ended');
  });
});
