import { RECORD_SEPARATOR } from '../../src/protocol/text-message-format.js';

/** A frame holding each record followed by its separator, as clients send them. */
export function frameOf(...records: string[]): Buffer {
  return Buffer.from(records.map((record) => record + RECORD_SEPARATOR).join(''), 'utf8');
}
