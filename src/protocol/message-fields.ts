import type { MessageHeaders } from './hub-message.js';
import { isJsonObject, ownField, type JsonObject } from './json-object.js';
import { ProtocolError } from './protocol-error.js';

/** Longer ids are refused: ids are map keys for the whole life of an invocation. */
export const MAX_INVOCATION_ID_LENGTH = 128;

const INVOCATION_ID = `a non-empty string of at most ${MAX_INVOCATION_ID_LENGTH} characters`;

/**
 * Typed reads of one parsed record. Every failure names the message kind and the field, so
 * a client author can tell from the close reason what their client got wrong.
 */
export class MessageFields {
  constructor(
    private readonly record: JsonObject,
    private readonly kind: string,
  ) {}

  has(key: string): boolean {
    return Object.hasOwn(this.record, key);
  }

  /** The raw value; only for fields whose content is the application's business (items, results). */
  raw(key: string): unknown {
    return ownField(this.record, key);
  }

  nonEmptyString(key: string): string {
    const value = ownField(this.record, key);
    if (typeof value !== 'string' || value === '') this.fail(key, 'a non-empty string');
    return value;
  }

  optionalString(key: string): string | undefined {
    const value = ownField(this.record, key);
    if (value !== undefined && typeof value !== 'string') this.fail(key, 'a string');
    return value;
  }

  optionalBoolean(key: string): boolean | undefined {
    const value = ownField(this.record, key);
    if (value !== undefined && typeof value !== 'boolean') this.fail(key, 'a boolean');
    return value;
  }

  array(key: string): unknown[] {
    const value = ownField(this.record, key);
    if (!Array.isArray(value)) this.fail(key, 'an array');
    return value;
  }

  sequenceId(): number {
    const value = ownField(this.record, 'sequenceId');
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
      this.fail('sequenceId', 'a non-negative integer');
    }
    return value;
  }

  invocationId(): string {
    const value = this.optionalInvocationId();
    if (value === undefined) this.fail('invocationId', INVOCATION_ID);
    return value;
  }

  /** Empty ids are refused too: they would read as "no id" wherever an id is tested for truth. */
  optionalInvocationId(): string | undefined {
    const value = ownField(this.record, 'invocationId');
    if (value !== undefined && !isInvocationId(value)) this.fail('invocationId', INVOCATION_ID);
    return value;
  }

  /** Stream ids name upload streams the way invocation ids name invocations, so the same rules apply. */
  optionalStreamIds(): string[] | undefined {
    const value = ownField(this.record, 'streamIds');
    if (value === undefined) return undefined;
    if (!Array.isArray(value) || !value.every(isInvocationId)) this.fail('streamIds', `an array of strings, each ${INVOCATION_ID}`);
    return value;
  }

  optionalHeaders(): MessageHeaders | undefined {
    const value = ownField(this.record, 'headers');
    if (value === undefined) return undefined;
    if (!isJsonObject(value)) this.fail('headers', 'an object of strings');
    const entries = Object.entries(value);
    if (!entries.every(([, header]) => typeof header === 'string')) this.fail('headers', 'an object of strings');
    // fromEntries defines keys rather than assigning them, so no key can act as a setter.
    return Object.fromEntries(entries) as MessageHeaders;
  }

  invalid(problem: string): never {
    throw new ProtocolError(`Invalid payload for ${this.kind} message: ${problem}.`);
  }

  private fail(key: string, expected: string): never {
    return this.invalid(`'${key}' must be ${expected}`);
  }
}

function isInvocationId(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0 && value.length <= MAX_INVOCATION_ID_LENGTH;
}
