import { ProtocolError } from './protocol-error.js';

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COLON = 0x3a;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;

/**
 * Parses JSON sent by a client, which is not to be trusted:
 * - nesting deeper than `maxDepth` (objects and arrays both count) is a {@link ProtocolError};
 *   it is measured on the raw text first, so a depth bomb never reaches the parser;
 * - keys that could reach `Object.prototype` through a naive merge or assignment later on
 *   (`__proto__`, and `constructor` holding a `prototype`) are dropped.
 */
export function parseJsonSafely(text: string, maxDepth: number): unknown {
  const keysNeedReview = scan(text, maxDepth);
  try {
    return keysNeedReview ? JSON.parse(text, dropPrototypeKeys) : JSON.parse(text);
  } catch (error) {
    throw new ProtocolError(`Message is not valid JSON: ${(error as Error).message}`);
  }
}

/**
 * One pass over the text: brackets outside strings give the nesting depth of valid JSON exactly
 * (on invalid JSON the count may be off, but JSON.parse rejects that text anyway), and the keys
 * are looked at as they go by. Strings, most of a message, are skipped by native searches; only
 * keys are read. Returns whether a key may name `__proto__` or `constructor`.
 */
function scan(text: string, maxDepth: number): boolean {
  let depth = 0;
  let keysNeedReview = false;
  const length = text.length;
  // Stryker disable next-line EqualityOperator: one past the end reads NaN, which matches no character.
  for (let i = 0; i < length; i++) {
    const code = text.charCodeAt(i);
    if (code === QUOTE) {
      const end = closingQuote(text, i + 1);
      // Unterminated: JSON.parse rejects it.
      if (end === -1) return keysNeedReview;
      keysNeedReview ||= isKey(text, end + 1) && mayNamePrototype(text.slice(i + 1, end));
      i = end;
    } else if (code === OPEN_BRACKET || code === OPEN_BRACE) {
      if (++depth > maxDepth) {
        throw new ProtocolError(`Message nests deeper than the maximum depth of ${maxDepth}.`);
      }
    } else if (code === CLOSE_BRACKET || code === CLOSE_BRACE) {
      depth--;
    }
  }
  return keysNeedReview;
}

/** The quote that ends the string starting at `start` (-1 when none does): the first one not escaped. */
function closingQuote(text: string, start: number): number {
  let quote = text.indexOf('"', start);
  while (isEscaped(text, quote)) quote = text.indexOf('"', quote + 1);
  return quote;
}

/** An odd number of backslashes right before `position`; none stand before -1, the end of the search. */
function isEscaped(text: string, position: number): boolean {
  let backslashes = 0;
  while (text.charCodeAt(position - 1 - backslashes) === BACKSLASH) backslashes++;
  return backslashes % 2 === 1;
}

/** A raw key: spelled out, or with an escape, which can spell anything. */
function mayNamePrototype(rawKey: string): boolean {
  return rawKey === '__proto__' || rawKey === 'constructor' || rawKey.includes('\\');
}

/** A string followed by a colon (JSON whitespace allowed between) is an object key. */
function isKey(text: string, from: number): boolean {
  let i = from;
  while (isJsonWhitespace(text.charCodeAt(i))) i++;
  return text.charCodeAt(i) === COLON;
}

function isJsonWhitespace(code: number): boolean {
  return code === 0x20 || code === 0x09 || code === 0x0a || code === 0x0d;
}

function dropPrototypeKeys(key: string, value: unknown): unknown {
  if (key === '__proto__') return undefined;
  if (key === 'constructor' && typeof value === 'object' && value !== null && Object.hasOwn(value, 'prototype')) {
    return undefined;
  }
  return value;
}
