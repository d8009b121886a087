import { describe, expect, it } from 'vitest';
import { flushAtEndOfTurn } from '../../src/connection/end-of-turn.js';

describe('flushAtEndOfTurn', () => {
  it('flushes after the promise reactions of the turn, and a failing flush spares the others', async () => {
    const order: string[] = [];
    flushAtEndOfTurn({ flush: () => order.push('first') });
    flushAtEndOfTurn({
      flush: () => {
        throw new Error('socket gone');
      },
    });
    flushAtEndOfTurn({ flush: () => order.push('third') });
    void Promise.resolve().then(() => order.push('reaction'));
    await new Promise((resolve) => setImmediate(resolve));
    expect(order).toEqual(['reaction', 'first', 'third']);
  });
});
