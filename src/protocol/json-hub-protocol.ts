import type { HubMessage } from './hub-message.js';
import type { HubProtocol } from './hub-protocol.js';
import { readJsonMessage } from './json-message-reader.js';
import { writeJsonMessage } from './json-message-writer.js';
import { parseJsonSafely } from './safe-json.js';
import { decodeUtf8, splitRecords } from './text-message-format.js';

export interface JsonHubProtocolOptions {
  /** Deepest nesting of objects and arrays accepted in a message, its envelope included. Default 32. */
  readonly maxDepth?: number;
}

export const DEFAULT_MAX_JSON_DEPTH = 32;

/** The `json` hub protocol: UTF-8 text records, each ended by 0x1E. */
export class JsonHubProtocol implements HubProtocol {
  readonly name = 'json';
  /** Version 2 adds Ack and Sequence (stateful reconnect); version 1 clients are served too. */
  readonly version = 2;
  readonly transferFormat = 'Text';
  private readonly maxDepth: number;

  constructor(options: JsonHubProtocolOptions = {}) {
    const maxDepth = options.maxDepth ?? DEFAULT_MAX_JSON_DEPTH;
    if (!Number.isInteger(maxDepth) || maxDepth < 1) {
      throw new RangeError(`maxDepth must be a positive integer, got ${maxDepth}.`);
    }
    this.maxDepth = maxDepth;
  }

  parseMessages(frame: Buffer): HubMessage[] {
    const messages: HubMessage[] = [];
    for (const record of splitRecords(decodeUtf8(frame))) {
      const message = readJsonMessage(parseJsonSafely(record, this.maxDepth));
      if (message !== undefined) messages.push(message);
    }
    return messages;
  }

  writeMessage(message: HubMessage): string {
    return writeJsonMessage(message);
  }
}
