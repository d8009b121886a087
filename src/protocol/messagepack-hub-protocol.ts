import { Encoder } from '@msgpack/msgpack';
import { MessageType, type HubMessage } from './hub-message.js';
import type { HubProtocol } from './hub-protocol.js';
import { frameBinaryMessage, MAX_BINARY_MESSAGE_SIZE, splitBinaryMessages } from './messagepack-framing.js';
import { readMessagePackMessage } from './messagepack-message-reader.js';
import { toMessagePackLayout } from './messagepack-message-writer.js';
import { MessagePackValueReader } from './messagepack-values.js';

export interface MessagePackHubProtocolOptions {
  /** Deepest nesting of arrays and maps accepted in a message, its own array included. Default 32. */
  readonly maxDepth?: number;
  /** Largest message body accepted, in bytes, its length prefix excluded; a frame may hold many. Default: 2 GB. */
  readonly maxMessageSize?: number;
}

export const DEFAULT_MAX_MESSAGEPACK_DEPTH = 32;

/**
 * A Ping, framed: length 2, then `[6]`. Shared, so never to be modified; {@link
 * MessagePackHubProtocol.writeMessage} hands out copies.
 */
export const MESSAGEPACK_PING_FRAME: Uint8Array = Uint8Array.of(0x02, 0x91, 0x06);

/**
 * The encoder's buffer only grows (to twice the largest message written). Past this size it is
 * dropped after use, so one large message does not pin its memory for the life of the server.
 */
const ENCODER_BUFFER_KEPT_UP_TO = 1024 * 1024;

/**
 * The `messagepack` hub protocol: binary frames of messages, each a varint length then a
 * MessagePack array, wire-compatible with ASP.NET Core and `@microsoft/signalr-protocol-msgpack`.
 */
export class MessagePackHubProtocol implements HubProtocol {
  readonly name = 'messagepack';
  /**
   * Version 2 adds Ack and Sequence (stateful reconnect), as in ASP.NET Core. The client asks for
   * version 2 when negotiate offers stateful reconnect and 1 otherwise; both are served.
   */
  readonly version = 2;
  readonly transferFormat = 'Binary';
  private readonly values: MessagePackValueReader;
  // Its defaults write undefined as nil, map values included, as the official encoder does: clients read null.
  private encoder = new Encoder();
  private readonly maxMessageSize: number;

  constructor(options: MessagePackHubProtocolOptions = {}) {
    this.maxMessageSize = options.maxMessageSize ?? MAX_BINARY_MESSAGE_SIZE;
    const maxDepth = options.maxDepth ?? DEFAULT_MAX_MESSAGEPACK_DEPTH;
    if (!Number.isInteger(maxDepth) || maxDepth < 1) {
      throw new RangeError(`maxDepth must be a positive integer, got ${maxDepth}.`);
    }
    this.values = new MessagePackValueReader(maxDepth);
  }

  parseMessages(frame: Buffer): HubMessage[] {
    // A plain view: binaries the decoder slices out of it are then plain Uint8Arrays too.
    const bytes = new Uint8Array(frame.buffer, frame.byteOffset, frame.byteLength);
    const messages: HubMessage[] = [];
    for (const body of splitBinaryMessages(bytes, this.maxMessageSize)) {
      const message = readMessagePackMessage(this.values.read(body));
      if (message !== undefined) messages.push(message);
    }
    return messages;
  }

  writeMessage(message: HubMessage): Uint8Array {
    // Stryker disable next-line ConditionalExpression: the encoder writes the same three bytes; pings, the most frequent message, skip it.
    if (message.type === MessageType.Ping) return MESSAGEPACK_PING_FRAME.slice();
    // A view of the encoder's buffer, valid until the next encode: framing copies it out.
    const body = this.encoder.encodeSharedRef(toMessagePackLayout(message));
    const framed = frameBinaryMessage(body);
    // Stryker disable next-line ConditionalExpression,EqualityOperator: memory only; a new encoder writes the same bytes.
    if (body.length > ENCODER_BUFFER_KEPT_UP_TO) this.encoder = new Encoder();
    return framed;
  }
}
