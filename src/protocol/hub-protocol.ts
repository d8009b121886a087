import type { HubMessage } from './hub-message.js';

export type TransferFormat = 'Text' | 'Binary';

/**
 * A wire format of the hub protocol. Implementations are pure: they turn whole frames into
 * messages and messages into frames, and know nothing of sockets or Nest.
 */
export interface HubProtocol {
  /** The name a client asks for in its handshake (`json`, `messagepack`). */
  readonly name: string;
  readonly version: number;
  readonly transferFormat: TransferFormat;
  /**
   * Parses every message in one frame. Throws {@link ProtocolError} on bad framing or shape;
   * messages of unknown type are skipped, as the specification requires.
   */
  parseMessages(frame: Buffer): HubMessage[];
  /** Serializes one message, framing included, ready to be sent as one WebSocket frame. */
  writeMessage(message: HubMessage): string | Uint8Array;
}
