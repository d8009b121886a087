import { randomUUID } from 'node:crypto';
import type { HubConnectionHandle } from '../../src/lifetime/hub-connection-handle.js';
import { DEFAULT_HUB_OPTIONS } from '../../src/options/hub-options.js';
import { MessageType } from '../../src/protocol/hub-message.js';
import type { HubProtocol } from '../../src/protocol/hub-protocol.js';
import { JsonHubProtocol } from '../../src/protocol/json-hub-protocol.js';
import type { SerializedHubMessage } from '../../src/protocol/serialized-hub-message.js';

/** A message the tests send only to learn that what was sent before it has arrived. */
export const FENCE = '__fence__';

export interface Received {
  readonly target: string;
  readonly args: readonly unknown[];
}

type ClientHandler = (method: string, args: readonly unknown[]) => Promise<unknown>;

/**
 * A connection of one node: records, decoded from the bytes it would have sent, what it receives,
 * and the group changes its lifetime manager reports to it.
 */
export class FakeConnection implements HubConnectionHandle {
  readonly connectionId = randomUUID();
  readonly received: Received[] = [];
  readonly membershipChanges: string[] = [];
  maximumGroups = DEFAULT_HUB_OPTIONS.maximumGroupsPerConnection;

  constructor(
    readonly userIdentifier: string | undefined = undefined,
    private readonly protocol: HubProtocol = new JsonHubProtocol(),
    private readonly onInvoke: ClientHandler = () => new Promise(() => {}),
  ) {}

  write(message: SerializedHubMessage): void {
    const payload = message.payloadFor(this.protocol);
    const frame = typeof payload === 'string' ? Buffer.from(payload) : Buffer.from(payload);
    for (const parsed of this.protocol.parseMessages(frame)) {
      if (parsed.type !== MessageType.Invocation) throw new Error(`Unexpected message type ${parsed.type}`);
      this.received.push({ target: parsed.target, args: parsed.arguments });
    }
  }

  invokeClient(method: string, args: readonly unknown[]): Promise<unknown> {
    return this.onInvoke(method, args);
  }

  membershipChanged(groupName: string, member: boolean): void {
    this.membershipChanges.push(`${member ? '+' : '-'}${groupName}`);
  }

  /** What it received, fences left out. */
  messages(): Received[] {
    return this.received.filter((message) => message.target !== FENCE);
  }

  targets(): string[] {
    return this.messages().map((message) => message.target);
  }
}

