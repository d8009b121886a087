import { afterEach, describe, expect, it } from 'vitest';
import { ProtocolError } from '../../src/protocol/protocol-error.js';
import { parseJsonSafely } from '../../src/protocol/safe-json.js';

const PROTOTYPE_KEYS = Object.getOwnPropertyNames(Object.prototype).toSorted();

function nestedArrays(depth: number): string {
  return '['.repeat(depth) + ']'.repeat(depth);
}

function nestedObjects(depth: number): string {
  return '{"a":'.repeat(depth - 1) + '{}' + '}'.repeat(depth - 1);
}

/** The kind of merge found in many applications, which a `__proto__` key turns into pollution. */
function naiveMerge(target: Record<string, unknown>, source: Record<string, unknown>): Record<string, unknown> {
  for (const key in source) {
    const value = source[key];
    const existing = target[key];
    if (typeof value === 'object' && value !== null && typeof existing === 'object' && existing !== null) {
      naiveMerge(existing as Record<string, unknown>, value as Record<string, unknown>);
    } else if (typeof value === 'object' && value !== null && typeof existing === 'function') {
      naiveMerge(existing as unknown as Record<string, unknown>, value as Record<string, unknown>);
    } else {
      target[key] = value;
    }
  }
  return target;
}

function expectPrototypeUntouched(): void {
  expect(Object.getOwnPropertyNames(Object.prototype).toSorted()).toEqual(PROTOTYPE_KEYS);
  expect('polluted' in {}).toBe(false);
}

describe('parseJsonSafely', () => {
  afterEach(() => {
    // Keeps one failing test from poisoning the others.
    Reflect.deleteProperty(Object.prototype, 'polluted');
  });

  it('parses ordinary JSON', () => {
    expect(parseJsonSafely('{"a":[1,"x",null,true,{"b":2}]}', 32)).toEqual({ a: [1, 'x', null, true, { b: 2 }] });
    expect(parseJsonSafely('"text"', 1)).toBe('text');
    expect(parseJsonSafely('42', 1)).toBe(42);
  });

  it.each(['', '{', '{"a":}', "{'a':1}", '[1,]', 'undefined', '{"a":1}x'])('rejects malformed JSON %j', (text) => {
    expect(() => parseJsonSafely(text, 32)).toThrow(ProtocolError);
  });

  describe('depth limit', () => {
    it.each([
      ['arrays', nestedArrays],
      ['objects', nestedObjects],
    ])('accepts %s nested exactly to the limit and rejects one level more', (_, nested) => {
      expect(() => parseJsonSafely(nested(32), 32)).not.toThrow();
      expect(() => parseJsonSafely(nested(33), 32)).toThrow(
        new ProtocolError('Message nests deeper than the maximum depth of 32.'),
      );
    });

    it('counts arrays and objects together', () => {
      expect(() => parseJsonSafely('{"a":[{"b":[]}]}', 4)).not.toThrow();
      expect(() => parseJsonSafely('{"a":[{"b":[[]]}]}', 4)).toThrow(ProtocolError);
    });

    it('does not count brackets inside strings, escaped quotes included', () => {
      const text = JSON.stringify({ a: '[[[[{{{{', b: '"[[[[\\"{{{{', c: ['\\', '['] });
      expect(parseJsonSafely(text, 2)).toEqual(JSON.parse(text));
    });

    it.each([
      ['arrays', '['.repeat(100_000)],
      ['objects', '{"a":'.repeat(100_000)],
      ['closed arrays', nestedArrays(100_000)],
    ])('rejects a 100k-deep bomb of %s without overflowing the stack', (_, bomb) => {
      expect(() => parseJsonSafely(bomb, 32)).toThrow(ProtocolError);
    });
  });

  describe('prototype pollution', () => {
    it.each([
      ['__proto__', '{"__proto__":{"polluted":1}}'],
      ['escaped __proto__', '{"\\u005f\\u005fproto\\u005f\\u005f":{"polluted":1}}'],
      ['nested __proto__', '{"a":[{"__proto__":{"polluted":1}}]}'],
      ['constructor.prototype', '{"constructor":{"prototype":{"polluted":1}}}'],
      ['escaped constructor.prototype', '{"constructor":{"\\u0070rototype":{"polluted":1}}}'],
    ])('drops %s so that even a naive merge cannot pollute', (_, text) => {
      const parsed = parseJsonSafely(text, 32) as Record<string, unknown>;
      expectPrototypeUntouched();
      expect(JSON.stringify(parsed)).not.toContain('polluted');
      naiveMerge({}, parsed);
      expect(Object.getPrototypeOf(Object.assign({}, parsed))).toBe(Object.prototype);
      expectPrototypeUntouched();
    });

    it('keeps the other keys of an object that carried __proto__', () => {
      const parsed = parseJsonSafely('{"a":1,"__proto__":{"polluted":1},"b":[2]}', 32);
      expect(parsed).toEqual({ a: 1, b: [2] });
      expect(Object.hasOwn(parsed as object, '__proto__')).toBe(false);
      expect(Object.getPrototypeOf(parsed)).toBe(Object.prototype);
    });

    it('keeps harmless keys named constructor or prototype', () => {
      expect(parseJsonSafely('{"constructor":"Alice","prototype":1}', 32)).toEqual({ constructor: 'Alice', prototype: 1 });
      expect(parseJsonSafely('{"constructor":{"name":"x"}}', 32)).toEqual({ constructor: { name: 'x' } });
    });

    it('is what keeps the naive merge safe', () => {
      // Control: the same text through plain JSON.parse does pollute, so the tests above test something.
      naiveMerge({}, JSON.parse('{"__proto__":{"polluted":1}}') as Record<string, unknown>);
      expect('polluted' in {}).toBe(true);
    });
  });
});
