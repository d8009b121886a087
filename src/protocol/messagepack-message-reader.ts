import { isKnownMessageType, MessageType, type HubMessage } from './hub-message.js';
import { readJsonMessage } from './json-message-reader.js';
import { isDecodedMap } from './messagepack-values.js';
import { ProtocolError } from './protocol-error.js';

/** Result kinds of a MessagePack Completion: what its fifth element holds, if any. */
export const COMPLETION_ERROR = 1;
export const COMPLETION_VOID = 2;
export const COMPLETION_RESULT = 3;

/**
 * Fewest elements each message type must have. More are allowed and ignored: the protocol may
 * append elements in later versions (the official clients check minimums too).
 */
const MIN_ELEMENTS: Readonly<Record<MessageType, number>> = {
  [MessageType.Invocation]: 5,
  [MessageType.StreamItem]: 4,
  [MessageType.Completion]: 4,
  [MessageType.StreamInvocation]: 5,
  [MessageType.CancelInvocation]: 3,
  [MessageType.Ping]: 1,
  [MessageType.Close]: 2,
  [MessageType.Ack]: 2,
  [MessageType.Sequence]: 2,
};

type WireRecord = Record<string, unknown>;

/**
 * Turns one decoded MessagePack message (an array whose first element is the type) into a
 * message built afresh. The array's elements are named after the JSON protocol's fields and
 * checked by the JSON reader, so both protocols accept and refuse exactly the same things; the
 * differences are MessagePack's own: nil stands for "absent" where the layout allows it, and a
 * Completion says which of error, result or neither it carries with a result kind.
 * Returns undefined for a type this server does not know, which the specification says to skip.
 */
export function readMessagePackMessage(value: unknown): HubMessage | undefined {
  if (!Array.isArray(value) || value.length === 0) {
    throw new ProtocolError('Invalid payload: a message must be a non-empty MessagePack array.');
  }
  const type: unknown = value[0];
  if (typeof type !== 'number' || !Number.isInteger(type)) {
    throw new ProtocolError('Invalid payload: the message type must be an integer.');
  }
  if (!isKnownMessageType(type)) return undefined;
  const kind = MessageType[type];
  if (value.length < MIN_ELEMENTS[type]) {
    throw new ProtocolError(
      `Invalid payload for ${kind} message: expected at least ${MIN_ELEMENTS[type]} elements, got ${value.length}.`,
    );
  }
  return readJsonMessage(toRecord(type, value, kind));
}

function isEmptyArray(value: unknown): boolean {
  return Array.isArray(value) && value.length === 0;
}

/**
 * nil is set only where the layout allows it, since the JSON reader tells absent from null; an
 * element the message lacks is read as undefined, which the JSON reader takes as absent too.
 */
function toRecord(type: MessageType, elements: readonly unknown[], kind: string): WireRecord {
  const record: WireRecord = { type };
  switch (type) {
    case MessageType.Invocation:
    case MessageType.StreamInvocation: {
      setHeaders(record, elements[1], kind);
      // nil is how a non-blocking Invocation (send()) says it has no id; the JSON reader requires
      // one of a StreamInvocation, so there it reads as the missing id it is.
      if (elements[2] !== null) record.invocationId = elements[2];
      record.target = elements[3];
      record.arguments = elements[4];
      // The JS client writes the sixth element only when there are upload streams, ASP.NET Core
      // always (an empty array without streams); both read as "no streams".
      if (!isEmptyArray(elements[5])) record.streamIds = elements[5];
      return record;
    }
    case MessageType.StreamItem:
      setHeaders(record, elements[1], kind);
      record.invocationId = elements[2];
      record.item = elements[3];
      return record;
    case MessageType.Completion:
      setHeaders(record, elements[1], kind);
      record.invocationId = elements[2];
      setCompletionOutcome(record, elements, kind);
      return record;
    case MessageType.CancelInvocation:
      setHeaders(record, elements[1], kind);
      record.invocationId = elements[2];
      return record;
    case MessageType.Close:
      // Close has no headers: [7, error|nil, allowReconnect?].
      if (elements[1] !== null) record.error = elements[1];
      record.allowReconnect = elements[2];
      return record;
    case MessageType.Ack:
    case MessageType.Sequence:
      record.sequenceId = elements[1];
      return record;
    case MessageType.Ping:
      return record;
  }
}

function setCompletionOutcome(record: WireRecord, elements: readonly unknown[], kind: string): void {
  const resultKind = elements[3];
  switch (resultKind) {
    case COMPLETION_ERROR:
    case COMPLETION_RESULT:
      if (elements.length < 5) {
        throw new ProtocolError(`Invalid payload for ${kind} message: result kind ${resultKind} needs a fifth element.`);
      }
      if (resultKind === COMPLETION_ERROR) record.error = elements[4];
      else record.result = elements[4];
      return;
    case COMPLETION_VOID:
      return;
    default:
      throw new ProtocolError(
        `Invalid payload for ${kind} message: the result kind must be 1 (error), 2 (void) or 3 (result).`,
      );
  }
}

/** Headers are a map of strings; an empty map (what clients send) means none. */
function setHeaders(record: WireRecord, headers: unknown, kind: string): void {
  if (!isDecodedMap(headers)) {
    throw new ProtocolError(`Invalid payload for ${kind} message: 'headers' must be a map of strings.`);
  }
  if (Object.keys(headers).length > 0) record.headers = headers;
}
