import { RECORD_SEPARATOR } from '../../src/protocol/text-message-format.js';

/** A frame holding each record followed by its separator, as clients send them. */
export function frameOf(...records: string[]): Buffer {
  return Buffer.from(records.map((record) => record + RECORD_SEPARATOR).join(''), 'utf8');
}

/** The MessagePack varint length prefix, computed independently of the implementation under test. */
export function varint(length: number): number[] {
  const out: number[] = [];
  do {
    let byte = length % 128;
    length = Math.floor(length / 128);
    if (length > 0) byte |= 0x80;
    out.push(byte);
  } while (length > 0);
  return out;
}

/** Bytes from hex written with any spacing. */
export function hex(text: string): Buffer {
  return Buffer.from(text.replace(/\s+/g, ''), 'hex');
}
