import { MessageType, type CompletionMessage, type HubMessage, type MessageHeaders } from './hub-message.js';
import { COMPLETION_ERROR, COMPLETION_RESULT, COMPLETION_VOID } from './messagepack-message-reader.js';

const NO_HEADERS: MessageHeaders = Object.freeze({});
const NO_STREAMS: readonly string[] = Object.freeze([]);

/**
 * The array ASP.NET Core's MessagePack protocol writes for a message, element for element, ready
 * for the encoder. As there, Invocation and StreamInvocation always have their sixth element (an
 * empty array without streams), Close always its third, and headers are always a map.
 * Undefined values (arguments, items, results) encode as nil, which clients read as null.
 */
export function toMessagePackLayout(message: HubMessage): unknown[] {
  switch (message.type) {
    case MessageType.Invocation:
      return [
        message.type,
        message.headers ?? NO_HEADERS,
        // An empty id would read as "no id" to every client, so it is written as one.
        message.invocationId || null,
        message.target,
        message.arguments,
        message.streamIds ?? NO_STREAMS,
      ];
    case MessageType.StreamInvocation:
      return [
        message.type,
        message.headers ?? NO_HEADERS,
        message.invocationId,
        message.target,
        message.arguments,
        message.streamIds ?? NO_STREAMS,
      ];
    case MessageType.StreamItem:
      return [message.type, message.headers ?? NO_HEADERS, message.invocationId, message.item];
    case MessageType.Completion:
      return completionLayout(message);
    case MessageType.CancelInvocation:
      return [message.type, message.headers ?? NO_HEADERS, message.invocationId];
    case MessageType.Ping:
      return [message.type];
    case MessageType.Close:
      // An empty error is no error, as in ASP.NET Core.
      return [message.type, message.error || null, message.allowReconnect === true];
    case MessageType.Ack:
    case MessageType.Sequence:
      return [message.type, message.sequenceId];
    default:
      return unknownMessage(message);
  }
}

/** A defined `result` counts as a result even without `hasResult`, as in the JSON writer. */
function completionLayout(message: CompletionMessage): unknown[] {
  const { type, invocationId } = message;
  const headers = message.headers ?? NO_HEADERS;
  if (message.error !== undefined) return [type, headers, invocationId, COMPLETION_ERROR, message.error];
  if (message.hasResult === true || message.result !== undefined) {
    return [type, headers, invocationId, COMPLETION_RESULT, message.result];
  }
  return [type, headers, invocationId, COMPLETION_VOID];
}

/** Reached only from untyped code; writing a guess would put a message on the wire no client expects. */
function unknownMessage(message: never): never {
  throw new TypeError(`Cannot write a hub message of type ${String((message as { type: unknown }).type)}.`);
}
