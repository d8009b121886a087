import { Decoder, Encoder, ExtensionCodec } from '@msgpack/msgpack';
import type { SignalRErrorCode } from '../../errors/signalr-error-codes.js';
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

  readInvocation(payload: Uint8Array): RedisInvocation {
    const layout = this.decodeArray(payload, 6, 'invocation');
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

  readClientResult(payload: Uint8Array): RedisClientResult {
    const [invocationId, outcome, value, code] = this.decodeArray(payload, 3, 'client result');
    if (typeof invocationId !== 'string') throw new RedisProtocolError('Malformed client result.');
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

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((item) => typeof item === 'string');
}
