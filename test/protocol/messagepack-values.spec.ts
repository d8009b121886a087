import { encode, ExtData } from '@msgpack/msgpack';
import { describe, expect, it } from 'vitest';
import { inspectMessagePack, MessagePackValueReader } from '../../src/protocol/messagepack-values.js';
import { ProtocolError } from '../../src/protocol/protocol-error.js';
import { hex } from './frames.js';

/** Bytes from hex, as a plain Uint8Array: what the protocol hands the reader (a Buffer's slice would not copy). */
function bytesOf(text: string): Uint8Array {
  return new Uint8Array(hex(text));
}

const PROTO = '5f5f70726f746f5f5f'; // "__proto__"
const reader = new MessagePackValueReader(32);

function invalid(problem: string): ProtocolError {
  return new ProtocolError(`Message is not valid MessagePack: ${problem}.`);
}

describe('MessagePackValueReader', () => {
  it('reads every integer and float encoding as a number, 64-bit ones included', () => {
    const body = bytesOf(`9f 00 7f e0 ff cc ff cd ffff ce ffffffff cf 0000010000000000
      d0 80 d1 8000 d2 80000000 d3 ffffff0000000000 ca 3fc00000 cb 3ff8000000000000 c0`);
    expect(reader.read(body)).toStrictEqual([
      0, 127, -32, -1, 255, 65_535, 4_294_967_295, 2 ** 40, -128, -32_768, -(2 ** 31), -(2 ** 40), 1.5, 1.5, null,
    ]);
  });

  it('reads every string, binary and extension encoding, each length right up to the end of the body', () => {
    const body = bytesOf(`dc 0010 d9 02 6869 da 0002 6869 db 00000002 6869
      c4 02 0102 c5 0002 0102 c6 00000002 0102
      d4 05 01 d5 05 0102 d6 05 01020304 c7 02 05 0102 c8 0002 05 0102 c9 00000002 05 0102
      d9 00 c4 00 c7 00 05 dc 0000`);
    const bytes = new Uint8Array([1, 2]);
    expect(reader.read(body)).toStrictEqual([
      'hi', 'hi', 'hi', bytes, bytes, bytes,
      new ExtData(5, new Uint8Array([1])), new ExtData(5, bytes), new ExtData(5, new Uint8Array([1, 2, 3, 4])),
      new ExtData(5, bytes), new ExtData(5, bytes), new ExtData(5, bytes),
      '', new Uint8Array(0), new ExtData(5, new Uint8Array(0)), [],
    ]);
  });

  it('reads the 8- and 16-byte fixext and the long container encodings', () => {
    const eight = '0102030405060708';
    expect(reader.read(bytesOf(`94 d7 05 ${eight} d8 05 ${eight}${eight} df 00000001 a1 61 01 dd 00000002 01 02`))).toStrictEqual([
      new ExtData(5, bytesOf(eight)),
      new ExtData(5, bytesOf(eight + eight)),
      { a: 1 },
      [1, 2],
    ]);
    const sixteen = Object.fromEntries(Array.from({ length: 16 }, (_, i) => [`k${i}`, i]));
    const map16 = encode(sixteen);
    expect(map16[0]).toBe(0xde);
    expect(reader.read(map16)).toStrictEqual(sixteen);
  });

  it('counts containers only, not empty strings or other values, against the depth limit', () => {
    const shallow = new MessagePackValueReader(2);
    expect(shallow.read(encode([[''], { '': '' }, [], {}, [null, 0, -1]]))).toStrictEqual([[''], { '': '' }, [], {}, [null, 0, -1]]);
    expect(() => shallow.read(encode([[[]]]))).toThrow(new ProtocolError('Message nests deeper than the maximum depth of 2.'));
  });

  it('names the byte that starts no value and where it is', () => {
    expect(() => reader.read(bytesOf('92 01 c1'))).toThrow(invalid('byte 0xc1 at 2 starts no MessagePack value'));
  });

  describe('keys that could reach Object.prototype', () => {
    it('refuses __proto__ as a key, after a nested value of the same map too', () => {
      expect(() => reader.read(bytesOf(`81 a9 ${PROTO} 01`))).toThrow(invalid("a map has the key '__proto__'"));
      expect(() => reader.read(bytesOf(`82 a1 61 91 01 a9 ${PROTO} 01`))).toThrow(invalid("a map has the key '__proto__'"));
    });

    it('keeps __proto__ as a value, after a nested value of the same array too', () => {
      expect(reader.read(bytesOf(`93 91 01 a9 ${PROTO} a1 78`))).toStrictEqual([[1], '__proto__', 'x']);
      expect(reader.read(bytesOf(`82 a1 61 a9 ${PROTO} a1 62 91 01`))).toStrictEqual({ a: '__proto__', b: [1] });
    });

    it('keeps keys that only start like __proto__ or are a part of it', () => {
      expect(reader.read(encode({ __proto: 1, __proto__x: 2, _: 3 }))).toStrictEqual({ __proto: 1, __proto__x: 2, _: 3 });
    });

    it('looks for __proto__ in string keys only: other types of key are the decoder’s to refuse', () => {
      // A fixext 8 whose type byte and data spell "__proto__".
      expect(() => reader.read(bytesOf(`81 d7 ${PROTO} 01`))).toThrow(
        new ProtocolError('Message is not valid MessagePack: The type of key must be string or number but object'),
      );
    });

    it('drops constructor keys holding a prototype, after a nested value of the same map too', () => {
      const value = { a: [1], constructor: { prototype: { polluted: true } }, b: { prototype: 2 }, c: { constructor: 'x' } };
      expect(reader.read(encode(value))).toStrictEqual({ a: [1], b: { prototype: 2 }, c: { constructor: 'x' } });
    });
  });

  it('copies binaries and extension data nested in maps out of the body', () => {
    const body = new Uint8Array(encode({ a: { b: new Uint8Array([1, 2]) }, e: new ExtData(9, new Uint8Array([1, 2, 3])) }));
    const value = reader.read(body) as { a: { b: Uint8Array }; e: ExtData };
    body.fill(0);
    expect(Array.from(value.a.b)).toEqual([1, 2]);
    expect(value.a.b.buffer.byteLength).toBe(2);
    expect(Array.from(value.e.data as Uint8Array)).toEqual([1, 2, 3]);
  });
});

describe('inspectMessagePack: whether a decoded value needs the cleanup walk', () => {
  it.each([
    ['a message of plain values', encode([1, {}, null, 'T', [1, 'x', 1.5, true, { a: [] }]])],
    ['constructor as a value', encode({ a: 'constructor' })],
    ['keys near constructor', encode({ constructo: 1, constructors: 2 })],
  ])('skips it for %s', (_, body) => {
    expect(inspectMessagePack(body, 32)).toBe(false);
  });

  it.each([
    ['a binary', encode([new Uint8Array([1])])],
    ['a long binary', encode([new Uint8Array(300)])],
    ['a fixext', bytesOf('91 d4 05 01')],
    ['an ext 8', bytesOf('91 c7 02 05 0102')],
    ['an ext 16', bytesOf('91 c8 0002 05 0102')],
    ['a constructor key', encode({ constructor: 1 })],
    ['a constructor key after a nested value', encode({ a: [1], constructor: 1 })],
  ])('asks for it for %s', (_, body) => {
    expect(inspectMessagePack(body, 32)).toBe(true);
  });
});
