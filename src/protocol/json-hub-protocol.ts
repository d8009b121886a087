import type { HubMessage } from './hub-message.js';
import type { HubProtocol } from './hub-protocol.js';
import { readJsonMessage } from './json-message-reader.js';
import { writeJsonMessage } from './json-message-writer.js';
import { parseJsonSafely } from './safe-json.js';
import { ProtocolError } from './protocol-error.js';
import { decodeUtf8, RECORD_SEPARATOR_CODE, splitRecords } from './text-message-format.js';

export interface JsonHubProtocolOptions {
  /** Deepest nesting of objects and arrays accepted in a message, its envelope included. Default 32. */
  readonly maxDepth?: number;
  /** Largest record accepted, in bytes, its separator excluded; a frame may hold many. Default: no limit. */
  readonly maxMessageSize?: number;
}

export const DEFAULT_MAX_JSON_DEPTH = 32;

/** The `json` hub protocol: UTF-8 text records, each ended by 0x1E. */
export class JsonHubProtocol implements HubProtocol {
  readonly name = 'json';
  /** Version 2 adds Ack and Sequence (stateful reconnect); version 1 clients are served too. */
  readonly version = 2;
  readonly transferFormat = 'Text';
  private readonly maxDepth: number;
  private readonly maxMessageSize: number;

  constructor(options: JsonHubProtocolOptions = {}) {
    this.maxMessageSize = options.maxMessageSize ?? Number.POSITIVE_INFINITY;
    const maxDepth = options.maxDepth ?? DEFAULT_MAX_JSON_DEPTH;
    if (!Number.isInteger(maxDepth) || maxDepth < 1) {
      throw new RangeError(`maxDepth must be a positive integer, got ${maxDepth}.`);
    }
    this.maxDepth = maxDepth;
  }

  parseMessages(frame: Buffer): HubMessage[] {
    // Only a frame longer than the limit can hold a record longer than it: one native scan then.
    // Stryker disable next-line ConditionalExpression,EqualityOperator,ArithmeticOperator: only saves the scan; too long a record is refused either way.
    if (frame.length > this.maxMessageSize + 1) this.checkRecordSizes(frame);
    const messages: HubMessage[] = [];
    for (const record of splitRecords(decodeUtf8(frame))) {
      const message = readJsonMessage(parseJsonSafely(record, this.maxDepth));
      if (message !== undefined) messages.push(message);
    }
    return messages;
  }

  private checkRecordSizes(frame: Buffer): void {
    // Stryker disable next-line EqualityOperator: at the frame's end the scan finds an empty last record, which fits.
    for (let start = 0; start < frame.length; ) {
      const end = frame.indexOf(RECORD_SEPARATOR_CODE, start);
      const length = (end === -1 ? frame.length : end) - start;
      if (length > this.maxMessageSize) throw new ProtocolError(`Message of ${length} bytes exceeds the maximum message size.`);
      if (end === -1) return;
      start = end + 1;
    }
  }

  writeMessage(message: HubMessage): string {
    return writeJsonMessage(message);
  }
}
