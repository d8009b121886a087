import { describe, expect, it, vi } from 'vitest';
import { MessageType, type HubMessage } from '../../src/protocol/hub-message.js';
import type { HubProtocol } from '../../src/protocol/hub-protocol.js';
import { JsonHubProtocol } from '../../src/protocol/json-hub-protocol.js';
import { MessagePackHubProtocol } from '../../src/protocol/messagepack-hub-protocol.js';
import { SerializedHubMessage } from '../../src/protocol/serialized-hub-message.js';

const message: HubMessage = { type: MessageType.Invocation, target: 'Receive', arguments: ['héllo', 1] };

/** Real protocols whose writes are counted (the spy calls through). */
function countedProtocols(): HubProtocol[] {
  const protocols = [new JsonHubProtocol(), new MessagePackHubProtocol(), new JsonHubProtocol({ maxDepth: 8 })];
  for (const protocol of protocols) vi.spyOn(protocol, 'writeMessage');
  return protocols;
}

function writes(protocol: HubProtocol): number {
  return vi.mocked(protocol.writeMessage).mock.calls.length;
}

describe('SerializedHubMessage', () => {
  it('hands a text protocol its record as UTF-8 bytes and a binary one its frame', () => {
    const serialized = new SerializedHubMessage(message);
    const [json, messagePack] = countedProtocols();
    expect(Buffer.from(serialized.payloadFor(json!)).toString('utf8')).toBe(new JsonHubProtocol().writeMessage(message));
    expect(serialized.payloadFor(messagePack!)).toEqual(new MessagePackHubProtocol().writeMessage(message));
    expect(serialized.message).toBe(message);
  });

  it.each([
    ['json first', [0, 1, 2]],
    ['messagepack first', [1, 0, 2]],
    ['the third protocol first', [2, 1, 0]],
  ])('serializes once per protocol, whatever the order of recipients (%s)', (_, order) => {
    const serialized = new SerializedHubMessage(message);
    const protocols = countedProtocols();
    const first = new Map<HubProtocol, string | Uint8Array>();
    for (let round = 0; round < 3; round++) {
      for (const index of order) {
        const protocol = protocols[index]!;
        const payload = serialized.payloadFor(protocol);
        if (!first.has(protocol)) first.set(protocol, payload);
        expect(payload).toBe(first.get(protocol));
      }
    }
    expect(protocols.map(writes)).toEqual([1, 1, 1]);
    expect(Buffer.from(first.get(protocols[2]!)!).toString('utf8')).toBe(new JsonHubProtocol().writeMessage(message));
  });
});
