import { describe, expect, it } from 'vitest';
import { MessageType, type HubMessage } from '../../src/protocol/hub-message.js';
import { StatefulReconnectBuffer } from '../../src/connection/stateful-reconnect-buffer.js';

const invocation = (n: number): HubMessage => ({ type: MessageType.Invocation, target: 'Record', arguments: [n] });

describe('StatefulReconnectBuffer', () => {
  it('replays what the client has not acknowledged, from the first unacknowledged number', () => {
    const buffer = new StatefulReconnectBuffer();
    for (const payload of ['one', 'two', 'three']) buffer.recordSent(payload);
    buffer.acknowledge(1);
    expect(buffer.replay()).toEqual({ sequenceId: 2, payloads: ['two', 'three'] });
    expect(buffer.bufferedBytes).toBe('twothree'.length);
  });

  it('skips what a reconnecting client sends again, and refuses a Sequence ahead of what arrived', () => {
    const buffer = new StatefulReconnectBuffer();
    expect([1, 2, 3].map((n) => buffer.accept(invocation(n)))).toEqual([true, true, true]);
    expect(buffer.resetIncoming(5)).toBe(false);
    expect(buffer.resetIncoming(2)).toBe(true);
    expect([2, 3, 4].map((n) => buffer.accept(invocation(n)))).toEqual([false, false, true]);
    expect(buffer.pendingAck()).toBe(4);
  });

  describe('after a takeover from a node that lost the state', () => {
    it('numbers outgoing messages on from what the client received', () => {
      const buffer = StatefulReconnectBuffer.afterTakeover(41);
      expect(buffer.replay()).toEqual({ sequenceId: 42, payloads: [] });
      buffer.recordSent('next');
      expect(buffer.replay()).toEqual({ sequenceId: 42, payloads: ['next'] });
    });

    it('takes the client’s numbering from its Sequence and handles its replay (at least once)', () => {
      const buffer = StatefulReconnectBuffer.afterTakeover(0);
      expect(buffer.resetIncoming(17)).toBe(true);
      expect([17, 18].map((n) => buffer.accept(invocation(n)))).toEqual([true, true]);
      expect(buffer.pendingAck()).toBe(18);
      // Only the first Sequence is adopted; later ones follow the usual rule.
      expect(buffer.resetIncoming(30)).toBe(false);
    });

    it('refuses a Sequence that names no message', () => {
      expect(StatefulReconnectBuffer.afterTakeover(3).resetIncoming(0)).toBe(false);
    });
  });
});
