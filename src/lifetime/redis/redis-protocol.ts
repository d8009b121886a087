import { Decoder, Encoder, ExtensionCodec } from '@msgpack/msgpack';
import type { SignalRErrorCode } from '../../errors/signalr-error-codes.js';
import type { RelayedAnswer, RelayedVerb } from '../connection-relay.js';
import { isSignalRErrorCode } from './relayed-errors.js';

/**
 * What the Redis backplane publishes, each message a MessagePack array (the layouts are on the
 * write methods). An invocation's target and arguments are encoded once per send, whatever the
 * number of channels, nodes and protocols; each receiving node decodes it once and hands it to
 * its local connections as one `SerializedHubMessage`, so each hub protocol serializes it at
 * most once per node.
 *
 * Arguments cross Redis as MessagePack, and come out as every hub protocol expects them:
 * binaries stay binaries, dates stay dates, objects with a `toJSON` method (other than dates and
 * binaries) travel as what `toJSON()` returns, as the JSON protocol would write them, and
 * `undefined` properties are left out, as JSON leaves them out.
 */

/** Whom a published invocation is for; receiving nodes pick their local connections by it. */
export enum Audience {
  All = 0,
  Connections = 1,
  Groups = 2,
  Users = 3,
  /** One connection, which is to answer (a client result): see {@link RedisInvocation.invocationId}. */
  ClientResult = 4,
}

export interface RedisInvocation {
  /** The server name of the node that published it. */
  readonly origin: string;
  readonly audience: Audience;
  /** Connection ids, group names or user keys, by audience; empty for All. */
  readonly keys: readonly string[];
  readonly excludedConnectionIds: readonly string[];
  readonly target: string;
  readonly args: readonly unknown[];
  /** Set for {@link Audience.ClientResult}: the id the origin awaits the answer under. */
  readonly invocationId?: string;
}

export enum GroupAction {
  Add = 0,
  Remove = 1,
}

export interface RedisGroupCommand {
  readonly origin: string;
  readonly id: number;
  readonly action: GroupAction;
  readonly connectionId: string;
  readonly groupName: string;
}

/** A node's answer to a group command: applied, or refused with the error it raised. */
export interface RedisAck {
  readonly id: number;
  readonly refusal?: { readonly error: string; readonly code: SignalRErrorCode };
}

export type RedisClientResult =
  | { readonly invocationId: string; readonly ok: true; readonly result: unknown }
  | { readonly invocationId: string; readonly ok: false; readonly error: string; readonly code?: string };

/** A request of an SSE or long-polling connection, forwarded to the node holding it (see `ConnectionRelay`). */
export interface RedisRelayedRequest {
  readonly origin: string;
  /** What the origin awaits the answer under; a `cancel` names the request it cancels. */
  readonly requestId: string;
  readonly connectionId: string;
  readonly verb: RelayedVerb | 'cancel';
  readonly body?: Uint8Array;
}

/** The holding node's answer to a relayed request; none when it no longer holds the connection. */
export interface RedisRelayedAnswer {
  readonly requestId: string;
  readonly answer: RelayedAnswer | undefined;
}

const RELAYED_VERBS: ReadonlySet<unknown> = new Set(['send', 'poll', 'remove', 'terminate', 'refresh', 'cancel']);

/** Where an invocation has its audience, a relayed request has this: both come on a connection's channel. */
const RELAYED_REQUEST = -1;
/** Where a client result has its outcome (0 or 1), a relayed answer has one of these: both come on a return channel. */
const RELAYED_ANSWER = 2;
const RELAYED_TO_NO_ONE = 3;

/** An extension type of ours (0 to 127 are the application's): the value `toJSON()` returned. */
const TO_JSON_EXTENSION = 0;

export class RedisProtocolError extends Error {
  override readonly name = 'RedisProtocolError';
}

export class RedisProtocol {
  private readonly encoder: Encoder;
  private readonly decoder: Decoder;

  constructor() {
    const extensionCodec = new ExtensionCodec();
    extensionCodec.register({
      type: TO_JSON_EXTENSION,
      // Dates are taken by the built-in timestamp extension before this one is asked.
      encode: (input: unknown) =>
        input !== null &&
        typeof input === 'object' &&
        !ArrayBuffer.isView(input) &&
        typeof (input as { toJSON?: unknown }).toJSON === 'function'
          ? this.encoder.encode((input as { toJSON(): unknown }).toJSON())
          : null,
      decode: (data: Uint8Array) => this.decoder.decode(data),
    });
    // Both are reentrant, which the extension above relies on.
    this.encoder = new Encoder({ extensionCodec, ignoreUndefined: true });
    this.decoder = new Decoder({ extensionCodec, useBigInt64: false });
  }

  /** `[origin, audience, keys, excludedConnectionIds, target, args]`, then `invocationId` for client results. */
  writeInvocation(invocation: RedisInvocation): Buffer {
    const layout: unknown[] = [
      invocation.origin,
      invocation.audience,
      invocation.keys,
      invocation.excludedConnectionIds,
      invocation.target,
      invocation.args,
    ];
    if (invocation.invocationId !== undefined) layout.push(invocation.invocationId);
    return this.encode(layout);
  }

  /** What comes on the channels of invocations: an invocation, or (on a connection's channel) a relayed request. */
  readInvocation(payload: Uint8Array): RedisInvocation | RedisRelayedRequest {
    const layout = this.decodeArray(payload, 5, 'invocation');
    if (layout[1] !== RELAYED_REQUEST) return this.invocationOf(layout);
    const [origin, , requestId, connectionId, verb, body] = layout;
    if (typeof origin !== 'string' || typeof requestId !== 'string' || typeof connectionId !== 'string' || !RELAYED_VERBS.has(verb)) {
      throw new RedisProtocolError('Malformed relayed request.');
    }
    if (body !== undefined && body !== null && !(body instanceof Uint8Array)) throw new RedisProtocolError('Malformed relayed request body.');
    return { origin, requestId, connectionId, verb: verb as RedisRelayedRequest['verb'], body: body ?? undefined };
  }

  /** `[origin, -1, requestId, connectionId, verb, body | nil]` */
  writeRelayedRequest(request: RedisRelayedRequest): Buffer {
    return this.encode([request.origin, RELAYED_REQUEST, request.requestId, request.connectionId, request.verb, request.body ?? null]);
  }

  /** `[requestId, 2, status, headers, body]`, or `[requestId, 3]` when the node no longer holds the connection */
  writeRelayedAnswer({ requestId, answer }: RedisRelayedAnswer): Buffer {
    return this.encode(answer ? [requestId, RELAYED_ANSWER, answer.status, answer.headers, answer.body] : [requestId, RELAYED_TO_NO_ONE]);
  }

  /** What comes on a node's return channel: a client result, or a relayed answer. */
  readReturn(payload: Uint8Array): RedisClientResult | RedisRelayedAnswer {
    const layout = this.decodeArray(payload, 2, 'return');
    const [requestId, outcome, status, headers, body] = layout;
    if (outcome === RELAYED_TO_NO_ONE && typeof requestId === 'string') return { requestId, answer: undefined };
    if (outcome !== RELAYED_ANSWER) return this.clientResultOf(layout);
    if (typeof requestId !== 'string' || !Number.isInteger(status) || !isHeaders(headers) || !(body instanceof Uint8Array)) {
      throw new RedisProtocolError('Malformed relayed answer.');
    }
    return { requestId, answer: { status: status as number, headers, body } };
  }

  private invocationOf(layout: unknown[]): RedisInvocation {
    if (layout.length < 6) throw new RedisProtocolError('Malformed invocation: too few items.');
    const [origin, audience, keys, excludedConnectionIds, target, args, invocationId] = layout;
    if (
      typeof origin !== 'string' ||
      !isAudience(audience) ||
      !isStringArray(keys) ||
      !isStringArray(excludedConnectionIds) ||
      typeof target !== 'string' ||
      !Array.isArray(args)
    ) {
      throw new RedisProtocolError('Malformed invocation.');
    }
    if (audience === Audience.ClientResult && typeof invocationId !== 'string') {
      throw new RedisProtocolError('Malformed client-result invocation: no invocation id.');
    }
    return {
      origin,
      audience,
      keys,
      excludedConnectionIds,
      target,
      args,
      invocationId: audience === Audience.ClientResult ? (invocationId as string) : undefined,
    };
  }

  /** `[origin, id, action, connectionId, groupName]` */
  writeGroupCommand(command: RedisGroupCommand): Buffer {
    return this.encode([command.origin, command.id, command.action, command.connectionId, command.groupName]);
  }

  readGroupCommand(payload: Uint8Array): RedisGroupCommand {
    const [origin, id, action, connectionId, groupName] = this.decodeArray(payload, 5, 'group command');
    if (
      typeof origin !== 'string' ||
      !Number.isSafeInteger(id) ||
      (action !== GroupAction.Add && action !== GroupAction.Remove) ||
      typeof connectionId !== 'string' ||
      typeof groupName !== 'string'
    ) {
      throw new RedisProtocolError('Malformed group command.');
    }
    return { origin, id: id as number, action, connectionId, groupName };
  }

  /** `[id]`, or `[id, errorMessage, errorCode]` for a refusal */
  writeAck(ack: RedisAck): Buffer {
    return this.encode(ack.refusal ? [ack.id, ack.refusal.error, ack.refusal.code] : [ack.id]);
  }

  readAck(payload: Uint8Array): RedisAck {
    const [id, error, code] = this.decodeArray(payload, 1, 'ack');
    if (!Number.isSafeInteger(id)) throw new RedisProtocolError('Malformed ack.');
    if (error === undefined) return { id: id as number };
    if (typeof error !== 'string' || !isSignalRErrorCode(code)) throw new RedisProtocolError('Malformed ack refusal.');
    return { id: id as number, refusal: { error, code } };
  }

  /** `[invocationId, 0, result]` or `[invocationId, 1, errorMessage, errorCode | nil]` */
  writeClientResult(result: RedisClientResult): Buffer {
    return this.encode(
      result.ok
        ? [result.invocationId, 0, result.result]
        : [result.invocationId, 1, result.error, result.code ?? null],
    );
  }

  private clientResultOf(layout: unknown[]): RedisClientResult {
    const [invocationId, outcome, value, code] = layout;
    if (typeof invocationId !== 'string' || layout.length < 3) throw new RedisProtocolError('Malformed client result.');
    if (outcome === 0) return { invocationId, ok: true, result: value };
    if (outcome === 1 && typeof value === 'string') {
      return { invocationId, ok: false, error: value, code: typeof code === 'string' ? code : undefined };
    }
    throw new RedisProtocolError('Malformed client result.');
  }

  private encode(layout: unknown[]): Buffer {
    const bytes = this.encoder.encode(layout);
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  private decodeArray(payload: Uint8Array, minimumLength: number, what: string): unknown[] {
    let value: unknown;
    try {
      // A plain view: binaries sliced out of a Buffer would be Buffers, which JSON writes differently.
      value = this.decoder.decode(new Uint8Array(payload.buffer, payload.byteOffset, payload.byteLength));
    } catch (error) {
      throw new RedisProtocolError(`Unreadable ${what}: ${(error as Error).message}`);
    }
    // Longer arrays are accepted, their extra items ignored, so a newer node can add some.
    if (!Array.isArray(value) || value.length < minimumLength) {
      throw new RedisProtocolError(`Malformed ${what}: too few items.`);
    }
    return value;
  }
}

function isAudience(value: unknown): value is Audience {
  return typeof value === 'number' && Number.isInteger(value) && value >= Audience.All && value <= Audience.ClientResult;
}

function isHeaders(value: unknown): value is Record<string, string | number> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  return Object.values(value).every((item) => typeof item === 'string' || typeof item === 'number');
}

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((item) => typeof item === 'string');
}
