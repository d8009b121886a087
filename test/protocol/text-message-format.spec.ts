import { describe, expect, it } from 'vitest';
import { ProtocolError } from '../../src/protocol/protocol-error.js';
import {
  decodeUtf8,
  RECORD_SEPARATOR,
  RECORD_SEPARATOR_CODE,
  splitRecords,
  toRecord,
} from '../../src/protocol/text-message-format.js';

const RS = '\u001e';

describe('text message format', () => {
  it('uses 0x1E as the record separator', () => {
    expect(RECORD_SEPARATOR_CODE).toBe(0x1e);
    expect(RECORD_SEPARATOR).toBe(RS);
    expect(toRecord('{}')).toBe(`{}${RS}`);
  });

  it('splits a frame into its records', () => {
    expect(splitRecords(`a${RS}`)).toEqual(['a']);
    expect(splitRecords(`a${RS}b${RS}c${RS}`)).toEqual(['a', 'b', 'c']);
  });

  it.each([
    ['an empty frame', ''],
    ['a frame without separator', '{"type":6}'],
    ['a frame whose last record is cut short', `{"type":6}${RS}{"type":6}`],
  ])('rejects %s as incomplete', (_, text) => {
    expect(() => splitRecords(text)).toThrow(new ProtocolError('Message is incomplete.'));
  });

  it.each([
    ['a lone separator', RS],
    ['two separators in a row', `a${RS}${RS}`],
    ['a leading separator', `${RS}a${RS}`],
  ])('rejects an empty record: %s', (_, text) => {
    expect(() => splitRecords(text)).toThrow(new ProtocolError('Message is empty: two record separators follow each other.'));
  });

  it('decodes valid UTF-8 and rejects invalid bytes', () => {
    expect(decodeUtf8(Buffer.from('héllo 😀', 'utf8'))).toBe('héllo 😀');
    expect(() => decodeUtf8(Buffer.from([0x7b, 0xff, 0x7d]))).toThrow(new ProtocolError('Message is not valid UTF-8.'));
    // A truncated multi-byte sequence: the first two bytes of a three-byte character.
    expect(() => decodeUtf8(Buffer.from([0xe2, 0x82]))).toThrow(ProtocolError);
  });
});
