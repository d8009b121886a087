import type { HubConnection } from '@microsoft/signalr';

// Every place the client extension relies on internals of `@microsoft/signalr`, for want of a
// public way. Pinned by test/client-extension/signalr-client-internals.spec.ts, which names what
// moved and the client version it moved in.

const MESSAGE_BUFFER = '_messageBuffer';
const LATEST_RECEIVED = '_latestReceivedSequenceId';

/**
 * How many messages the connection received, as stateful reconnect numbers them. The client
 * keeps the count in its private message buffer and offers no public way to read it; counting
 * beside it would mean redoing its sequence rules (duplicates dropped after a reconnect, the
 * restart a Sequence message orders), where any drift would lose messages without a sound.
 * Undefined when it is not there: the socket then reconnects without resuming, as it would
 * without the extension.
 */
export function receivedCount(connection: HubConnection): number | undefined {
  const buffer: unknown = Reflect.get(connection, MESSAGE_BUFFER);
  const received: unknown = typeof buffer === 'object' && buffer !== null ? Reflect.get(buffer, LATEST_RECEIVED) : undefined;
  return typeof received === 'number' ? received : undefined;
}
