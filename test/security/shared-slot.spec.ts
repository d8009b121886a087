import { describe, expect, it } from 'vitest';
import { connectionCaps } from '../../src/options/signalr-module-options.js';
import { ConnectionCaps } from '../../src/security/connection-caps.js';
import { SharedSlot } from '../../src/security/shared-slot.js';

const PATH = '/signalr';

function sharedUnderCapOfOne(): { caps: ConnectionCaps; slot: SharedSlot } {
  const caps = new ConnectionCaps(connectionCaps({ maximumConnections: 1 }), { warn: () => undefined });
  const taken = caps.take(PATH, 'alice', undefined);
  if (!taken.admitted) throw new Error('the first slot was refused');
  return { caps, slot: new SharedSlot(taken) };
}

describe('SharedSlot', () => {
  it('gives its slot back once every share was released and it was sealed, whatever the order, once', () => {
    const { caps, slot } = sharedUnderCapOfOne();
    const shares = [slot.share(), slot.share()];
    slot.seal();
    shares[0]!.release();
    shares[0]!.release();
    expect(caps.check(PATH, 'bob', undefined)?.status).toBe(503);
    shares[1]!.release();
    expect(caps.check(PATH, 'bob', undefined)).toBeUndefined();
    expect(caps.take(PATH, 'bob', undefined).admitted).toBe(true);
    // A share released again must not give back the slot bob now holds.
    shares[1]!.release();
    expect(caps.check(PATH, 'carol', undefined)?.status).toBe(503);
  });

  it('keeps its slot while shares may still be handed out, and gives it back when sealed with none held', () => {
    const { caps, slot } = sharedUnderCapOfOne();
    slot.share().release();
    expect(caps.check(PATH, 'bob', undefined)?.status).toBe(503);
    slot.seal();
    expect(caps.check(PATH, 'bob', undefined)).toBeUndefined();
  });
});
