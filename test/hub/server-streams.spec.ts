import { describe, expect, it } from 'vitest';
import { ServerStreams } from '../../src/hub/server-streams.js';

function iteratorSpy(): { iterator: AsyncIterator<unknown>; returned: () => number } {
  let returns = 0;
  const iterator: AsyncIterator<unknown> = {
    next: async () => ({ value: undefined, done: true }),
    return: async () => {
      returns++;
      return { value: undefined, done: true };
    },
  };
  return { iterator, returned: () => returns };
}

describe('ServerStreams', () => {
  it('finds a stream to cancel from the moment it is opened, before it has an iterator', () => {
    const streams = new ServerStreams();
    const stream = streams.open('1');
    expect(streams.count).toBe(1);
    streams.cancel('1');
    expect(streams.has('1')).toBe(false);
    expect(streams.isRunning('1', stream)).toBe(false);
    expect(streams.count).toBe(0);
  });

  it('ends the iterator of a canceled stream once, and counts each stream until it ends', () => {
    const streams = new ServerStreams();
    const stream = streams.open('1');
    streams.open('2');
    const spy = iteratorSpy();
    stream.iterator = spy.iterator;
    streams.cancel('1');
    streams.cancel('1');
    expect(streams.end('1', stream)).toBe(false);
    expect(spy.returned()).toBe(1);
    expect(streams.count).toBe(1);
  });

  it('tells a stream from a newer one that reuses its id', () => {
    const streams = new ServerStreams();
    const old = streams.open('1');
    streams.cancel('1');
    const reused = streams.open('1');
    expect(streams.isRunning('1', old)).toBe(false);
    expect(streams.end('1', old)).toBe(false);
    expect(streams.isRunning('1', reused)).toBe(true);
    expect(streams.count).toBe(1);
  });

  it('closes every iterator when the connection goes', () => {
    const streams = new ServerStreams();
    const spies = [iteratorSpy(), iteratorSpy()];
    spies.forEach((spy, i) => (streams.open(String(i)).iterator = spy.iterator));
    streams.open('not started yet');
    streams.closeAll();
    expect(spies.map((spy) => spy.returned())).toEqual([1, 1]);
    expect(streams.has('0')).toBe(false);
    expect(streams.count).toBe(0);
  });
});
