import { describe, expect, it } from 'vitest';
import { formatDateTime, toJsonValue } from '../../src/protocol/json-values.js';

describe('toJsonValue: values as ASP.NET Core writes them in JSON', () => {
  it('writes bytes as base64, as it writes byte[]: Uint8Array, Buffer, and only the bytes a view shows', () => {
    expect(toJsonValue(new Uint8Array([1, 2, 3]))).toBe('AQID');
    expect(toJsonValue(Buffer.from('hello'))).toBe('aGVsbG8=');
    expect(toJsonValue(new Uint8Array([9, 1, 2, 3, 9]).subarray(1, 4))).toBe('AQID');
    expect(toJsonValue(new Uint8Array(0))).toBe('');
  });

  it('writes dates as it writes a UTC DateTime', () => {
    expect(toJsonValue(new Date(Date.UTC(2000, 0, 1)))).toBe('2000-01-01T00:00:00Z');
  });

  it('replaces them at any depth, in arrays and objects, class instances included', () => {
    class Reading {
      constructor(readonly at: Date) {}
    }
    const payload = [1, { raw: Buffer.from([1]), list: [new Date(Date.UTC(2001, 1, 2, 3, 4, 5, 600))] }, new Reading(new Date(0))];
    expect(toJsonValue(payload)).toEqual([1, { raw: 'AQ==', list: ['2001-02-02T03:04:05.6Z'] }, { at: '1970-01-01T00:00:00Z' }]);
  });

  it('returns a payload without bytes or dates as it is, and copies only what leads to one', () => {
    const plain = { a: [1, 'two', null], b: { c: true } };
    expect(toJsonValue(plain)).toBe(plain);
    const mixed = { untouched: { c: true }, at: new Date(0) };
    const written = toJsonValue(mixed) as typeof mixed;
    expect(written).not.toBe(mixed);
    expect(written.untouched).toBe(mixed.untouched);
    expect(mixed.at).toBeInstanceOf(Date);
  });

  it('returns primitives as they are, null and NaN included, and copies no array or object holding only them', () => {
    for (const value of [null, undefined, 0, Number.NaN, 'text', true, 10n]) expect(toJsonValue(value)).toBe(value);
    const array = [Number.NaN, null, {}, [1]];
    expect(toJsonValue(array)).toBe(array);
    const object = { nan: Number.NaN, none: null, empty: {}, list: [1] };
    expect(toJsonValue(object)).toBe(object);
  });

  it('reads only own properties, as JSON.stringify writes only them', () => {
    const payload = Object.assign(Object.create({ inherited: new Date(0) }) as Record<string, unknown>, { own: 1 });
    expect(toJsonValue(payload)).toBe(payload);
    expect(JSON.stringify(toJsonValue(payload))).toBe('{"own":1}');
  });

  it('leaves an object with its own toJSON to it', () => {
    const custom = { when: new Date(0), toJSON: () => 'custom' };
    expect(toJsonValue(custom)).toBe(custom);
    expect(JSON.stringify(toJsonValue([custom]))).toBe('["custom"]');
  });

  it('leaves a circular payload for JSON.stringify to refuse, rather than following it forever', () => {
    const circular: { self?: unknown; at: Date } = { at: new Date(0) };
    circular.self = circular;
    expect(() => JSON.stringify(toJsonValue(circular))).toThrow(TypeError);
    const loop: unknown[] = [new Date(0)];
    loop.push(loop);
    expect(toJsonValue(loop)).not.toBe(loop);
    expect(() => JSON.stringify(toJsonValue(loop))).toThrow(TypeError);
  });
});

describe('formatDateTime', () => {
  it.each([
    [Date.UTC(2000, 0, 1), '2000-01-01T00:00:00Z'],
    [Date.UTC(2002, 3, 1, 10, 20, 15), '2002-04-01T10:20:15Z'],
    [Date.UTC(2002, 3, 1, 10, 20, 10), '2002-04-01T10:20:10Z'],
    [Date.UTC(2002, 3, 1, 10, 20, 15, 500), '2002-04-01T10:20:15.5Z'],
    [Date.UTC(2002, 3, 1, 10, 20, 15, 120), '2002-04-01T10:20:15.12Z'],
    [Date.UTC(2002, 3, 1, 10, 20, 15, 7), '2002-04-01T10:20:15.007Z'],
  ])('writes %s as %s: a fraction only when there is one, without trailing zeros', (time, text) => {
    expect(formatDateTime(new Date(time))).toBe(text);
  });

  it('writes an invalid date as null, as JSON.stringify does', () => {
    expect(formatDateTime(new Date(Number.NaN))).toBeNull();
  });
});
