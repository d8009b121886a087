import { describe, expect, it } from 'vitest';
import { KeepAliveWheel } from '../../src/connection/keep-alive-wheel.js';

class Item {
  wheelSlot = -1;
  constructor(readonly name: string) {}
}

/** Ticks the wheel `times` times from `start`, 100 ms apart; returns who was visited at which time. */
function run(wheel: KeepAliveWheel<Item>, start: number, times: number, answer: (item: Item, now: number) => number | undefined): string[] {
  const visits: string[] = [];
  for (let tick = 1; tick <= times; tick++) {
    const now = start + tick * 100;
    wheel.advance(now, (item) => {
      visits.push(`${item.name}@${now}`);
      return answer(item, now);
    });
  }
  return visits;
}

describe('KeepAliveWheel', () => {
  it('visits an item at the first tick at or after its due time, and again when it answers', () => {
    const wheel = new KeepAliveWheel<Item>(100, 1000);
    const a = new Item('a');
    const b = new Item('b');
    wheel.schedule(a, 250, 0);
    wheel.schedule(b, 0, 0);
    expect(run(wheel, 0, 8, (item, now) => (item === a ? now + 400 : undefined))).toEqual(['b@100', 'a@300', 'a@700']);
    expect(b.wheelSlot).toBe(-1);
  });

  it('waits an item due beyond its horizon in the farthest slot, where it is asked again', () => {
    const wheel = new KeepAliveWheel<Item>(100, 300);
    const far = new Item('far');
    wheel.schedule(far, 10_000, 0);
    expect(run(wheel, 0, 8, (_item, now) => (now < 10_000 ? 10_000 : undefined))).toEqual(['far@300', 'far@600']);
  });

  it('never visits a removed item, even one removed from the slot being visited', () => {
    const wheel = new KeepAliveWheel<Item>(100, 1000);
    const a = new Item('a');
    const b = new Item('b');
    const c = new Item('c');
    for (const item of [a, b, c]) wheel.schedule(item, 100, 0);
    wheel.remove(c);
    expect(run(wheel, 0, 3, (item) => {
      if (item === a) wheel.remove(b);
      return undefined;
    })).toEqual(['a@100', 'b@100']);
  });
});
