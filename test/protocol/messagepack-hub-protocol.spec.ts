import { Decoder, encode, ExtData } from '@msgpack/msgpack';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { HubMessage } from '../../src/protocol/hub-message.js';
import { MAX_INVOCATION_ID_LENGTH } from '../../src/protocol/message-fields.js';
import { lengthPrefixSize, writeLengthPrefix } from '../../src/protocol/messagepack-framing.js';
import { toMessagePackLayout } from '../../src/protocol/messagepack-message-writer.js';
import {
  DEFAULT_MAX_MESSAGEPACK_DEPTH,
  MESSAGEPACK_PING_FRAME,
  MessagePackHubProtocol,
} from '../../src/protocol/messagepack-hub-protocol.js';
import { ProtocolError } from '../../src/protocol/protocol-error.js';
import { hex, varint } from './frames.js';

const protocol = new MessagePackHubProtocol();


function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}


function frameOfBodies(...bodies: Uint8Array[]): Buffer {
  return Buffer.concat(bodies.flatMap((body) => [Buffer.from(varint(body.length)), Buffer.from(body)]));
}

/** One message per value, each encoded with @msgpack/msgpack (which writes what it is given, however wrong). */
function frameOfValues(...values: unknown[]): Buffer {
  return frameOfBodies(...values.map((value) => encode(value)));
}

function parseOne(frame: Buffer, parser = protocol): HubMessage | undefined {
  const messages = parser.parseMessages(frame);
  expect(messages.length).toBeLessThanOrEqual(1);
  return messages[0];
}

function expectProtocolError(frame: Buffer, pattern: RegExp, parser = protocol): void {
  let thrown: unknown;
  try {
    parser.parseMessages(frame);
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toBeInstanceOf(ProtocolError);
  expect((thrown as Error).message).toMatch(pattern);
}

/** A StreamItem `[2, {}, "1", "xxx…"]` whose body is exactly `length` bytes. */
function streamItemBodyOf(length: number): Buffer {
  const fixed = 5; // 94 02 80 a1 31
  for (const [header, limit] of [
    [1, 32],
    [2, 0x100],
    [3, 0x10000],
  ] as const) {
    const text = length - fixed - header;
    if (text >= 0 && text < limit && (header === 1 || text >= [0, 32, 0x100][header - 1]!)) {
      const body = encode([2, {}, '1', 'x'.repeat(text)]);
      expect(body.length).toBe(length);
      return Buffer.from(body);
    }
  }
  throw new Error(`No StreamItem body of ${length} bytes`);
}

/** A small deterministic generator, so a failure can be replayed. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1_664_525) + 1_013_904_223) >>> 0;
    return state / 2 ** 32;
  };
}

/** Arguments holding `levels` arrays inside one another, inside an Invocation (itself two levels). */
function invocationNested(levels: number): Buffer {
  let argument: unknown = [];
  for (let i = 1; i < levels; i++) argument = [argument];
  return frameOfValues([1, {}, null, 'Echo', levels === 0 ? [] : [argument]]);
}

/** Frames MessagePack bodies with their length prefixes. */
const framedBodies = (...bodies: Uint8Array[]) => Buffer.concat(bodies.flatMap((b) => [Buffer.from(varint(b.length)), Buffer.from(b)]));

describe('MessagePackHubProtocol', () => {
  // Built in the test: the module's shared protocol was built before any test ran, outside every test's coverage.
  it('describes itself as messagepack version 2 (stateful reconnect) over binary frames', () => {
    const fresh = new MessagePackHubProtocol();
    expect(fresh.name).toBe('messagepack');
    expect(fresh.version).toBe(2);
    expect(fresh.transferFormat).toBe('Binary');
  });

  it('writes undefined as nil wherever it is, map values included, as the official encoder does', () => {
    const fresh = new MessagePackHubProtocol();
    const framed = fresh.writeMessage({ type: 3, invocationId: '1', result: { a: undefined, b: [undefined] }, hasResult: true });
    expect(fresh.parseMessages(Buffer.from(framed))).toStrictEqual([{ type: 3, invocationId: '1', result: { a: null, b: [null] }, hasResult: true }]);
  });

  it('refuses a depth limit that is not a positive integer', () => {
    expect(() => new MessagePackHubProtocol({ maxDepth: 0 })).toThrow(new RangeError('maxDepth must be a positive integer, got 0.'));
    expect(() => new MessagePackHubProtocol({ maxDepth: 2.5 })).toThrow(RangeError);
    expect(() => new MessagePackHubProtocol({ maxDepth: Number.NaN })).toThrow(RangeError);
    expect(DEFAULT_MAX_MESSAGEPACK_DEPTH).toBe(32);
  });

  it('applies the size limit to each message body, whatever the frame holding them weighs', () => {
    const body = encode([6]);
    const fits = encode([1, {}, null, 'T', ['x'.repeat(20)]]);
    const limited = new MessagePackHubProtocol({ maxMessageSize: fits.length });
    expect(limited.parseMessages(framedBodies(...Array<Uint8Array>(10).fill(body), fits))).toHaveLength(11);
    const over = encode([1, {}, null, 'T', ['x'.repeat(21)]]);
    expect(() => limited.parseMessages(framedBodies(body, over, body))).toThrow(
      new ProtocolError(`Message of ${over.length} bytes exceeds the maximum message size.`),
    );
  });

  describe('golden frames the server writes (the layouts of ASP.NET Core)', () => {
    const golden: Array<[string, HubMessage, string]> = [
      [
        'send() to a client: nil id, empty streamIds always written',
        { type: 1, target: 'Receive', arguments: ['a', 1] },
        '11 96 01 80 c0 a7 52656365697665 92 a161 01 90',
      ],
      ['client result request', { type: 1, invocationId: '7', target: 'Ask', arguments: [] }, '0b 96 01 80 a137 a3 41736b 90 90'],
      ['empty invocation id written as nil', { type: 1, invocationId: '', target: 'X', arguments: [] }, '08 96 01 80 c0 a158 90 90'],
      [
        'invocation with headers',
        { type: 1, headers: { a: 'b' }, target: 'X', arguments: [] },
        '0c 96 01 81 a161 a162 c0 a158 90 90',
      ],
      [
        'invocation with stream ids',
        { type: 1, invocationId: '1', target: 'U', arguments: [], streamIds: ['2'] },
        '0b 96 01 80 a131 a155 90 91 a132',
      ],
      ['stream item', { type: 2, invocationId: '1', item: { n: 1 } }, '09 94 02 80 a131 81 a16e 01'],
      ['stream item undefined → nil', { type: 2, invocationId: '1', item: undefined }, '06 94 02 80 a131 c0'],
      ['completion with error', { type: 3, invocationId: '1', error: 'Boom' }, '0b 95 03 80 a131 01 a4 426f6f6d'],
      ['void completion', { type: 3, invocationId: '1' }, '06 94 03 80 a131 02'],
      ['completion with result', { type: 3, invocationId: '1', result: 42, hasResult: true }, '07 95 03 80 a131 03 2a'],
      ['completion with result but no hasResult flag', { type: 3, invocationId: '1', result: 42 }, '07 95 03 80 a131 03 2a'],
      ['completion with undefined result', { type: 3, invocationId: '1', result: undefined, hasResult: true }, '07 95 03 80 a131 03 c0'],
      ['completion with null result', { type: 3, invocationId: '1', result: null, hasResult: true }, '07 95 03 80 a131 03 c0'],
      ['stream invocation', { type: 4, invocationId: '1', target: 'S', arguments: [] }, '09 96 04 80 a131 a153 90 90'],
      ['cancel invocation', { type: 5, invocationId: '1' }, '05 93 05 80 a131'],
      ['ping', { type: 6 }, '02 91 06'],
      ['plain close', { type: 7 }, '04 93 07 c0 c2'],
      ['close with empty error', { type: 7, error: '' }, '04 93 07 c0 c2'],
      ['close with error and reconnect', { type: 7, error: 'Bye', allowReconnect: true }, '07 93 07 a3 427965 c3'],
      ['ack', { type: 8, sequenceId: 1 }, '03 92 08 01'],
      ['sequence (uint 32)', { type: 9, sequenceId: 70000 }, '07 92 09 ce 00011170'],
    ];

    it.each(golden)('%s', (_name, message, expected) => {
      expect(toHex(protocol.writeMessage(message))).toBe(hex(expected).toString('hex'));
    });

    it('returns a Uint8Array of exactly the framed message, not a view of a larger buffer', () => {
      const framed = protocol.writeMessage({ type: 3, invocationId: '1' });
      expect(framed).toBeInstanceOf(Uint8Array);
      expect(framed.byteOffset).toBe(0);
      expect(framed.buffer.byteLength).toBe(framed.byteLength);
    });

    it('exports the ping frame, and writeMessage hands out copies of it', () => {
      expect(toHex(MESSAGEPACK_PING_FRAME)).toBe('029106');
      const ping = protocol.writeMessage({ type: 6 });
      expect(ping).not.toBe(MESSAGEPACK_PING_FRAME);
      (ping as Uint8Array)[0] = 0xff;
      expect(toHex(MESSAGEPACK_PING_FRAME)).toBe('029106');
    });

    it('lays a Ping out as [6], as the shared frame holds it', () => {
      expect(toMessagePackLayout({ type: 6 })).toEqual([6]);
      expect(Buffer.from(MESSAGEPACK_PING_FRAME.subarray(1)).equals(Buffer.from(encode(toMessagePackLayout({ type: 6 }))))).toBe(true);
    });

    it('refuses to write a message type it does not know', () => {
      expect(() => protocol.writeMessage({ type: 42 } as unknown as HubMessage)).toThrow(new TypeError('Cannot write a hub message of type 42.'));
    });
  });

  describe('golden frames the server reads (the layouts the official clients write)', () => {
    const golden: Array<[string, string, HubMessage]> = [
      ['send(): 5 elements, nil id', '0d 95 01 80 c0 a4 53656e64 91 a2 6869', { type: 1, target: 'Send', arguments: ['hi'] }],
      ['invoke()', '0c 95 01 80 a130 a3 416464 92 01 02', { type: 1, invocationId: '0', target: 'Add', arguments: [1, 2] }],
      [
        'invoke() with an upload stream: 6 elements',
        '0c 96 01 80 a130 a2 5570 90 91 a131',
        { type: 1, invocationId: '0', target: 'Up', arguments: [], streamIds: ['1'] },
      ],
      ['6 elements with no streams (as ASP.NET Core writes)', '08 96 01 80 c0 a141 90 90', { type: 1, target: 'A', arguments: [] }],
      [
        'invocation with headers',
        '0b 95 01 81 a16b a176 c0 a141 90',
        { type: 1, headers: { k: 'v' }, target: 'A', arguments: [] },
      ],
      [
        'stream() without streams: 5 elements',
        '0f 95 04 80 a133 a7 436f756e746572 91 03',
        { type: 4, invocationId: '3', target: 'Counter', arguments: [3] },
      ],
      [
        'stream() with an upload stream',
        '0b 96 04 80 a133 a143 90 91 a134',
        { type: 4, invocationId: '3', target: 'C', arguments: [], streamIds: ['4'] },
      ],
      ['stream item', '09 94 02 80 a132 81 a16e 01', { type: 2, invocationId: '2', item: { n: 1 } }],
      ['stream item nil', '06 94 02 80 a132 c0', { type: 2, invocationId: '2', item: null }],
      ['void completion (end of an upload stream)', '06 94 03 80 a132 02', { type: 3, invocationId: '2' }],
      ['completion with error', '09 95 03 80 a135 01 a2 6e6f', { type: 3, invocationId: '5', error: 'no' }],
      [
        'completion with result',
        '08 95 03 80 a135 03 91 01',
        { type: 3, invocationId: '5', result: [1], hasResult: true },
      ],
      ['completion with nil result', '07 95 03 80 a135 03 c0', { type: 3, invocationId: '5', result: null, hasResult: true }],
      ['cancel invocation', '05 93 05 80 a133', { type: 5, invocationId: '3' }],
      ['ping', '02 91 06', { type: 6 }],
      ["the client's close: [7, nil]", '03 92 07 c0', { type: 7 }],
      ['close with error and reconnect', '05 93 07 a178 c3', { type: 7, error: 'x', allowReconnect: true }],
      ['ack', '03 92 08 03', { type: 8, sequenceId: 3 }],
      ['sequence', '03 92 09 01', { type: 9, sequenceId: 1 }],
    ];

    it.each(golden)('%s', (_name, bytes, expected) => {
      const message = parseOne(hex(bytes));
      // toStrictEqual: no key is set to undefined, nothing extra travels.
      expect(message).toStrictEqual(expected);
    });

    it('ignores elements past the layout, for later protocol versions', () => {
      expect(parseOne(frameOfValues([6, 'extra']))).toStrictEqual({ type: 6 });
      expect(parseOne(frameOfValues([5, {}, '1', 'extra', 2]))).toStrictEqual({ type: 5, invocationId: '1' });
      expect(parseOne(frameOfValues([3, {}, '1', 2, 'ignored']))).toStrictEqual({ type: 3, invocationId: '1' });
    });

    it('accepts ids of exactly the maximum length', () => {
      const id = 'i'.repeat(MAX_INVOCATION_ID_LENGTH);
      expect(parseOne(frameOfValues([5, {}, id]))).toStrictEqual({ type: 5, invocationId: id });
    });
  });

  describe('round trips through writeMessage and parseMessages', () => {
    const messages: Array<[HubMessage, HubMessage]> = [
      [{ type: 1, target: 'T', arguments: [1, 'two', [3], { four: 4 }, null, true, 1.5, -7] }, { type: 1, target: 'T', arguments: [1, 'two', [3], { four: 4 }, null, true, 1.5, -7] }],
      [{ type: 1, invocationId: '9', target: 'T', arguments: [], streamIds: ['a', 'b'] }, { type: 1, invocationId: '9', target: 'T', arguments: [], streamIds: ['a', 'b'] }],
      [{ type: 1, target: 'T', arguments: [undefined] }, { type: 1, target: 'T', arguments: [null] }],
      [{ type: 2, invocationId: '1', item: 'x'.repeat(300) }, { type: 2, invocationId: '1', item: 'x'.repeat(300) }],
      [{ type: 3, invocationId: '1', error: 'e' }, { type: 3, invocationId: '1', error: 'e' }],
      [{ type: 3, invocationId: '1' }, { type: 3, invocationId: '1' }],
      [{ type: 3, invocationId: '1', result: { a: [1, { b: 2 }] }, hasResult: true }, { type: 3, invocationId: '1', result: { a: [1, { b: 2 }] }, hasResult: true }],
      [{ type: 4, invocationId: '1', target: 'S', arguments: [1], headers: { h: 'v' } }, { type: 4, invocationId: '1', target: 'S', arguments: [1], headers: { h: 'v' } }],
      [{ type: 5, invocationId: '1' }, { type: 5, invocationId: '1' }],
      [{ type: 6 }, { type: 6 }],
      [{ type: 7 }, { type: 7, allowReconnect: false }],
      [{ type: 7, error: 'bad', allowReconnect: true }, { type: 7, error: 'bad', allowReconnect: true }],
      [{ type: 8, sequenceId: 2 ** 40 }, { type: 8, sequenceId: 2 ** 40 }],
      [{ type: 9, sequenceId: 0 }, { type: 9, sequenceId: 0 }],
    ];

    it.each(messages)('%o', (message, expected) => {
      const framed = protocol.writeMessage(message);
      expect(protocol.parseMessages(Buffer.from(framed))).toStrictEqual([expected]);
    });

    it('keeps numbers, strings and dates intact', () => {
      const values = [0, -1, 127, 128, 255, 256, 65535, 65536, 2 ** 32, 2 ** 53 - 1, -(2 ** 31), -(2 ** 53 - 1), 0.1, -0.5, 1e300, '', 'é😀', new Date(1_700_000_000_123)];
      const framed = protocol.writeMessage({ type: 1, target: 'T', arguments: values });
      expect(parseOne(Buffer.from(framed))).toStrictEqual({ type: 1, target: 'T', arguments: values });
    });

    it('copies each message out of the reused encoder buffer', () => {
      const first = protocol.writeMessage({ type: 2, invocationId: '1', item: 'first' });
      const firstHex = toHex(first);
      protocol.writeMessage({ type: 2, invocationId: '1', item: 'second, and longer than the first' });
      expect(toHex(first)).toBe(firstHex);
    });

    it('writes large messages (prefix of 3 bytes and more), then small ones, correctly', () => {
      const big = 'y'.repeat(3 * 1024 * 1024);
      const framed = protocol.writeMessage({ type: 2, invocationId: '1', item: big });
      expect(Array.from(framed.subarray(0, 4))).toEqual(varint(framed.length - 4));
      expect(parseOne(Buffer.from(framed))).toStrictEqual({ type: 2, invocationId: '1', item: big });
      expect(toHex(protocol.writeMessage({ type: 8, sequenceId: 1 }))).toBe('03920801');
    });
  });

  describe('framing', () => {
    it('reads several messages from one frame, in order', () => {
      const frame = Buffer.concat([
        hex('02 91 06'),
        hex('05 93 05 80 a131'),
        frameOfValues([99, 'unknown']),
        hex('03 92 08 03'),
      ]);
      expect(protocol.parseMessages(frame)).toStrictEqual([
        { type: 6 },
        { type: 5, invocationId: '1' },
        { type: 8, sequenceId: 3 },
      ]);
    });

    it('reads an empty frame as no messages', () => {
      expect(protocol.parseMessages(Buffer.alloc(0))).toEqual([]);
    });

    it('reads a frame that is a view into a larger buffer', () => {
      const backing = Buffer.concat([hex('ff ff'), hex('02 91 06'), hex('ff')]);
      expect(protocol.parseMessages(backing.subarray(2, 5))).toStrictEqual([{ type: 6 }]);
    });

    it.each([
      [1, [0x01]],
      [127, [0x7f]],
      [128, [0x80, 0x01]],
      [16383, [0xff, 0x7f]],
      [16384, [0x80, 0x80, 0x01]],
    ])('reads a body of %i bytes behind the prefix %o', (length, prefix) => {
      expect(varint(length)).toEqual(prefix);
      if (length < 6) {
        // Too short for a StreamItem: the length-1 case is a body that is not a message.
        expectProtocolError(Buffer.from([...prefix, 0x06]), /must be a non-empty MessagePack array/);
        return;
      }
      const body = streamItemBodyOf(length);
      const message = parseOne(Buffer.concat([Buffer.from(prefix), body]));
      expect(message).toMatchObject({ type: 2, invocationId: '1' });
    });

    it.each([127, 128, 16383, 16384])('writes the prefix of a %i-byte body as the varint', (length) => {
      const body = streamItemBodyOf(length);
      const item = (parseOne(frameOfBodies(body)) as { item: string }).item;
      const framed = protocol.writeMessage({ type: 2, invocationId: '1', item });
      expect(Array.from(framed.subarray(0, varint(length).length))).toEqual(varint(length));
      expect(framed.length).toBe(varint(length).length + length);
    });

    it('computes and writes prefixes up to the 2 GB limit', () => {
      const cases: Array<[number, number[]]> = [
        [0, [0x00]],
        [127, [0x7f]],
        [128, [0x80, 0x01]],
        [16383, [0xff, 0x7f]],
        [16384, [0x80, 0x80, 0x01]],
        [2 ** 21, [0x80, 0x80, 0x80, 0x01]],
        [2 ** 28, [0x80, 0x80, 0x80, 0x80, 0x01]],
        [2 ** 31 - 1, [0xff, 0xff, 0xff, 0xff, 0x07]],
      ];
      for (const [length, prefix] of cases) {
        const target = new Uint8Array(6);
        expect(lengthPrefixSize(length)).toBe(prefix.length);
        expect(writeLengthPrefix(length, target, 1)).toBe(1 + prefix.length);
        expect(Array.from(target.subarray(1, 1 + prefix.length))).toEqual(prefix);
      }
      for (const length of [2 ** 31, -1, 1.5, Number.NaN]) {
        expect(() => writeLengthPrefix(length, new Uint8Array(6), 0)).toThrow(
          new RangeError(`Cannot frame a message of ${length} bytes: the binary framing stops at 2 GB.`),
        );
      }
    });

    it('accepts a 5-byte prefix (an overlong encoding of a small length)', () => {
      expect(protocol.parseMessages(hex('82 80 80 80 00 91 06'))).toStrictEqual([{ type: 6 }]);
    });

    it('refuses a 6-byte prefix', () => {
      expectProtocolError(hex('82 80 80 80 80 00 91 06'), /longer than 5 bytes/);
    });

    it('refuses a prefix past 2 GB', () => {
      expectProtocolError(hex('ff ff ff ff 08'), /over 2 GB/);
      expectProtocolError(hex('80 80 80 80 10 00'), /over 2 GB/);
    });

    it('refuses a frame that ends inside the prefix', () => {
      expectProtocolError(hex('80'), /inside a length prefix/);
      expectProtocolError(hex('02 91 06 ff ff'), /inside a length prefix/);
    });

    it('refuses a body longer than the frame, however large the claim', () => {
      expectProtocolError(hex('05 91 06'), /announces 5 bytes but the frame holds 2/);
      expectProtocolError(hex('ff ff ff ff 07 91 06'), /announces 2147483647 bytes/);
      expectProtocolError(hex('02 91 06 02 91'), /announces 2 bytes but the frame holds 1/);
    });

    it('refuses an empty body (a zero length)', () => {
      expectProtocolError(hex('00'), /empty body/);
      expectProtocolError(hex('02 91 06 00'), /empty body/);
    });

    it('refuses extra bytes after the value inside a body', () => {
      expectProtocolError(hex('03 91 06 c0'), /1 byte\(s\) follow/);
    });

    it('refuses a body cut short inside a value', () => {
      expectProtocolError(hex('01 92'), /declares 2 elements but only 0/);
      expectProtocolError(hex('03 92 06 cd'), /ends inside a value|declares/);
      expectProtocolError(hex('04 93 05 80 a3'), /declares 3 byte\(s\) but only 0 remain/);
    });

    it('refuses a byte that starts no MessagePack value', () => {
      expectProtocolError(hex('02 91 c1'), /0xc1/);
    });
  });

  describe('message type', () => {
    it.each([
      ['a string', 'x'],
      ['a map', { type: 1 }],
      ['an integer', 6],
      ['nil', null],
      ['binary', new Uint8Array([6])],
      ['an empty array', []],
    ])('refuses a message that is %s', (_name, value) => {
      expectProtocolError(frameOfValues(value), /must be a non-empty MessagePack array/);
    });

    it.each([
      ['a string', ['1']],
      ['a float', [1.5]],
      ['nil', [null]],
      ['a boolean', [true]],
      ['an array', [[1]]],
    ])('refuses a type that is %s', (_name, value) => {
      expectProtocolError(frameOfValues(value), /type must be an integer/);
    });

    it.each([[[0]], [[10, 'future']], [[-1]], [[1000, {}, null]], [[2 ** 40]]])('skips the unknown type %o', (value) => {
      expect(protocol.parseMessages(frameOfValues(value))).toEqual([]);
    });
  });

  describe('malformed messages of each type', () => {
    const long = 'i'.repeat(MAX_INVOCATION_ID_LENGTH + 1);
    const cases: Array<[string, unknown[], RegExp]> = [
      // Invocation
      ['Invocation with 1 element', [1], /Invocation message: expected at least 5 elements, got 1/],
      ['Invocation with 4 elements', [1, {}, null, 'A'], /at least 5 elements, got 4/],
      ['Invocation with nil headers', [1, null, null, 'A', []], /Invocation message: 'headers' must be a map/],
      ['Invocation with array headers', [1, [], null, 'A', []], /'headers' must be a map/],
      ['Invocation with a non-string header', [1, { k: 1 }, null, 'A', []], /'headers' must be an object of strings/],
      ['Invocation with a numeric id', [1, {}, 5, 'A', []], /'invocationId' must be a non-empty string/],
      ['Invocation with an empty id', [1, {}, '', 'A', []], /'invocationId'/],
      ['Invocation with an over-long id', [1, {}, long, 'A', []], /'invocationId'/],
      ['Invocation with nil target', [1, {}, null, null, []], /'target' must be a non-empty string/],
      ['Invocation with empty target', [1, {}, null, '', []], /'target'/],
      ['Invocation with numeric target', [1, {}, null, 5, []], /'target'/],
      ['Invocation with map arguments', [1, {}, null, 'A', {}], /'arguments' must be an array/],
      ['Invocation with nil arguments', [1, {}, null, 'A', null], /'arguments' must be an array/],
      ['Invocation with nil streamIds', [1, {}, null, 'A', [], null], /'streamIds' must be an array of strings/],
      ['Invocation with a numeric stream id', [1, {}, null, 'A', [], [1]], /'streamIds'/],
      ['Invocation with an empty stream id', [1, {}, null, 'A', [], ['']], /'streamIds'/],
      ['Invocation with string streamIds', [1, {}, null, 'A', [], 'x'], /'streamIds'/],
      // StreamItem
      ['StreamItem with 3 elements', [2, {}, '1'], /StreamItem message: expected at least 4 elements/],
      ['StreamItem with nil id', [2, {}, null, 1], /StreamItem message: 'invocationId'/],
      ['StreamItem with numeric id', [2, {}, 1, 1], /'invocationId'/],
      ['StreamItem with string headers', [2, 'h', '1', 1], /StreamItem message: 'headers' must be a map/],
      // Completion
      ['Completion with 3 elements', [3, {}, '1'], /Completion message: expected at least 4 elements/],
      ['Completion with nil id', [3, {}, null, 2], /Completion message: 'invocationId'/],
      ['Completion with result kind 4', [3, {}, '1', 4], /result kind must be 1 \(error\), 2 \(void\) or 3 \(result\)/],
      ['Completion with result kind 0', [3, {}, '1', 0], /result kind must be/],
      ['Completion with a string result kind', [3, {}, '1', '3', 1], /result kind must be/],
      ['Completion with an error kind and no error', [3, {}, '1', 1], /result kind 1 needs a fifth element/],
      ['Completion with a result kind and no result', [3, {}, '1', 3], /result kind 3 needs a fifth element/],
      ['Completion with a numeric error', [3, {}, '1', 1, 5], /'error' must be a string/],
      ['Completion with a nil error', [3, {}, '1', 1, null], /'error' must be a string/],
      // StreamInvocation
      ['StreamInvocation with 4 elements', [4, {}, '1', 'S'], /StreamInvocation message: expected at least 5 elements/],
      ['StreamInvocation with nil id', [4, {}, null, 'S', []], /StreamInvocation message: 'invocationId'/],
      ['StreamInvocation with empty target', [4, {}, '1', '', []], /'target'/],
      ['StreamInvocation with string arguments', [4, {}, '1', 'S', 'x'], /'arguments' must be an array/],
      ['StreamInvocation with a numeric stream id', [4, {}, '1', 'S', [], [5]], /'streamIds'/],
      ['StreamInvocation with map headers of a map', [4, { k: {} }, '1', 'S', []], /'headers'/],
      // CancelInvocation
      ['CancelInvocation with 2 elements', [5, {}], /CancelInvocation message: expected at least 3 elements/],
      ['CancelInvocation with nil id', [5, {}, null], /CancelInvocation message: 'invocationId'/],
      ['CancelInvocation with an array id', [5, {}, ['1']], /'invocationId'/],
      // Close
      ['Close with 1 element', [7], /Close message: expected at least 2 elements/],
      ['Close with a numeric error', [7, 5], /Close message: 'error' must be a string/],
      ['Close with a string allowReconnect', [7, null, 'yes'], /'allowReconnect' must be a boolean/],
      ['Close with a nil allowReconnect', [7, null, null], /'allowReconnect' must be a boolean/],
      // Ack and Sequence
      ['Ack with 1 element', [8], /Ack message: expected at least 2 elements/],
      ['Ack with a negative id', [8, -1], /'sequenceId' must be a non-negative integer/],
      ['Ack with a float id', [8, 1.5], /'sequenceId'/],
      ['Ack with a string id', [8, '1'], /'sequenceId'/],
      ['Ack past 2^53', [8, 2 ** 60], /'sequenceId'/],
      ['Sequence with nil id', [9, null], /Sequence message: 'sequenceId'/],
    ];

    it.each(cases)('refuses %s', (_name, value, pattern) => {
      expectProtocolError(frameOfValues(value), pattern);
    });

    it('refuses the whole frame when one of its messages is malformed', () => {
      expectProtocolError(Buffer.concat([hex('02 91 06'), frameOfValues([5, {}, null])]), /CancelInvocation/);
    });
  });

  describe('nesting depth', () => {
    it('accepts nesting up to the limit and refuses one level more', () => {
      expect(parseOne(invocationNested(DEFAULT_MAX_MESSAGEPACK_DEPTH - 2))).toMatchObject({ type: 1 });
      expectProtocolError(invocationNested(DEFAULT_MAX_MESSAGEPACK_DEPTH - 1), /deeper than the maximum depth of 32/);
    });

    it('counts maps and empty containers, the message array included', () => {
      const shallow = new MessagePackHubProtocol({ maxDepth: 3 });
      expect(parseOne(frameOfValues([1, {}, null, 'A', [{}]]), shallow)).toMatchObject({ arguments: [{}] });
      expect(parseOne(frameOfValues([1, { k: 'v' }, null, 'A', [[1]]]), shallow)).toMatchObject({ arguments: [[1]] });
      expectProtocolError(frameOfValues([1, {}, null, 'A', [{ a: [] }]]), /maximum depth of 3/, shallow);
      expectProtocolError(frameOfValues([1, {}, null, 'A', [[[]]]]), /maximum depth of 3/, shallow);
      const flat = new MessagePackHubProtocol({ maxDepth: 1 });
      expect(parseOne(hex('02 91 06'), flat)).toEqual({ type: 6 });
      expectProtocolError(hex('03 92 06 90'), /maximum depth of 1/, flat);
    });

    it('refuses a depth bomb without recursion', () => {
      // 100,000 one-element arrays inside one another: a recursive decoder would overflow its stack.
      const body = Buffer.concat([hex('95 01 80 c0 a141'), Buffer.alloc(100_000, 0x91), hex('c0')]);
      expectProtocolError(frameOfBodies(body), /maximum depth of 32/);
    });
  });

  describe('declared lengths larger than the body', () => {
    afterEach(() => {
      vi.restoreAllMocks();
    });

    it.each([
      ['an array of 2^32-1 elements', '95 01 80 c0 a141 dd ffffffff', /an array declares 4294967295 elements but only 0/],
      ['an array of 65535 elements', '95 01 80 c0 a141 dc ffff 01 02', /an array declares 65535 elements but only 2/],
      ['a fixarray of 15 elements', '95 01 80 c0 a141 9f 01', /an array declares 15 elements but only 1/],
      ['a message array of 2^32-1 elements', 'dd ffffffff 06', /an array declares 4294967295 elements/],
      ['a map of 2^32-1 entries', '95 01 80 c0 a141 91 df ffffffff', /a map declares 4294967295 entries but only 0/],
      ['a map of 4 entries in 6 bytes', '95 01 80 c0 a141 91 84 a161 01 a162 02', /a map declares 4 entries but only 6/],
      ['a string of 4 GB', '95 01 80 c0 a141 91 db ffffffff 41', /declares 4294967295 byte\(s\) but only 1/],
      ['a string of 64 KB', '95 01 80 c0 a141 91 da ffff 41', /declares 65535 byte\(s\)/],
      ['a binary of 4 GB', '95 01 80 c0 a141 91 c6 ffffffff', /declares 4294967295 byte\(s\) but only 0/],
      ['an extension of 4 GB', '95 01 80 c0 a141 91 c9 ffffffff 01', /declares 4294967296 byte\(s\) but only 1/],
      ['a length header cut short', '95 01 80 c0 a141 91 c6 ff', /ends inside a value/],
    ])('refuses %s before decoding anything', (_name, body, pattern) => {
      // Refused from the declared length alone: the decoder, which would allocate for it, never runs.
      const decode = vi.spyOn(Decoder.prototype, 'decode');
      expectProtocolError(frameOfBodies(hex(body)), pattern);
      expect(decode).not.toHaveBeenCalled();
    });
  });

  describe('prototype pollution', () => {
    afterEach(() => {
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      expect(Object.prototype).not.toHaveProperty('polluted');
    });

    const pollutingMap = JSON.parse('{"__proto__":{"polluted":true}}') as unknown;

    it('refuses a __proto__ key in an argument map', () => {
      expectProtocolError(frameOfValues([1, {}, null, 'A', [pollutingMap]]), /'__proto__'/);
    });

    it('refuses a __proto__ key deep inside an item or a result', () => {
      expectProtocolError(frameOfValues([2, {}, '1', { a: [{ b: pollutingMap }] }]), /'__proto__'/);
      expectProtocolError(frameOfValues([3, {}, '1', 3, [pollutingMap]]), /'__proto__'/);
    });

    it('refuses a __proto__ key in headers', () => {
      expectProtocolError(frameOfValues([1, JSON.parse('{"__proto__":"x"}'), null, 'A', []]), /'__proto__'/);
    });

    it('refuses a __proto__ key however its string is encoded (str 8, str 16)', () => {
      const key = Buffer.from('__proto__');
      for (const header of [hex('d9 09'), hex('da 0009')]) {
        const map = Buffer.concat([hex('81'), header, key, hex('81 a8'), Buffer.from('polluted'), hex('c3')]);
        expectProtocolError(frameOfBodies(Buffer.concat([hex('95 01 80 c0 a141 91'), map])), /'__proto__'/);
      }
    });

    it('keeps __proto__ as a string value, where it is harmless', () => {
      expect(parseOne(frameOfValues([1, {}, null, 'A', ['__proto__', { k: '__proto__' }]]))).toStrictEqual({
        type: 1,
        target: 'A',
        arguments: ['__proto__', { k: '__proto__' }],
      });
    });

    it('drops constructor keys holding a prototype, as the JSON parser does, and keeps the rest', () => {
      const message = parseOne(
        frameOfValues([1, {}, null, 'A', [{ constructor: { prototype: { polluted: true } }, keep: 1 }, { constructor: 'x' }]]),
      ) as unknown as { arguments: unknown[] };
      const expected: unknown[] = [{ keep: 1 }, { constructor: 'x' }];
      expect(message.arguments).toStrictEqual(expected);
    });

    it('gives maps that a naive deep merge cannot turn against Object.prototype', () => {
      const naiveMerge = (target: Record<string, unknown>, source: Record<string, unknown>): void => {
        for (const key of Object.keys(source)) {
          const value = source[key];
          if (typeof value === 'object' && value !== null) {
            if (typeof target[key] !== 'object' || target[key] === null) target[key] = {};
            naiveMerge(target[key] as Record<string, unknown>, value as Record<string, unknown>);
          } else {
            target[key] = value;
          }
        }
      };
      const message = parseOne(
        frameOfValues([1, {}, null, 'A', [{ constructor: { prototype: { polluted: true } }, nested: { ok: 1 } }]]),
      ) as unknown as { arguments: Array<Record<string, unknown>> };
      const target: Record<string, unknown> = {};
      naiveMerge(target, message.arguments[0]!);
      expect(target).toStrictEqual({ nested: { ok: 1 } });
    });
  });

  describe('binary and extension values', () => {
    it('reads binaries as plain Uint8Arrays copied out of the frame', () => {
      const frame = frameOfValues([1, {}, null, 'A', [new Uint8Array([1, 2, 3]), { nested: new Uint8Array([4]) }]]);
      const message = parseOne(frame) as unknown as { arguments: [Uint8Array, { nested: Uint8Array }] };
      const [bytes, { nested }] = message.arguments;
      expect(bytes).toBeInstanceOf(Uint8Array);
      expect(Buffer.isBuffer(bytes)).toBe(false);
      expect(Array.from(bytes)).toEqual([1, 2, 3]);
      expect(bytes.buffer.byteLength).toBe(3);
      expect(Array.from(nested)).toEqual([4]);
      frame.fill(0);
      expect(Array.from(bytes)).toEqual([1, 2, 3]);
    });

    it('writes Uint8Arrays and Buffers (pooled ones too) as bin, only their own bytes', () => {
      const pooled = Buffer.from('abc');
      expect(pooled.buffer.byteLength).toBeGreaterThan(3);
      const framed = protocol.writeMessage({ type: 2, invocationId: '1', item: [pooled, new Uint8Array([9]).subarray(0)] });
      expect(toHex(framed)).toBe(hex('0e 94 02 80 a131 92 c403 616263 c401 09').toString('hex'));
      const message = parseOne(Buffer.from(framed)) as { item: Uint8Array[] };
      expect(message.item.map((bytes) => Array.from(bytes))).toEqual([[0x61, 0x62, 0x63], [9]]);
    });

    it('round-trips a large binary', () => {
      const payload = new Uint8Array(70_000).map((_, i) => i % 251);
      const framed = protocol.writeMessage({ type: 3, invocationId: '1', result: payload, hasResult: true });
      const message = parseOne(Buffer.from(framed)) as { result: Uint8Array };
      expect(message.result).toBeInstanceOf(Uint8Array);
      expect(Buffer.compare(message.result, payload)).toBe(0);
    });

    it('reads timestamps as Dates and other extensions as ExtData with copied data', () => {
      const frame = frameOfValues([2, {}, '1', [new Date(1234), new ExtData(5, new Uint8Array([7, 8]))]]);
      const message = parseOne(frame) as { item: [Date, ExtData] };
      expect(message.item[0]).toEqual(new Date(1234));
      expect(message.item[1]).toBeInstanceOf(ExtData);
      expect(message.item[1].type).toBe(5);
      const data = message.item[1].data as Uint8Array;
      expect(Array.from(data)).toEqual([7, 8]);
      expect(data.buffer.byteLength).toBe(2);
    });

    it('refuses a malformed timestamp', () => {
      expectProtocolError(frameOfBodies(hex('94 02 80 a131 d5 ff 0000')), /not valid MessagePack/);
    });
  });

  describe('robustness', () => {
    const seeds = [
      hex('0d 95 01 80 c0 a4 53656e64 91 a2 6869'),
      hex('0c 96 01 80 a130 a2 5570 90 91 a131'),
      hex('09 94 02 80 a132 81 a16e 01'),
      hex('08 95 03 80 a135 03 91 01'),
      hex('05 93 07 a178 c3'),
      frameOfValues([1, {}, null, 'A', [new Date(1), new Uint8Array([1]), { constructor: { prototype: 1 } }, 1.5, -1, 2 ** 40]]),
    ];

    it('throws nothing but ProtocolError on mutated and random frames', () => {
      const next = random(42);
      for (let round = 0; round < 20_000; round++) {
        let frame: Buffer;
        if (round % 4 === 0) {
          frame = Buffer.from(Array.from({ length: Math.floor(next() * 40) }, () => Math.floor(next() * 256)));
        } else {
          frame = Buffer.from(seeds[round % seeds.length]!);
          const flips = 1 + Math.floor(next() * 3);
          for (let i = 0; i < flips; i++) frame[Math.floor(next() * frame.length)] = Math.floor(next() * 256);
        }
        try {
          const messages = protocol.parseMessages(frame);
          expect(Array.isArray(messages)).toBe(true);
        } catch (error) {
          if (!(error instanceof ProtocolError)) {
            throw new Error(`Frame ${frame.toString('hex')} threw ${String(error)}`, { cause: error });
          }
        }
      }
    });

    it('builds fresh messages that share nothing with an earlier parse', () => {
      const frame = hex('0b 95 01 81 a16b a176 c0 a141 90');
      const first = parseOne(frame) as { headers: Record<string, string> };
      first.headers.k = 'changed';
      expect(parseOne(frame)).toMatchObject({ headers: { k: 'v' } });
    });
  });
});
