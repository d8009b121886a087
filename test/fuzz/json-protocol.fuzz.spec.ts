import * as fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MessageType, type HubMessage } from '../../src/protocol/hub-message.js';
import { DEFAULT_MAX_JSON_DEPTH, JsonHubProtocol } from '../../src/protocol/json-hub-protocol.js';
import {
  applyByteMutation,
  byteMutation,
  expectedRoundTrip,
  fuzz,
  reportFuzzRuns,
  hubMessage,
  jsonArgument,
  parseChecked,
  RS,
  RS_CODE,
  snapshotPrototypes,
  type ByteMutation,
} from './fuzz-support.js';

/**
 * Property-based tests of the JSON hub protocol's reader: whatever a client sends, parseMessages
 * returns well-formed messages or throws a ProtocolError, quickly, and leaves the built-in
 * prototypes alone; and what the writer produces reads back as what was written.
 */
const protocol = new JsonHubProtocol();
const parse = (frame: Buffer) => protocol.parseMessages(frame);
let prototypesUntouched: () => void;
let frames = 0;

beforeAll(() => {
  prototypesUntouched = snapshotPrototypes();
});

afterAll(() => {
  reportFuzzRuns(`json-protocol.fuzz.spec.ts, ${frames} frames`);
  prototypesUntouched();
  // Thousands of frames per run of the suite, whatever the time limits cut.
  expect(frames).toBeGreaterThan(1000);
});

function check(frame: Buffer) {
  frames++;
  const outcome = parseChecked(parse, frame);
  prototypesUntouched();
  return outcome;
}

function frameOf(messages: readonly HubMessage[]): Buffer {
  return Buffer.from(messages.map((message) => protocol.writeMessage(message)).join(''), 'utf8');
}

/** Nesting depth of JSON text, counted on brackets outside strings (valid JSON only). */
function textDepth(text: string): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const char = text[i];
    if (inString) {
      if (char === '\\') i++;
      else if (char === '"') inString = false;
    } else if (char === '"') inString = true;
    else if (char === '[' || char === '{') max = Math.max(max, ++depth);
    else if (char === ']' || char === '}') depth--;
  }
  return max;
}

/** Indices of `char` outside JSON strings. */
function structuralIndices(text: string, char: string): number[] {
  const found: number[] = [];
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const current = text[i];
    if (inString) {
      if (current === '\\') i++;
      else if (current === '"') inString = false;
    } else if (current === '"') inString = true;
    else if (current === char) found.push(i);
  }
  return found;
}

function depthOf(value: unknown): number {
  if (typeof value !== 'object' || value === null) return 0;
  return 1 + Math.max(0, ...Object.values(value).map(depthOf));
}

/** Keys that reach a prototype through a naive merge, as a client may spell them. */
const PROTOTYPE_KEYS = [
  '"__proto__":{"polluted":true}',
  '"__proto__":{"toString":"polluted","polluted":1}',
  '"__proto__":[1,2]',
  '"__proto__":null',
  '"\\u005f_proto__":{"polluted":true}',
  '"\\u005F\\u005Fproto\\u005F\\u005F":{"polluted":true}',
  '"constructor":{"prototype":{"polluted":true}}',
  '"constructor":{"prototype":null}',
  '"constr\\u0075ctor":{"prot\\u006ftype":{"polluted":true}}',
] as const;

type TextMutation =
  | { readonly kind: 'duplicate-separator'; readonly index: number }
  | { readonly kind: 'remove-separator'; readonly index: number }
  | { readonly kind: 'prototype-key'; readonly index: number; readonly key: string }
  | { readonly kind: 'nest'; readonly index: number; readonly levels: number; readonly objects: boolean };

const textMutation: fc.Arbitrary<TextMutation> = fc.oneof(
  fc.record({ kind: fc.constant('duplicate-separator' as const), index: fc.nat() }),
  fc.record({ kind: fc.constant('remove-separator' as const), index: fc.nat() }),
  fc.record({ kind: fc.constant('prototype-key' as const), index: fc.nat(), key: fc.constantFrom(...PROTOTYPE_KEYS) }),
  fc.record({ kind: fc.constant('nest' as const), index: fc.nat(), levels: fc.integer({ min: 1, max: 60 }), objects: fc.boolean() }),
);

function pick(indices: readonly number[], index: number): number | undefined {
  return indices.length === 0 ? undefined : indices[index % indices.length];
}

/** Applies a mutation that keeps JSON valid (prototype keys, nesting) or breaks the framing (separators). */
function applyTextMutation(text: string, mutation: TextMutation): string {
  switch (mutation.kind) {
    case 'duplicate-separator':
    case 'remove-separator': {
      const at = pick(structuralIndices(text, RS), mutation.index);
      if (at === undefined) return text;
      return mutation.kind === 'duplicate-separator' ? text.slice(0, at) + RS + text.slice(at) : text.slice(0, at) + text.slice(at + 1);
    }
    case 'prototype-key': {
      const at = pick(structuralIndices(text, '{'), mutation.index);
      if (at === undefined) return text;
      const separator = text[at + 1] === '}' ? '' : ',';
      return `${text.slice(0, at + 1)}${mutation.key}${separator}${text.slice(at + 1)}`;
    }
    case 'nest': {
      const inArray = structuralIndices(text, '[');
      const at = pick(inArray, mutation.index);
      if (at === undefined) return text;
      const value = mutation.objects
        ? `${'{"a":'.repeat(mutation.levels)}0${'}'.repeat(mutation.levels)}`
        : `${'['.repeat(mutation.levels)}${']'.repeat(mutation.levels)}`;
      const separator = text[at + 1] === ']' ? '' : ',';
      return `${text.slice(0, at + 1)}${value}${separator}${text.slice(at + 1)}`;
    }
  }
}

/** Inserts a value `levels` deep at the start of one of the frame's argument lists. */
function nestInArguments(text: string, { index, levels, objects }: { index: number; levels: number; objects: boolean }): string {
  const lists = structuralIndices(text, '[').filter((at) => text.slice(at - '"arguments":'.length, at) === '"arguments":');
  const at = pick(lists, index);
  return at === undefined ? text : applyTextMutation(text, { kind: 'nest', index: structuralIndices(text, '[').indexOf(at), levels, objects });
}

/** Characters and tokens that steer random text toward the parser's interesting paths. */
const jsonToken = fc.constantFrom(
  '{', '}', '[', ']', '"', '\\', ':', ',', ' ', '\n', '0', '-1', '1.5', '1e999', '-0', 'true', 'null', 'nul',
  '"type"', '"type":1', '"type":3', '"type":7', '"type":"1"', '"target":"Add"', '"arguments":[]', '"arguments":',
  '"invocationId":"1"', '"invocationId":', '"item":', '"result":', '"error":', '"headers":{', '"streamIds":[',
  '"sequenceId":', '"__proto__"', '"constructor"', '"prototype"', '\\u005f', '\\u0000', '\\ud800', '\\"', RS,
  '\ud800', '\udc00', 'é', '😀', '\u0000',
);

const recordText = fc
  .array(
    fc.oneof(
      { weight: 3, arbitrary: fc.string({ unit: 'binary', maxLength: 24 }) },
      { weight: 1, arbitrary: fc.constant(RS) },
      { weight: 4, arbitrary: jsonToken },
    ),
    { maxLength: 40 },
  )
  .chain((parts) => fc.boolean().map((terminated) => parts.join('') + (terminated ? RS : '')));

describe('JsonHubProtocol.parseMessages under random input', () => {
  it('(a) arbitrary bytes: messages or a ProtocolError', () => {
    const bytes = fc.oneof(
      fc.uint8Array({ maxLength: 512 }),
      // Mostly ASCII JSON punctuation, ending in a separator: past the UTF-8 and framing checks.
      fc
        .array(fc.constantFrom(0x7b, 0x7d, 0x5b, 0x5d, 0x22, 0x5c, 0x3a, 0x2c, 0x31, 0x74, 0x6e, 0x1e, 0x20, 0xc3, 0xa9, 0xff), {
          maxLength: 256,
        })
        .map((array) => Uint8Array.from([...array, RS_CODE])),
    );
    fuzz(
      '(a) arbitrary bytes: messages or a ProtocolError',
      fc.property(bytes, (array) => {
        check(Buffer.from(array));
      }),
      8000,
      3000,
    );
  });

  it('(b) arbitrary text with record separators sprinkled in', () => {
    fuzz(
      '(b) arbitrary text with record separators sprinkled in',
      fc.property(recordText, (text) => {
        const outcome = check(Buffer.from(text, 'utf8'));
        if (!text.endsWith(RS)) expect(outcome.ok).toBe(false);
      }),
      8000,
      3000,
    );
  });

  it('(c) valid frames, mutated: bit flips, truncations, separators, prototype keys, nesting', () => {
    const mutation = fc.oneof(
      byteMutation.map((m) => ({ bytes: m })),
      textMutation.map((m) => ({ text: m })),
    );
    fuzz(
      '(c) valid frames, mutated: bit flips, truncations, separators, prototype keys, nesting',
      fc.property(fc.array(hubMessage, { minLength: 1, maxLength: 4 }), fc.array(mutation, { minLength: 1, maxLength: 4 }), (messages, mutations) => {
        let frame = frameOf(messages);
        for (const step of mutations) {
          frame =
            'bytes' in step
              ? applyByteMutation(frame, step.bytes as ByteMutation)
              : Buffer.from(applyTextMutation(frame.toString('utf8'), step.text), 'utf8');
        }
        check(frame);
      }),
      6000,
      3000,
    );
  });

  it('(c) prototype keys anywhere in a valid frame are dropped, and change nothing else', () => {
    fuzz(
      '(c) prototype keys anywhere in a valid frame are dropped, and change nothing else',
      fc.property(
        fc.array(hubMessage, { minLength: 1, maxLength: 3 }),
        fc.array(fc.record({ index: fc.nat(), key: fc.constantFrom(...PROTOTYPE_KEYS) }), { minLength: 1, maxLength: 4 }),
        (messages, insertions) => {
          const original = frameOf(messages).toString('utf8');
          let text = original;
          for (const { index, key } of insertions) text = applyTextMutation(text, { kind: 'prototype-key', index, key });
          const outcome = check(Buffer.from(text, 'utf8'));
          const deepest = Math.max(...text.split(RS).map(textDepth));
          if (deepest > DEFAULT_MAX_JSON_DEPTH) {
            expect(outcome.ok).toBe(false);
          } else {
            expect(outcome.ok && outcome.messages).toStrictEqual(protocol.parseMessages(Buffer.from(original, 'utf8')));
          }
        },
      ),
      2000,
      3000,
    );
  });

  it('(c) deep nesting: accepted up to the depth limit, a ProtocolError past it', () => {
    fuzz(
      '(c) deep nesting: accepted up to the depth limit, a ProtocolError past it',
      fc.property(
        fc.integer({ min: 1, max: 40 }),
        fc.array(hubMessage, { minLength: 1, maxLength: 2 }),
        fc.array(fc.record({ index: fc.nat(), levels: fc.integer({ min: 1, max: 80 }), objects: fc.boolean() }), { minLength: 1, maxLength: 3 }),
        (maxDepth, messages, nestings) => {
          const limited = new JsonHubProtocol({ maxDepth });
          let text = frameOf(messages).toString('utf8');
          // Inside argument lists only: elsewhere (stream ids, headers) a nested value is a shape error.
          for (const nesting of nestings) text = nestInArguments(text, nesting);
          frames++;
          const outcome = parseChecked((frame) => limited.parseMessages(frame), Buffer.from(text, 'utf8'));
          const deepest = Math.max(...text.split(RS).map(textDepth));
          expect(outcome.ok, `depth ${deepest}, limit ${maxDepth}: ${outcome.ok ? '' : outcome.error.message}`).toBe(deepest <= maxDepth);
          if (!outcome.ok) expect(outcome.error.message).toMatch(/deeper than the maximum depth/);
          prototypesUntouched();
        },
      ),
      2000,
      2000,
    );
  });

  it('(c) a depth bomb fails fast', () => {
    fuzz(
      '(c) a depth bomb fails fast',
      fc.property(fc.integer({ min: 33, max: 200_000 }), fc.constantFrom('[', '{"a":', '[{"b":'), fc.boolean(), (levels, open, closed) => {
        const body = open.repeat(levels) + (closed ? '1' + (open === '[' ? ']' : '}').repeat(levels) : '');
        const outcome = check(Buffer.from(`{"type":1,"target":"Echo","arguments":[${body}]}${RS}`, 'utf8'));
        expect(outcome.ok).toBe(false);
      }),
      100,
      1500,
    );
  });

  it('(c) frames as large as a server lets through (64 KB): still linear', () => {
    fuzz(
      '(c) large frames',
      fc.property(fc.array(fc.oneof(recordText, fc.array(hubMessage, { minLength: 1, maxLength: 3 }).map((m) => frameOf(m).toString('utf8'))), { minLength: 1, maxLength: 8 }), fc.integer({ min: 16 * 1024, max: 64 * 1024 }), (pieces, size) => {
        const unit = pieces.join('');
        const text = unit.length === 0 ? RS : unit.repeat(Math.ceil(size / Math.max(1, unit.length))).slice(0, size);
        check(Buffer.from(text, 'utf8'));
        check(Buffer.from(text.endsWith(RS) ? text : text + RS, 'utf8'));
      }),
      60,
      3000,
    );
  });

  it('(d) arbitrary JSON values as records: only objects with an integer type are read', () => {
    fuzz(
      '(d) arbitrary JSON values as records: only objects with an integer type are read',
      fc.property(fc.array(fc.jsonValue(), { minLength: 1, maxLength: 3 }), (values) => {
        const text = values.map((value) => JSON.stringify(value) + RS).join('');
        const outcome = check(Buffer.from(text, 'utf8'));
        const readable = values.every(
          (value) =>
            typeof value === 'object' && value !== null && !Array.isArray(value) && Number.isInteger(value.type) && depthOf(value) <= DEFAULT_MAX_JSON_DEPTH,
        );
        if (!readable) expect(outcome.ok).toBe(false);
      }),
      4000,
      2000,
    );
  });

  it('(d) records shaped like messages, with fields of random kinds', () => {
    const anyValue = fc.oneof(
      fc.jsonValue({ maxDepth: 3 }),
      fc.string({ minLength: 1, maxLength: 8 }),
      fc.string({ minLength: 120, maxLength: 140 }),
      fc.array(fc.string({ maxLength: 4 }), { maxLength: 3 }),
      fc.dictionary(fc.string({ maxLength: 4 }), fc.oneof(fc.string({ maxLength: 4 }), fc.integer()), { maxKeys: 3, noNullPrototype: true }),
    );
    const fields = fc.record(
      {
        type: fc.oneof(fc.integer({ min: -1, max: 11 }), fc.constantFrom(1.5, '1', null, 2 ** 53, -0)),
        invocationId: anyValue,
        target: anyValue,
        arguments: anyValue,
        streamIds: anyValue,
        headers: anyValue,
        item: anyValue,
        result: anyValue,
        error: anyValue,
        allowReconnect: anyValue,
        sequenceId: fc.oneof(fc.integer(), fc.double(), fc.constantFrom(-1, 2 ** 53, '1')),
      },
      { requiredKeys: [] },
    );
    fuzz(
      '(d) records shaped like messages, with fields of random kinds',
      fc.property(fc.array(fields, { minLength: 1, maxLength: 3 }), (records) => {
        const outcome = check(Buffer.from(records.map((record) => JSON.stringify(record) + RS).join(''), 'utf8'));
        if (outcome.ok) {
          // Unknown types are skipped; every known one is read into a message of that type.
          const known = records.filter((record) => typeof record.type === 'number' && record.type >= 1 && record.type <= 9);
          expect(outcome.messages.map((message) => message.type)).toEqual(known.map((record) => record.type));
        }
      }),
      5000,
      3000,
    );
  });
});

describe('JsonHubProtocol round trip', () => {
  it('parse(write(m)) is m, normalized as the writer documents', () => {
    fuzz(
      'parse(write(m)) is m, normalized as the writer documents',
      fc.property(fc.array(hubMessage, { minLength: 1, maxLength: 5 }), (messages) => {
        const written = messages.map((message) => protocol.writeMessage(message));
        for (const record of written) {
          expect(record.endsWith(RS)).toBe(true);
          // Separators inside values are escaped: each record has exactly one, at its end.
          expect(record.indexOf(RS)).toBe(record.length - 1);
        }
        frames++;
        const outcome = parseChecked(parse, Buffer.from(written.join(''), 'utf8'));
        expect(outcome.ok && outcome.messages).toStrictEqual(messages.map(expectedRoundTrip));
      }),
      4000,
      3000,
    );
  });

  it('values of every JSON kind survive as arguments, items and results', () => {
    fuzz(
      'values of every JSON kind survive as arguments, items and results',
      fc.property(fc.array(jsonArgument, { maxLength: 4 }), jsonArgument, (args, value) => {
        const messages: HubMessage[] = [
          { type: MessageType.Invocation, invocationId: '1', target: 'Echo', arguments: args },
          { type: MessageType.StreamItem, invocationId: '1', item: value },
          { type: MessageType.Completion, invocationId: '1', result: value, hasResult: true },
        ];
        frames++;
        const outcome = parseChecked(parse, frameOf(messages));
        expect(outcome.ok && outcome.messages).toStrictEqual(messages.map(expectedRoundTrip));
      }),
      1500,
      1500,
    );
  });
});
