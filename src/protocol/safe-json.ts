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
 * are looked at as they go by. Strings, most of a message, are skipped by native searches.
 * Returns whether a key may name `__proto__` or `constructor`: spelled out, or behind an escape.
 */
function scan(text: string, maxDepth: number): boolean {
  let depth = 0;
  let keysNeedReview = false;
  // The next backslash at or after where the scan is; -1 when there is none left.
  let backslash = text.indexOf('\\');
  const length = text.length;
  for (let i = 0; i < length; i++) {
    const code = text.charCodeAt(i);
    if (code === QUOTE) {
      const start = i + 1;
      if (backslash !== -1 && backslash < start) backslash = text.indexOf('\\', start);
      const end = closingQuote(text, start, backslash);
      // Unterminated: JSON.parse rejects it.
      if (end === -1) return keysNeedReview;
      if (!keysNeedReview) {
        const escaped = backslash !== -1 && backslash < end;
        keysNeedReview = (escaped || isPrototypeName(text, start, end)) && isKey(text, end + 1);
      }
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

/** The quote that ends the string starting at `start`: one behind an even number of backslashes. */
function closingQuote(text: string, start: number, backslash: number): number {
  let quote = text.indexOf('"', start);
  if (backslash === -1) return quote;
  while (quote !== -1 && quote > backslash) {
    let escapes = 0;
    while (text.charCodeAt(quote - 1 - escapes) === BACKSLASH) escapes++;
    if (escapes % 2 === 0) return quote;
    quote = text.indexOf('"', quote + 1);
  }
  return quote;
}

function isPrototypeName(text: string, start: number, end: number): boolean {
  const length = end - start;
  return (length === 9 && text.startsWith('__proto__', start)) || (length === 11 && text.startsWith('constructor', start));
}

/** A string followed by a colon (whitespace allowed between) is an object key. */
function isKey(text: string, from: number): boolean {
  for (let i = from; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code === COLON) return true;
    if (code !== 0x20 && code !== 0x09 && code !== 0x0a && code !== 0x0d) return false;
  }
  return false;
}

function dropPrototypeKeys(key: string, value: unknown): unknown {
  if (key === '__proto__') return undefined;
  if (key === 'constructor' && typeof value === 'object' && value !== null && Object.hasOwn(value, 'prototype')) {
    return undefined;
  }
  return value;
}
