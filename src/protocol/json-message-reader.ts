import {
  isKnownMessageType,
  MessageType,
  type CancelInvocationMessage,
  type CloseMessage,
  type CompletionMessage,
  type HubMessage,
  type InvocationMessage,
  type StreamInvocationMessage,
  type StreamItemMessage,
} from './hub-message.js';
import { isJsonObject, ownField } from './json-object.js';
import { MessageFields } from './message-fields.js';
import { ProtocolError } from './protocol-error.js';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/**
 * Turns one parsed JSON record into a message built afresh from the fields the protocol
 * defines: nothing else the client put in the record travels further.
 * Returns undefined for a type this server does not know, which the specification says to skip.
 */
export function readJsonMessage(record: unknown): HubMessage | undefined {
  if (!isJsonObject(record)) {
    throw new ProtocolError('Invalid payload: a message must be a JSON object.');
  }
  const type = ownField(record, 'type');
  if (typeof type !== 'number' || !Number.isInteger(type)) {
    throw new ProtocolError("Invalid payload: 'type' must be an integer.");
  }
  // Stryker disable next-line ConditionalExpression: an unknown type matches no case below either, and reads as undefined there too.
  if (!isKnownMessageType(type)) return undefined;
  const fields = new MessageFields(record, MessageType[type]);
  switch (type) {
    case MessageType.Invocation:
      return readInvocation(fields);
    case MessageType.StreamInvocation:
      return readStreamInvocation(fields);
    case MessageType.StreamItem:
      return readStreamItem(fields);
    case MessageType.Completion:
      return readCompletion(fields);
    case MessageType.CancelInvocation:
      return withHeaders<CancelInvocationMessage>({ type, invocationId: fields.invocationId() }, fields);
    case MessageType.Ping:
      return { type };
    case MessageType.Close:
      return readClose(fields);
    case MessageType.Ack:
    case MessageType.Sequence:
      return { type, sequenceId: fields.sequenceId() };
  }
}

function readInvocation(fields: MessageFields): InvocationMessage {
  const message: Mutable<InvocationMessage> = {
    type: MessageType.Invocation,
    target: fields.nonEmptyString('target'),
    arguments: fields.array('arguments'),
  };
  const invocationId = fields.optionalInvocationId();
  if (invocationId !== undefined) message.invocationId = invocationId;
  const streamIds = fields.optionalStreamIds();
  if (streamIds !== undefined) message.streamIds = streamIds;
  return withHeaders(message, fields);
}

function readStreamInvocation(fields: MessageFields): StreamInvocationMessage {
  const message: Mutable<StreamInvocationMessage> = {
    type: MessageType.StreamInvocation,
    invocationId: fields.invocationId(),
    target: fields.nonEmptyString('target'),
    arguments: fields.array('arguments'),
  };
  const streamIds = fields.optionalStreamIds();
  if (streamIds !== undefined) message.streamIds = streamIds;
  return withHeaders(message, fields);
}

function readStreamItem(fields: MessageFields): StreamItemMessage {
  // JSON has no undefined, so a missing item is a malformed message rather than an empty one.
  if (!fields.has('item')) fields.invalid("'item' is required");
  return withHeaders<StreamItemMessage>(
    { type: MessageType.StreamItem, invocationId: fields.invocationId(), item: fields.raw('item') },
    fields,
  );
}

function readCompletion(fields: MessageFields): CompletionMessage {
  const message: Mutable<CompletionMessage> = { type: MessageType.Completion, invocationId: fields.invocationId() };
  const error = fields.optionalString('error');
  const hasResult = fields.has('result');
  if (error !== undefined && hasResult) fields.invalid("'error' and 'result' are mutually exclusive");
  if (error !== undefined) message.error = error;
  if (hasResult) {
    message.result = fields.raw('result');
    message.hasResult = true;
  }
  return withHeaders(message, fields);
}

function readClose(fields: MessageFields): CloseMessage {
  const message: Mutable<CloseMessage> = { type: MessageType.Close };
  const error = fields.optionalString('error');
  if (error !== undefined) message.error = error;
  const allowReconnect = fields.optionalBoolean('allowReconnect');
  if (allowReconnect !== undefined) message.allowReconnect = allowReconnect;
  return message;
}

function withHeaders<T extends { readonly headers?: Record<string, string> }>(message: T, fields: MessageFields): T {
  const headers = fields.optionalHeaders();
  return headers === undefined ? message : { ...message, headers };
}
