import { ProtocolError } from './protocol-error.js';

/**
 * Binary framing of the hub protocol: every message is preceded by its length as a
 * little-endian base-128 varint of 1 to 5 bytes. The fifth byte may carry 3 bits at most,
 * so no message is longer than 2^31 - 1 bytes (the 2 GB limit of the specification).
 */
export const MAX_LENGTH_PREFIX_SIZE = 5;
export const MAX_BINARY_MESSAGE_SIZE = 2 ** 31 - 1;

/** The largest value the fifth prefix byte may hold. */
const MAX_LAST_PREFIX_BYTE = 0x07;

/**
 * Cuts a frame into the bodies of the messages it holds, as views of `bytes` (nothing is copied).
 * A frame holds whole messages only: a prefix or body cut short, or a body over `maxBodySize`
 * (checked from its prefix, before anything is read), is a {@link ProtocolError}.
 */
export function splitBinaryMessages(bytes: Uint8Array, maxBodySize = MAX_BINARY_MESSAGE_SIZE): Uint8Array[] {
  const bodies: Uint8Array[] = [];
  let offset = 0;
  while (offset < bytes.length) {
    let length = 0;
    let prefixSize = 0;
    let byte: number;
    do {
      if (prefixSize === MAX_LENGTH_PREFIX_SIZE) {
        throw new ProtocolError('Invalid message length prefix: longer than 5 bytes.');
      }
      if (offset + prefixSize >= bytes.length) {
        throw new ProtocolError('Incomplete message: the frame ends inside a length prefix.');
      }
      byte = bytes[offset + prefixSize];
      // Multiplication rather than shifts: the bitwise operators of JS are 32-bit signed.
      length += (byte & 0x7f) * 2 ** (7 * prefixSize);
      prefixSize++;
    } while ((byte & 0x80) !== 0);
    if (prefixSize === MAX_LENGTH_PREFIX_SIZE && byte > MAX_LAST_PREFIX_BYTE) {
      throw new ProtocolError('Invalid message length prefix: messages over 2 GB are not supported.');
    }
    const start = offset + prefixSize;
    const end = start + length;
    if (end > bytes.length) {
      throw new ProtocolError(
        `Incomplete message: its prefix announces ${length} bytes but the frame holds ${bytes.length - start}.`,
      );
    }
    if (length > maxBodySize) {
      throw new ProtocolError(`Message of ${length} bytes exceeds the maximum message size.`);
    }
    if (length === 0) {
      throw new ProtocolError('Invalid message: an empty body is not a MessagePack value.');
    }
    bodies.push(bytes.subarray(start, end));
    offset = end;
  }
  return bodies;
}

/** How many bytes the varint prefix of a body of `length` bytes takes. */
export function lengthPrefixSize(length: number): number {
  let size = 1;
  while (length >= 0x80) {
    length = Math.floor(length / 0x80);
    size++;
  }
  return size;
}

/** Writes the varint prefix of `length` at `offset`; returns the offset just after it. */
export function writeLengthPrefix(length: number, target: Uint8Array, offset: number): number {
  if (!Number.isSafeInteger(length) || length < 0 || length > MAX_BINARY_MESSAGE_SIZE) {
    throw new RangeError(`Cannot frame a message of ${length} bytes: the binary framing stops at 2 GB.`);
  }
  let remaining = length;
  while (remaining >= 0x80) {
    target[offset++] = (remaining & 0x7f) | 0x80;
    remaining = Math.floor(remaining / 0x80);
  }
  target[offset++] = remaining;
  return offset;
}

/** `body` with its length prefix, in a new array of exactly the framed size. */
export function frameBinaryMessage(body: Uint8Array): Uint8Array {
  const framed = new Uint8Array(lengthPrefixSize(body.length) + body.length);
  framed.set(body, writeLengthPrefix(body.length, framed, 0));
  return framed;
}
