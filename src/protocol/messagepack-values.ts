import { Decoder, ExtData } from '@msgpack/msgpack';
import { ProtocolError } from './protocol-error.js';

/**
 * Decodes the MessagePack body of one message sent by a client, which is not to be trusted.
 *
 * Before the decoder sees a byte, one pass over the body (no allocation beyond a stack of at most
 * `maxDepth` entries) checks that:
 * - arrays and maps nest no deeper than `maxDepth`, the message's own array counting as 1;
 * - every declared length fits in the bytes that are actually left: an array of N elements needs
 *   at least N bytes, a map of N entries 2N, a string, binary or extension its full payload. A
 *   header claiming four billion elements is refused there, before anything is allocated for it,
 *   so decoding takes time and memory proportional to the body;
 * - the body is exactly one value, without trailing bytes;
 * - no map has a `__proto__` key (@msgpack/msgpack refuses those too, with a DecodeError).
 *
 * After decoding, binaries and extension payloads are copied out of the frame (the decoder
 * returns views into it, which would keep the frame alive and expose whatever shares its
 * memory), and `constructor` keys holding a `prototype` are dropped, as the JSON parser does.
 * That walk only runs when the first pass saw one of them.
 */
export class MessagePackValueReader {
  // Its defaults suit: lengths up to 4 GB, which the first pass has already bounded by the body, and
  // 64-bit integers as numbers (lossy past 2^53) rather than bigints, since the JS client writes
  // every integer of 2^32 and more, Date.now() included, in 64 bits.
  private readonly decoder = new Decoder();

  constructor(private readonly maxDepth: number) {}

  read(body: Uint8Array): unknown {
    const needsCleanup = inspectMessagePack(body, this.maxDepth);
    let value: unknown;
    try {
      value = this.decoder.decode(body);
    } catch (error) {
      throw new ProtocolError(`Message is not valid MessagePack: ${(error as Error).message}`);
    }
    return needsCleanup ? cleanUp(value) : value;
  }
}

const PROTO_KEY = new TextEncoder().encode('__proto__');
const CONSTRUCTOR_KEY = new TextEncoder().encode('constructor');

/**
 * The first pass described on {@link MessagePackValueReader}. Returns whether the decoded value
 * needs the cleanup walk (it holds binaries, extensions or `constructor` keys).
 */
export function inspectMessagePack(bytes: Uint8Array, maxDepth: number): boolean {
  const end = bytes.length;
  // One entry per enclosing container: the values it still expects, times 2, plus 1 for a map.
  const enclosing: number[] = [];
  let remaining = 1; // the body is one value
  // Stryker disable next-line BooleanLiteral: the body's one value is never a key, whatever this says.
  let inMap = false;
  let needsCleanup = false;
  let pos = 0;
  for (;;) {
    while (remaining === 0) {
      const saved = enclosing.pop();
      if (saved === undefined) {
        if (pos !== end) throw invalid(`${end - pos} byte(s) follow the message's value`);
        return needsCleanup;
      }
      remaining = Math.floor(saved / 2);
      inMap = saved % 2 === 1;
    }
    // A map of N entries expects 2N values, keys at even counts.
    const isKey = inMap && remaining % 2 === 0;
    remaining--;
    // Stryker disable next-line ConditionalExpression,EqualityOperator: each container's count was held against the bytes left, so this only guards the index.
    if (pos >= end) throw truncated();
    const head = bytes[pos++];

    let items = -1; // values a container expects; -1 for anything else
    let isMap = false;
    let payload = 0; // bytes to skip after the header
    let isString = false;
    // The fix formats by their bit patterns; 0xxxxxxx and 111xxxxx are the value itself (fixint).
    if ((head & 0x80) === 0 || (head & 0xe0) === 0xe0) continue;
    if ((head & 0xf0) === 0x80) {
      isMap = true;
      items = (head & 0x0f) * 2;
    } else if ((head & 0xf0) === 0x90) {
      items = head & 0x0f;
    } else if ((head & 0xe0) === 0xa0) {
      isString = true;
      payload = head & 0x1f;
    } else {
      switch (head) {
        case 0xc0: // nil
        case 0xc2: // false
        case 0xc3: // true
          continue;
        case 0xcc: // uint 8
        case 0xd0: // int 8
          payload = 1;
          break;
        case 0xcd: // uint 16
        case 0xd1: // int 16
          payload = 2;
          break;
        case 0xca: // float 32
        case 0xce: // uint 32
        case 0xd2: // int 32
          payload = 4;
          break;
        case 0xcb: // float 64
        case 0xcf: // uint 64
        case 0xd3: // int 64
          payload = 8;
          break;
        case 0xd4: // fixext 1, 2, 4, 8, 16: a type byte, then the data
        case 0xd5:
        case 0xd6:
        case 0xd7:
        case 0xd8:
          needsCleanup = true;
          payload = 1 + 2 ** (head - 0xd4);
          break;
        case 0xd9: // str 8, 16, 32
        case 0xda:
        case 0xdb: {
          const size = 2 ** (head - 0xd9);
          isString = true;
          payload = readLength(bytes, pos, size);
          pos += size;
          break;
        }
        case 0xc4: // bin 8, 16, 32
        case 0xc5:
        case 0xc6: {
          const size = 2 ** (head - 0xc4);
          needsCleanup = true;
          payload = readLength(bytes, pos, size);
          pos += size;
          break;
        }
        case 0xc7: // ext 8, 16, 32: the length counts the data, not the type byte
        case 0xc8:
        case 0xc9: {
          const size = 2 ** (head - 0xc7);
          needsCleanup = true;
          payload = readLength(bytes, pos, size) + 1;
          pos += size;
          break;
        }
        case 0xdc: // array 16, 32
        case 0xdd: {
          const size = head === 0xdc ? 2 : 4;
          items = readLength(bytes, pos, size);
          pos += size;
          break;
        }
        case 0xde: // map 16, 32
        case 0xdf: {
          const size = head === 0xde ? 2 : 4;
          isMap = true;
          items = readLength(bytes, pos, size) * 2;
          pos += size;
          break;
        }
        default: // 0xc1 is never used
          throw invalid(`byte 0x${head.toString(16)} at ${pos - 1} starts no MessagePack value`);
      }
    }

    if (items >= 0) {
      if (items > end - pos) {
        throw invalid(
          `${isMap ? `a map declares ${items / 2} entries` : `an array declares ${items} elements`} ` +
            `but only ${end - pos} byte(s) remain`,
        );
      }
      enclosing.push(remaining * 2 + (inMap ? 1 : 0));
      if (enclosing.length > maxDepth) {
        throw new ProtocolError(`Message nests deeper than the maximum depth of ${maxDepth}.`);
      }
      remaining = items;
      inMap = isMap;
      continue;
    }
    if (payload > end - pos) {
      throw invalid(`a value declares ${payload} byte(s) but only ${end - pos} remain`);
    }
    if (isString && isKey) {
      if (matches(bytes, pos, payload, PROTO_KEY)) throw invalid("a map has the key '__proto__'");
      if (matches(bytes, pos, payload, CONSTRUCTOR_KEY)) needsCleanup = true;
    }
    pos += payload;
  }
}

/** A big-endian length of `size` bytes at `pos`. */
function readLength(bytes: Uint8Array, pos: number, size: number): number {
  if (pos + size > bytes.length) throw truncated();
  let value = 0;
  for (let i = 0; i < size; i++) value = value * 0x100 + bytes[pos + i];
  return value;
}

function matches(bytes: Uint8Array, pos: number, length: number, expected: Uint8Array): boolean {
  if (length !== expected.length) return false;
  for (let i = 0; i < length; i++) {
    if (bytes[pos + i] !== expected[i]) return false;
  }
  return true;
}

function truncated(): ProtocolError {
  return invalid('the body ends inside a value');
}

function invalid(problem: string): ProtocolError {
  return new ProtocolError(`Message is not valid MessagePack: ${problem}.`);
}

/** Depth is bounded by the first pass, so the recursion is too. */
function cleanUp(value: unknown): unknown {
  if (value instanceof Uint8Array) return value.slice();
  if (value instanceof ExtData) {
    return typeof value.data === 'function' ? value : new ExtData(value.type, value.data.slice());
  }
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) value[i] = cleanUp(value[i]);
    return value;
  }
  if (isDecodedMap(value)) {
    for (const key of Object.keys(value)) {
      const entry = value[key];
      if (key === 'constructor' && typeof entry === 'object' && entry !== null && Object.hasOwn(entry, 'prototype')) {
        delete value[key];
      } else {
        value[key] = cleanUp(entry);
      }
    }
  }
  return value;
}

/** Maps decode to plain objects; Dates (timestamps) and the like are left alone. */
export function isDecodedMap(value: unknown): value is Record<string, unknown> {
  return value instanceof Object && Object.getPrototypeOf(value) === Object.prototype;
}
