import * as fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
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

/** What the parser must agree with: the reviver on every key, however the text spells it. */
function referenceParse(text: string): unknown {
  return JSON.parse(text, (key, value: unknown) => {
    if (key === '__proto__') return undefined;
    if (key === 'constructor' && typeof value === 'object' && value !== null && Object.hasOwn(value, 'prototype')) return undefined;
    return value;
  });
}

function depthOf(value: unknown): number {
  if (typeof value !== 'object' || value === null) return 0;
  return 1 + Math.max(0, ...Object.values(value).map(depthOf));
}

/**
 * Whether parsing `text` handed JSON.parse a reviver. The reviver makes parsing about twice as
 * slow, so it runs only on text the scan flags: a flag missing is pollution, a flag too many is
 * only that cost, and shows only here.
 */
function reviverUsedOn(text: string): boolean {
  const parse = vi.spyOn(JSON, 'parse');
  try {
    parseJsonSafely(text, 32);
    return parse.mock.calls.at(-1)?.[1] !== undefined;
  } finally {
    parse.mockRestore();
  }
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

  it.each(['', '{', '{"a":}', "{'a':1}", '[1,]', 'undefined', '{"a":1}x', '"abc', '{"a', '{"a":"b', '{"a\\":1}'])(
    'rejects malformed JSON %j as such',
    (text) => {
      expect(() => parseJsonSafely(text, 32)).toThrow(/^Message is not valid JSON: ./);
      expect(() => parseJsonSafely(text, 32)).toThrow(ProtocolError);
    },
  );

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

    it.each([
      ['whitespace before the colon', '{"__proto__" :\n{"polluted":1}}'],
      ['an escaped quote in an earlier key', '{"a\\"":1,"__proto__":{"polluted":1}}'],
      ['an escaped backslash ending an earlier string', '{"a":"\\\\","__proto__":{"polluted":1}}'],
      ['a backslash in an earlier value', '{"a":"line\\nbreak","\\u005f_proto__":{"polluted":1}}'],
      ['an escaped constructor', '{"\\u0063onstructor":{"prototype":{"polluted":1}}}'],
    ])('finds a prototype key after %s', (_, text) => {
      const parsed = parseJsonSafely(text, 32) as Record<string, unknown>;
      expect(JSON.stringify(parsed)).not.toContain('polluted');
      expect(parsed).toEqual(referenceParse(text));
    });

    it('agrees with a reviver on every key and a depth walk on every value (property)', () => {
      const key = fc.oneof(fc.string({ maxLength: 4 }), fc.constantFrom('__proto__', 'constructor', 'prototype', '\\', '"'));
      const value = fc.letrec((tie) => ({
        node: fc.oneof({ depthSize: 'small' }, fc.jsonValue({ maxDepth: 1 }), fc.array(tie('node'), { maxLength: 3 }), fc.dictionary(key, tie('node'), { maxKeys: 3 })),
      })).node;
      fc.assert(
        fc.property(value, fc.boolean(), fc.integer({ min: 1, max: 6 }), (tree, escapeKeys, maxDepth) => {
          const text = escapeKeys ? JSON.stringify(tree).replaceAll('_', '\\u005f').replaceAll('"c', '"\\u0063') : JSON.stringify(tree);
          const tooDeep = depthOf(JSON.parse(text)) > maxDepth;
          if (tooDeep) expect(() => parseJsonSafely(text, maxDepth)).toThrow(ProtocolError);
          else expect(parseJsonSafely(text, maxDepth)).toEqual(referenceParse(text));
          expectPrototypeUntouched();
        }),
        { numRuns: 500, seed: 7 },
      );
    });

    it('finds a prototype key before a colon behind any JSON whitespace', () => {
      const text = '{"__proto__" \t\r\n:{"polluted":1},"constructor"\t:{"prototype":{"polluted":1}}}';
      expect(parseJsonSafely(text, 32)).toEqual({});
    });

    it.each([' ', '\t', '\n', '\r'])('finds a prototype key behind %j alone before its colon', (whitespace) => {
      const text = `{"__proto__"${whitespace}:{"polluted":1}}`;
      expect(Object.hasOwn(parseJsonSafely(text, 32) as object, '__proto__')).toBe(false);
    });

    describe('the pre-filter: a reviver only where a key may name a prototype property', () => {
      it.each([
        ['prototype names as values', '{"a":"__proto__","b":["constructor"]}'],
        ['prototype names as array items, a key following', '["__proto__",{"a":1}]'],
        ['near names', '{"__proto__x":1,"constructors":2,"__proto_":3,"construct":4}'],
        ['escapes in values only', '{"a":"line\\nbreak","b":"\\u005f\\u005fproto\\u005f\\u005f"}'],
        ['a prototype name as the whole message', '"__proto__"'],
        ['a prototype name as the whole message, whitespace following', '"constructor" '],
        ['an escape in the whole message', '"a\\u0062"'],
        ['a name in a string that holds an escaped quote', '["\\"__proto__\\":"]'],
      ])('skips it for %s', (_, text) => {
        expect(reviverUsedOn(text)).toBe(false);
      });

      it.each([
        ['__proto__', '{"a":1,"__proto__":2}'],
        ['constructor', '{"constructor":{"name":"x"}}'],
        ['an escaped key, whatever it spells', '{"\\u0061":1}'],
      ])('uses it for %s as a key', (_, text) => {
        expect(reviverUsedOn(text)).toBe(true);
      });
    });

    it('is what keeps the naive merge safe', () => {
      // Control: the same text through plain JSON.parse does pollute, so the tests above test something.
      naiveMerge({}, JSON.parse('{"__proto__":{"polluted":1}}') as Record<string, unknown>);
      expect('polluted' in {}).toBe(true);
    });
  });
});
