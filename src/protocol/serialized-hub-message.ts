import type { HubMessage } from './hub-message.js';
import type { HubProtocol } from './hub-protocol.js';

/**
 * A message bound for many connections, serialized at most once per protocol however many
 * recipients it has: broadcasts are the hot path of a hub.
 */
export class SerializedHubMessage {
  // Two protocols exist, so a pair of slots beats a Map.
  private firstProtocol: HubProtocol | undefined;
  private firstPayload: string | Uint8Array | undefined;
  private otherPayloads: Map<HubProtocol, string | Uint8Array> | undefined;

  constructor(readonly message: HubMessage) {}

  payloadFor(protocol: HubProtocol): string | Uint8Array {
    if (this.firstProtocol === protocol) return this.firstPayload!;
    if (this.firstProtocol === undefined) {
      this.firstProtocol = protocol;
      return (this.firstPayload = protocol.writeMessage(this.message));
    }
    this.otherPayloads ??= new Map();
    let payload = this.otherPayloads.get(protocol);
    if (payload === undefined) {
      payload = protocol.writeMessage(this.message);
      this.otherPayloads.set(protocol, payload);
    }
    return payload;
  }
}
