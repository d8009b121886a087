import { isUtf8 } from 'node:buffer';
import { ProtocolError } from './protocol-error.js';

/** Ends every JSON record, the handshake included (ASCII "record separator"). */
export const RECORD_SEPARATOR_CODE = 0x1e;
export const RECORD_SEPARATOR = String.fromCharCode(RECORD_SEPARATOR_CODE);

/** Appends the separator that ends a record. */
export function toRecord(json: string): string {
  return json + RECORD_SEPARATOR;
}

/**
 * Splits a text frame into its records, separators removed. Clients never split a record
 * across frames, so a frame that stops mid-record is an error, not something to buffer.
 */
export function splitRecords(text: string): string[] {
  if (!text.endsWith(RECORD_SEPARATOR)) {
    throw new ProtocolError('Message is incomplete.');
  }
  const records = text.split(RECORD_SEPARATOR);
  records.pop();
  if (records.includes('')) {
    throw new ProtocolError('Message is empty: two record separators follow each other.');
  }
  return records;
}

/**
 * Decodes UTF-8 strictly: a lenient decoder would turn bad bytes into U+FFFD and let a
 * corrupted record through as if it were what the client meant.
 */
export function decodeUtf8(bytes: Buffer): string {
  if (!isUtf8(bytes)) {
    throw new ProtocolError('Message is not valid UTF-8.');
  }
  return bytes.toString('utf8');
}
