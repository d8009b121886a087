import * as fc from 'fast-check';
import { MessageType, type HubMessage } from '../../src/protocol/hub-message.js';
import { MAX_INVOCATION_ID_LENGTH } from '../../src/protocol/message-fields.js';
import { ProtocolError } from '../../src/protocol/protocol-error.js';

/**
 * Shared by the fuzz suites. Runs are reproducible: a fixed seed unless FUZZ_SEED says otherwise
 * (fast-check prints the seed and the counterexample path of a failure; set FUZZ_SEED to it to
 * replay, and FUZZ_PATH to jump straight to the counterexample). FUZZ_SCALE multiplies every run
 * count and time limit, for a longer hunt on a workstation; FUZZ_REPORT=1 prints run counts.
 */
export const DEFAULT_FUZZ_SEED = 0x51_67_4e_52; // "SgNR"

export const FUZZ_SEED = readIntegerEnv('FUZZ_SEED', DEFAULT_FUZZ_SEED);
const FUZZ_SCALE = readPositiveEnv('FUZZ_SCALE', 1);

function readIntegerEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  if (!Number.isSafeInteger(value)) throw new Error(`${name} must be an integer, got '${raw}'.`);
  return value;
}

function readPositiveEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number, got '${raw}'.`);
  return value;
}

/**
 * Parameters for one `fc.assert`: the suite's seed, `numRuns` scaled by FUZZ_SCALE, and a time
 * limit after which fast-check stops generating (the runs done so far still count; a failure
 * found before the limit is still a failure).
 */
export function fuzzParameters<T>(numRuns: number, timeLimitMs: number): fc.Parameters<T> {
  return {
    seed: FUZZ_SEED,
    // FUZZ_PATH (with FUZZ_SEED, and vitest -t to pick the test) replays one counterexample directly.
    ...(process.env.FUZZ_PATH ? { path: process.env.FUZZ_PATH } : {}),
    numRuns: Math.max(1, Math.round(numRuns * FUZZ_SCALE)),
    plugins: [fc.interruptAfterTimeLimit(timeLimitMs * FUZZ_SCALE)],
  };
}

export interface FuzzRun {
  readonly name: string;
  readonly runs: number;
  readonly interrupted: boolean;
  readonly ms: number;
}

/** Every property checked in this file, for FUZZ_REPORT=1 (run counts and durations on stderr). */
export const fuzzRuns: FuzzRun[] = [];

/** fc.assert, recording how many runs were made before the time limit (if any) cut the property short. */
export function fuzz<Ts>(name: string, property: fc.IProperty<Ts>, numRuns: number, timeLimitMs: number): void {
  const started = performance.now();
  const details = fc.check(property, fuzzParameters<Ts>(numRuns, timeLimitMs));
  finish(name, details, started);
}

export async function fuzzAsync<Ts>(name: string, property: fc.IAsyncProperty<Ts>, numRuns: number, timeLimitMs: number): Promise<void> {
  const started = performance.now();
  const details = await fc.check(property, fuzzParameters<Ts>(numRuns, timeLimitMs));
  finish(name, details, started);
}

function finish<Ts>(name: string, details: fc.RunDetails<Ts>, started: number): void {
  fuzzRuns.push({ name, runs: details.numRuns, interrupted: details.interrupted, ms: Math.round(performance.now() - started) });
  if (details.failed) {
    // The report names the seed and the path that replay the failure (FUZZ_SEED plus fc's `path`).
    throw new Error(`Replay with FUZZ_SEED=${FUZZ_SEED} (fast-check's seed and path below).\n${fc.defaultReportMessage(details)}`, {
      cause: details.errorInstance,
    });
  }
}

export function reportFuzzRuns(file: string): void {
  if (!process.env.FUZZ_REPORT) return;
  const lines = fuzzRuns.map((run) => `  ${run.runs} runs${run.interrupted ? ' (time limit)' : ''} in ${run.ms} ms: ${run.name}`);
  process.stderr.write(`[fuzz] ${file}, seed ${FUZZ_SEED}\n${lines.join('\n')}\n`);
}

export const RS = '\u001e';
export const RS_CODE = 0x1e;

// ---------------------------------------------------------------------------------------------
// Valid messages

/** JSON values shallow enough that any message holding them stays within the default depth of 32. */
export const jsonArgument = fc.jsonValue({ maxDepth: 6 });
export const anyInvocationId = fc.string({ minLength: 1, maxLength: MAX_INVOCATION_ID_LENGTH, unit: 'binary' });
const shortId = fc.oneof(
  fc.string({ minLength: 1, maxLength: 8, unit: 'binary-ascii' }),
  anyInvocationId,
  fc.constant('i'.repeat(MAX_INVOCATION_ID_LENGTH)),
);
const anyTarget = fc.string({ minLength: 1, maxLength: 40, unit: 'binary' });
const anyHeaders = fc.dictionary(fc.string({ unit: 'binary', maxLength: 12 }), fc.string({ unit: 'binary', maxLength: 24 }), {
  maxKeys: 4,
  noNullPrototype: true,
});
const sequenceId = fc.oneof(fc.nat({ max: 1000 }), fc.maxSafeNat());

/** Adds `key` when the generated value is not undefined, as the wire format has no undefined. */
function withOptional<T extends object>(base: T, optional: Record<string, unknown>): T {
  const message = { ...base } as Record<string, unknown>;
  for (const [key, value] of Object.entries(optional)) if (value !== undefined) message[key] = value;
  return message as unknown as T;
}

/** Every message type the server can receive or send, with every optional field sometimes set. */
export const hubMessage: fc.Arbitrary<HubMessage> = fc.oneof(
  fc
    .record({
      target: anyTarget,
      arguments: fc.array(jsonArgument, { maxLength: 5 }),
      invocationId: fc.option(shortId, { nil: undefined }),
      streamIds: fc.option(fc.array(shortId, { maxLength: 3 }), { nil: undefined }),
      headers: fc.option(anyHeaders, { nil: undefined }),
    })
    .map(({ target, arguments: args, ...optional }) =>
      withOptional<HubMessage>({ type: MessageType.Invocation, target, arguments: args }, optional),
    ),
  fc
    .record({
      invocationId: shortId,
      target: anyTarget,
      arguments: fc.array(jsonArgument, { maxLength: 5 }),
      streamIds: fc.option(fc.array(shortId, { maxLength: 3 }), { nil: undefined }),
      headers: fc.option(anyHeaders, { nil: undefined }),
    })
    .map(({ invocationId, target, arguments: args, ...optional }) =>
      withOptional<HubMessage>({ type: MessageType.StreamInvocation, invocationId, target, arguments: args }, optional),
    ),
  fc
    .record({ invocationId: shortId, item: fc.oneof(jsonArgument, fc.constant(undefined)), headers: fc.option(anyHeaders, { nil: undefined }) })
    .map(({ invocationId, item, headers }) =>
      withOptional<HubMessage>({ type: MessageType.StreamItem, invocationId, item }, { headers }),
    ),
  fc
    .record({
      invocationId: shortId,
      outcome: fc.oneof(
        fc.record({ error: fc.string({ unit: 'binary', maxLength: 60 }) }),
        fc.record({ result: jsonArgument, hasResult: fc.constant(true) }),
        // A void method's completion, and a result-bearing one whose result is undefined.
        fc.constant({}),
        fc.constant({ hasResult: true }),
      ),
      headers: fc.option(anyHeaders, { nil: undefined }),
    })
    .map(({ invocationId, outcome, headers }) =>
      withOptional<HubMessage>({ type: MessageType.Completion, invocationId, ...outcome }, { headers }),
    ),
  fc
    .record({ invocationId: shortId, headers: fc.option(anyHeaders, { nil: undefined }) })
    .map(({ invocationId, headers }) => withOptional<HubMessage>({ type: MessageType.CancelInvocation, invocationId }, { headers })),
  fc.constant<HubMessage>({ type: MessageType.Ping }),
  fc
    .record({
      error: fc.option(fc.string({ unit: 'binary', maxLength: 60 }), { nil: undefined }),
      allowReconnect: fc.option(fc.boolean(), { nil: undefined }),
    })
    .map((optional) => withOptional<HubMessage>({ type: MessageType.Close }, optional)),
  sequenceId.map((id): HubMessage => ({ type: MessageType.Ack, sequenceId: id })),
  sequenceId.map((id): HubMessage => ({ type: MessageType.Sequence, sequenceId: id })),
);

// ---------------------------------------------------------------------------------------------
// What a message looks like after a trip through a writer and a parser

/**
 * What the parsers promise to hand on from client input: own keys only, never `__proto__`, never a
 * `constructor` holding a `prototype` (the keys that can reach a prototype through a naive merge).
 */
export function withoutPrototypeKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutPrototypeKeys);
  if (typeof value !== 'object' || value === null) return Object.is(value, -0) ? 0 : value;
  // Binaries, dates and the like (MessagePack's kinds) are values, not maps.
  if (Object.getPrototypeOf(value) !== Object.prototype) return value;
  const clean: Record<string, unknown> = {};
  for (const [key, entry] of Object.entries(value)) {
    const cleaned = withoutPrototypeKeys(entry);
    if (key === '__proto__') continue;
    if (key === 'constructor' && typeof cleaned === 'object' && cleaned !== null && Object.hasOwn(cleaned, 'prototype')) continue;
    Object.defineProperty(clean, key, { value: cleaned, enumerable: true, writable: true, configurable: true });
  }
  return clean;
}

/**
 * The message a peer reads back from `message` as the writers document it: empty headers and
 * stream id lists left out, `allowReconnect: false` left out, undefined results and items sent as
 * null, an error winning over a result.
 */
export function expectedRoundTrip(message: HubMessage): HubMessage {
  const out: Record<string, unknown> = { type: message.type };
  const source = message as unknown as Record<string, unknown>;
  const copy = (key: string) => {
    if (source[key] !== undefined) out[key] = withoutPrototypeKeys(source[key]);
  };
  switch (message.type) {
    case MessageType.Invocation:
    case MessageType.StreamInvocation:
      copy('invocationId');
      copy('target');
      copy('arguments');
      if (message.streamIds !== undefined && message.streamIds.length > 0) copy('streamIds');
      break;
    case MessageType.StreamItem:
      copy('invocationId');
      out.item = withoutPrototypeKeys(message.item ?? null);
      break;
    case MessageType.Completion:
      copy('invocationId');
      if (message.error !== undefined) {
        out.error = message.error;
      } else if (message.hasResult === true || message.result !== undefined) {
        out.result = withoutPrototypeKeys(message.result ?? null);
        out.hasResult = true;
      }
      break;
    case MessageType.CancelInvocation:
      copy('invocationId');
      break;
    case MessageType.Close:
      copy('error');
      if (message.allowReconnect === true) out.allowReconnect = true;
      break;
    case MessageType.Ack:
    case MessageType.Sequence:
      copy('sequenceId');
      break;
    default:
      break;
  }
  if ('headers' in message && message.headers !== undefined) {
    const kept = withoutPrototypeKeys(message.headers) as Record<string, string>;
    if (Object.keys(kept).length > 0) out.headers = kept;
  }
  return out as unknown as HubMessage;
}

// ---------------------------------------------------------------------------------------------
// Shape invariants of a parsed message

const ALLOWED_KEYS: Record<MessageType, { required: readonly string[]; optional: readonly string[] }> = {
  [MessageType.Invocation]: { required: ['type', 'target', 'arguments'], optional: ['invocationId', 'streamIds', 'headers'] },
  [MessageType.StreamInvocation]: { required: ['type', 'invocationId', 'target', 'arguments'], optional: ['streamIds', 'headers'] },
  [MessageType.StreamItem]: { required: ['type', 'invocationId', 'item'], optional: ['headers'] },
  [MessageType.Completion]: { required: ['type', 'invocationId'], optional: ['error', 'result', 'hasResult', 'headers'] },
  [MessageType.CancelInvocation]: { required: ['type', 'invocationId'], optional: ['headers'] },
  [MessageType.Ping]: { required: ['type'], optional: [] },
  [MessageType.Close]: { required: ['type'], optional: ['error', 'allowReconnect'] },
  [MessageType.Ack]: { required: ['type', 'sequenceId'], optional: [] },
  [MessageType.Sequence]: { required: ['type', 'sequenceId'], optional: [] },
};

function isId(value: unknown): boolean {
  return typeof value === 'string' && value.length > 0 && value.length <= MAX_INVOCATION_ID_LENGTH;
}

/** Throws, describing `subject`, unless `condition` holds (cheaper than expect() in hot loops). */
export function ensure(condition: boolean, problem: string, subject?: unknown): asserts condition {
  if (!condition) throw new Error(subject === undefined ? problem : `${problem}: ${safeDescribe(subject)}`);
}

/** Fails (with the message in the report) unless `message` is a HubMessage the server can act on safely. */
export function assertWellFormed(message: unknown, isPlainValue: (value: object) => boolean = isPlainJson): void {
  ensure(typeof message === 'object' && message !== null && !Array.isArray(message), 'message is not an object', message);
  const record = message as Record<string, unknown>;
  ensure(Object.getPrototypeOf(record) === Object.prototype, 'message is not a plain object', message);
  const type = record.type as MessageType;
  ensure(Object.hasOwn(ALLOWED_KEYS, type), 'message has an unknown type', message);
  const { required, optional } = ALLOWED_KEYS[type];
  for (const key of Reflect.ownKeys(record)) {
    ensure(typeof key === 'string' && (required.includes(key) || optional.includes(key)), `unexpected key ${String(key)}`, message);
    if (optional.includes(key)) ensure(record[key] !== undefined, `${key} present but undefined`, message);
  }
  for (const key of required) ensure(Object.hasOwn(record, key), `${key} missing`, message);

  if (Object.hasOwn(record, 'invocationId')) ensure(isId(record.invocationId), 'bad invocationId', message);
  if (Object.hasOwn(record, 'target')) ensure(typeof record.target === 'string' && record.target !== '', 'bad target', message);
  if (Object.hasOwn(record, 'arguments')) ensure(Array.isArray(record.arguments), 'arguments not an array', message);
  if (Object.hasOwn(record, 'streamIds')) {
    ensure(Array.isArray(record.streamIds) && (record.streamIds as unknown[]).every(isId), 'bad streamIds', message);
  }
  if (Object.hasOwn(record, 'headers')) {
    const value = record.headers;
    ensure(typeof value === 'object' && value !== null && !Array.isArray(value), 'headers not an object', message);
    ensure(Object.values(value).every((header) => typeof header === 'string'), 'headers not all strings', message);
  }
  if (type === MessageType.Completion) {
    ensure(!(Object.hasOwn(record, 'error') && Object.hasOwn(record, 'result')), 'completion with error and result', message);
    if (Object.hasOwn(record, 'error')) ensure(typeof record.error === 'string', 'completion error not a string', message);
    ensure(Object.hasOwn(record, 'hasResult') === Object.hasOwn(record, 'result'), 'hasResult without result, or the reverse', message);
    if (Object.hasOwn(record, 'hasResult')) ensure(record.hasResult === true, 'hasResult not true', message);
  }
  if (type === MessageType.Close) {
    if (Object.hasOwn(record, 'error')) ensure(typeof record.error === 'string', 'close error not a string', message);
    if (Object.hasOwn(record, 'allowReconnect')) ensure(typeof record.allowReconnect === 'boolean', 'allowReconnect not a boolean', message);
  }
  if (type === MessageType.Ack || type === MessageType.Sequence) {
    const id = record.sequenceId;
    ensure(typeof id === 'number' && Number.isSafeInteger(id) && id >= 0, 'bad sequenceId', message);
  }
  assertNoPrototypeKeys(record, isPlainValue);
}

function isPlainJson(value: object): boolean {
  return Array.isArray(value) ? Object.getPrototypeOf(value) === Array.prototype : Object.getPrototypeOf(value) === Object.prototype;
}

/** No `__proto__` own key and no exotic objects anywhere inside what a parser produced. */
export function assertNoPrototypeKeys(value: unknown, isPlainValue: (value: object) => boolean = isPlainJson): void {
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const current = stack.pop();
    if (typeof current !== 'object' || current === null) continue;
    ensure(isPlainValue(current), 'exotic object in parser output', value);
    if (ArrayBuffer.isView(current)) continue;
    ensure(!Object.hasOwn(current, '__proto__'), 'own __proto__ key in parser output', value);
    const constructorValue = Object.hasOwn(current, 'constructor') ? (current as Record<string, unknown>).constructor : undefined;
    if (typeof constructorValue === 'object' && constructorValue !== null) {
      ensure(!Object.hasOwn(constructorValue, 'prototype'), 'constructor.prototype kept in parser output', value);
    }
    for (const entry of Object.values(current)) stack.push(entry);
  }
}

function safeDescribe(value: unknown): string {
  try {
    const text = JSON.stringify(value, (_key, entry: unknown) => (typeof entry === 'bigint' ? `${entry}n` : entry));
    return text === undefined ? String(value) : text.slice(0, 400);
  } catch {
    return String(value);
  }
}

// ---------------------------------------------------------------------------------------------
// Outcomes

/** The wall-clock budget of one parse of one small frame; a hang or a quadratic blow-up exceeds it by far. */
export const PARSE_BUDGET_MS = 1000;

export type ParseOutcome = { readonly ok: true; readonly messages: HubMessage[] } | { readonly ok: false; readonly error: ProtocolError };

/**
 * Parses `frame` and checks the parser's contract: an array of well-formed messages, or a
 * ProtocolError, never any other error, in bounded time.
 */
export function parseChecked(
  parse: (frame: Buffer) => HubMessage[],
  frame: Buffer,
  isPlainValue?: (value: object) => boolean,
): ParseOutcome {
  const started = performance.now();
  let outcome: ParseOutcome;
  try {
    outcome = { ok: true, messages: parse(frame) };
  } catch (error) {
    if (!(error instanceof ProtocolError)) {
      throw new Error(
        `parser threw ${(error as Error)?.constructor?.name ?? typeof error} instead of ProtocolError for frame ` +
          `${frame.toString('hex').slice(0, 600)}: ${String((error as Error)?.stack ?? error)}`,
        { cause: error },
      );
    }
    outcome = { ok: false, error };
  }
  const elapsed = performance.now() - started;
  ensure(elapsed < PARSE_BUDGET_MS, `parse of ${frame.length} bytes took ${elapsed.toFixed(0)} ms`);
  if (outcome.ok) {
    ensure(Array.isArray(outcome.messages), 'parseMessages returned no array');
    for (const message of outcome.messages) assertWellFormed(message, isPlainValue);
  } else {
    ensure(typeof outcome.error.message === 'string' && outcome.error.message !== '', 'ProtocolError without a message');
  }
  return outcome;
}

// ---------------------------------------------------------------------------------------------
// Prototype pollution watch

const PROTOTYPES: ReadonlyArray<[string, object]> = [
  ['Object.prototype', Object.prototype],
  ['Array.prototype', Array.prototype],
  ['Function.prototype', Function.prototype],
  ['String.prototype', String.prototype],
];

/** A snapshot of the built-in prototypes' own properties, compared (by identity) after each run. */
export function snapshotPrototypes(): () => void {
  const before = PROTOTYPES.map(([, proto]) => ownProperties(proto));
  return () => {
    for (const [index, [name, proto]] of PROTOTYPES.entries()) {
      const now = ownProperties(proto);
      const was = before[index];
      const same = now.length === was.length && now.every((entry, i) => entry.every((part, j) => Object.is(part, was[i][j])));
      ensure(same, `${name} was modified: own keys now ${now.map(([key]) => String(key)).join(', ')}`);
    }
    ensure(({} as Record<string, unknown>).polluted === undefined, 'Object.prototype.polluted appeared');
  };
}

function ownProperties(object: object): unknown[][] {
  return Reflect.ownKeys(object).map((key) => {
    const descriptor = Reflect.getOwnPropertyDescriptor(object, key)!;
    return [key, descriptor.value, descriptor.get, descriptor.set, descriptor.enumerable, descriptor.writable];
  });
}

// ---------------------------------------------------------------------------------------------
// Byte-level mutations shared by both wire formats

export type ByteMutation =
  | { readonly kind: 'flip'; readonly at: number; readonly bit: number }
  | { readonly kind: 'truncate'; readonly at: number }
  | { readonly kind: 'delete'; readonly at: number; readonly length: number }
  | { readonly kind: 'insert'; readonly at: number; readonly bytes: Uint8Array }
  | { readonly kind: 'set'; readonly at: number; readonly byte: number }
  | { readonly kind: 'duplicate'; readonly at: number; readonly length: number };

/** Positions are fractions of the frame's length, so one mutation applies to a frame of any size. */
const position = fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true });

export const byteMutation: fc.Arbitrary<ByteMutation> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: position, bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ kind: fc.constant('truncate' as const), at: position }),
  fc.record({ kind: fc.constant('delete' as const), at: position, length: fc.integer({ min: 1, max: 8 }) }),
  fc.record({ kind: fc.constant('insert' as const), at: position, bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }) }),
  fc.record({
    kind: fc.constant('set' as const),
    at: position,
    byte: fc.constantFrom(0x00, 0x1e, 0x22, 0x5c, 0x7b, 0x7d, 0x5b, 0x5d, 0x7f, 0x80, 0xc0, 0xc1, 0xdc, 0xdd, 0xde, 0xdf, 0xff),
  }),
  fc.record({ kind: fc.constant('duplicate' as const), at: position, length: fc.integer({ min: 1, max: 16 }) }),
);

export function applyByteMutation(frame: Buffer, mutation: ByteMutation): Buffer {
  const at = Math.floor(mutation.at * frame.length);
  switch (mutation.kind) {
    case 'flip': {
      if (frame.length === 0) return frame;
      const copy = Buffer.from(frame);
      copy[at] ^= 1 << mutation.bit;
      return copy;
    }
    case 'truncate':
      return frame.subarray(0, at);
    case 'delete':
      return Buffer.concat([frame.subarray(0, at), frame.subarray(at + mutation.length)]);
    case 'insert':
      return Buffer.concat([frame.subarray(0, at), mutation.bytes, frame.subarray(at)]);
    case 'set': {
      if (frame.length === 0) return Buffer.from([mutation.byte]);
      const copy = Buffer.from(frame);
      copy[at] = mutation.byte;
      return copy;
    }
    case 'duplicate':
      return Buffer.concat([frame.subarray(0, at + mutation.length), frame.subarray(at)]);
  }
}
