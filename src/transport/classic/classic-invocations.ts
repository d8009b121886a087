import { classicErrors } from '../../errors/classic-errors.js';
import { MAX_CLASSIC_STATE_LENGTH, parseHubInvocation } from '../../protocol/classic/classic-messages.js';
import { ProtocolError } from '../../protocol/protocol-error.js';
import type { ClassicConnection } from './classic-connection.js';

/** Classic SignalR's limit on a message's nesting (its JSON serializer's MaxDepth). */
const MAX_CLASSIC_DEPTH = 20;

/**
 * Hands one hub invocation of a classic client (a WebSocket frame, or `/send`'s `data`) to the
 * hub connection of the hub it names. What no hub connection can answer is answered here, as an
 * error result: a hub the connection did not start with, state over classic SignalR's limit or
 * for a hub that takes none.
 * Hub state, where the hub takes it, goes to the method with the invocation (`@ClassicState()`).
 */
export class ClassicInvocations {
  constructor(private readonly maximumMessageSize: number) {}

  async run(connection: ClassicConnection, text: string): Promise<'done' | 'unreadable'> {
    if (text.length > this.maximumMessageSize) return 'unreadable';
    let invocation;
    try {
      invocation = parseHubInvocation(text, MAX_CLASSIC_DEPTH);
    } catch (error) {
      if (error instanceof ProtocolError) return 'unreadable';
      throw error;
    }
    const hub = connection.hubs.get(invocation.hub.toLowerCase());
    if (!hub) {
      connection.answer(invocation.invocationId, classicErrors.hubNotInConnection(invocation.hub));
      return 'done';
    }
    if (invocation.state !== undefined && !hub.acceptsState) {
      connection.answer(invocation.invocationId, classicErrors.stateRefused(hub.hubName));
      return 'done';
    }
    if (invocation.state !== undefined && invocation.state.length > MAX_CLASSIC_STATE_LENGTH) {
      connection.answer(invocation.invocationId, classicErrors.stateTooLarge(MAX_CLASSIC_STATE_LENGTH));
      return 'done';
    }
    await hub.invoke(invocation);
    return 'done';
  }
}
