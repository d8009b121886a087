/** Message types of the SignalR hub protocol, as numbered on the wire. */
export enum MessageType {
  Invocation = 1,
  StreamItem = 2,
  Completion = 3,
  StreamInvocation = 4,
  CancelInvocation = 5,
  Ping = 6,
  Close = 7,
  Ack = 8,
  Sequence = 9,
}

/** A type this server reads; the specification says to skip messages of any other. */
export function isKnownMessageType(type: number): type is MessageType {
  return type >= MessageType.Invocation && type <= MessageType.Sequence;
}

export type MessageHeaders = Record<string, string>;

export interface InvocationMessage {
  readonly type: MessageType.Invocation;
  readonly invocationId?: string;
  readonly target: string;
  readonly arguments: readonly unknown[];
  readonly streamIds?: readonly string[];
  readonly headers?: MessageHeaders;
}

export interface StreamInvocationMessage {
  readonly type: MessageType.StreamInvocation;
  readonly invocationId: string;
  readonly target: string;
  readonly arguments: readonly unknown[];
  readonly streamIds?: readonly string[];
  readonly headers?: MessageHeaders;
}

export interface StreamItemMessage {
  readonly type: MessageType.StreamItem;
  readonly invocationId: string;
  readonly item: unknown;
  readonly headers?: MessageHeaders;
}

/** `error` and `result` are exclusive; neither means a void completion. */
export interface CompletionMessage {
  readonly type: MessageType.Completion;
  readonly invocationId: string;
  readonly error?: string;
  readonly result?: unknown;
  /** Distinguishes `result: undefined` from "no result": void methods complete without one. */
  readonly hasResult?: boolean;
  readonly headers?: MessageHeaders;
}

export interface CancelInvocationMessage {
  readonly type: MessageType.CancelInvocation;
  readonly invocationId: string;
  readonly headers?: MessageHeaders;
}

export interface PingMessage {
  readonly type: MessageType.Ping;
}

export interface CloseMessage {
  readonly type: MessageType.Close;
  readonly error?: string;
  readonly allowReconnect?: boolean;
}

export interface AckMessage {
  readonly type: MessageType.Ack;
  readonly sequenceId: number;
}

export interface SequenceMessage {
  readonly type: MessageType.Sequence;
  readonly sequenceId: number;
}

export type HubMessage =
  | InvocationMessage
  | StreamInvocationMessage
  | StreamItemMessage
  | CompletionMessage
  | CancelInvocationMessage
  | PingMessage
  | CloseMessage
  | AckMessage
  | SequenceMessage;
