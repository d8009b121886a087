import {
  MessageType,
  type CompletionMessage,
  type HubMessage,
  type InvocationMessage,
  type MessageHeaders,
  type StreamInvocationMessage,
} from './hub-message.js';
import { toJsonValue } from './json-values.js';
import { toRecord } from './text-message-format.js';

type WireObject = Record<string, unknown>;

/**
 * Serializes a message the way ASP.NET Core does: same keys, same order, optional keys left
 * out rather than written as null, bytes and dates written as it writes them, so clients see
 * no difference between the two servers.
 */
export function writeJsonMessage(message: HubMessage): string {
  return toRecord(JSON.stringify(toWireObject(message)));
}

function toWireObject(message: HubMessage): WireObject {
  switch (message.type) {
    case MessageType.Invocation:
    case MessageType.StreamInvocation:
      return invocationObject(message);
    case MessageType.StreamItem: {
      const wire = envelope(message.type, message.headers);
      wire.invocationId = message.invocationId;
      // An undefined item would vanish from the JSON, and clients reject an item-less StreamItem.
      wire.item = toJsonValue(message.item ?? null);
      return wire;
    }
    case MessageType.Completion:
      return completionObject(message);
    case MessageType.CancelInvocation: {
      const wire = envelope(message.type, message.headers);
      wire.invocationId = message.invocationId;
      return wire;
    }
    case MessageType.Ping:
      return { type: message.type };
    case MessageType.Close:
      return closeObject(message.error, message.allowReconnect);
    case MessageType.Ack:
    case MessageType.Sequence:
      return { type: message.type, sequenceId: message.sequenceId };
    default:
      return unknownMessage(message);
  }
}

function invocationObject(message: InvocationMessage | StreamInvocationMessage): WireObject {
  const wire = envelope(message.type, message.headers);
  // JSON.stringify leaves out a field that is undefined: a send() has no invocationId on the wire.
  wire.invocationId = message.invocationId;
  wire.target = message.target;
  wire.arguments = toJsonValue(message.arguments);
  if (message.streamIds !== undefined && message.streamIds.length > 0) wire.streamIds = message.streamIds;
  return wire;
}

/** A defined `result` counts as a result even without `hasResult`, so a caller that forgets the flag loses nothing. */
function completionObject(message: CompletionMessage): WireObject {
  const wire = envelope(message.type, message.headers);
  wire.invocationId = message.invocationId;
  if (message.error !== undefined) {
    wire.error = message.error;
  } else if (message.hasResult === true || message.result !== undefined) {
    wire.result = toJsonValue(message.result ?? null);
  }
  return wire;
}

/** `allowReconnect: false` is the default, so like ASP.NET Core only `true` is written. */
function closeObject(error: string | undefined, allowReconnect: boolean | undefined): WireObject {
  const wire: WireObject = { type: MessageType.Close };
  wire.error = error;
  if (allowReconnect === true) wire.allowReconnect = true;
  return wire;
}

/** The keys every message of types 1 to 5 starts with; empty headers are left out, as ASP.NET Core does. */
function envelope(type: MessageType, headers: MessageHeaders | undefined): WireObject {
  const wire: WireObject = { type };
  if (headers !== undefined && Object.keys(headers).length > 0) wire.headers = headers;
  return wire;
}

/** Reached only from untyped code; writing a guess would put a message on the wire no client expects. */
function unknownMessage(message: never): never {
  throw new TypeError(`Cannot write a hub message of type ${String((message as { type: unknown }).type)}.`);
}
