import type { HubMessage } from './hub-message.js';
import type { HubProtocol } from './hub-protocol.js';

/**
 * A message bound for many connections, serialized at most once per protocol however many
 * recipients it has: broadcasts are the hot path of a hub. A text protocol's record is kept as
 * its UTF-8 bytes, so that no socket encodes the same string again.
 */
export class SerializedHubMessage {
  // Two protocols exist, so a pair of slots beats a Map.
  private firstProtocol: HubProtocol | undefined;
  private firstPayload: string | Uint8Array | undefined;
  private otherPayloads: Map<HubProtocol, string | Uint8Array> | undefined;

  constructor(readonly message: HubMessage) {}

  payloadFor(protocol: HubProtocol): string | Uint8Array {
    if (this.firstProtocol === protocol) return this.firstPayload!;
    // Stryker disable next-line ConditionalExpression,EqualityOperator,BlockStatement: the map serves the first protocol as well, only slower.
    if (this.firstProtocol === undefined) {
      this.firstProtocol = protocol;
      return (this.firstPayload = encoded(protocol.writeMessage(this.message)));
    }
    this.otherPayloads ??= new Map();
    let payload = this.otherPayloads.get(protocol);
    if (payload === undefined) {
      payload = encoded(protocol.writeMessage(this.message));
      this.otherPayloads.set(protocol, payload);
    }
    return payload;
  }
}

function encoded(payload: string | Uint8Array): Uint8Array {
  return typeof payload === 'string' ? Buffer.from(payload) : payload;
}
