import { ProtocolError } from './protocol-error.js';

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;

/**
 * Parses JSON sent by a client, which is not to be trusted:
 * - nesting deeper than `maxDepth` (objects and arrays both count) is a {@link ProtocolError};
 *   it is measured on the raw text first, so a depth bomb never reaches a recursive walk;
 * - keys that could reach `Object.prototype` through a naive merge or assignment later on
 *   (`__proto__`, and `constructor` holding a `prototype`) are dropped.
 */
export function parseJsonSafely(text: string, maxDepth: number): unknown {
  assertNestingWithin(text, maxDepth);
  let value: unknown;
  try {
    value = mayNameAPrototypeKey(text) ? JSON.parse(text, dropPrototypeKeys) : JSON.parse(text);
  } catch (error) {
    throw new ProtocolError(`Message is not valid JSON: ${(error as Error).message}`);
  }
  return value;
}

/**
 * Brackets outside strings give the nesting depth of valid JSON exactly; on invalid JSON the
 * count may be off, but JSON.parse rejects that text anyway.
 */
function assertNestingWithin(text: string, maxDepth: number): void {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (inString) {
      if (code === BACKSLASH) i++;
      else if (code === QUOTE) inString = false;
    } else if (code === QUOTE) {
      inString = true;
    } else if (code === OPEN_BRACKET || code === OPEN_BRACE) {
      if (++depth > maxDepth) {
        throw new ProtocolError(`Message nests deeper than the maximum depth of ${maxDepth}.`);
      }
    } else if (code === CLOSE_BRACKET || code === CLOSE_BRACE) {
      depth--;
    }
  }
}

/**
 * A reviver slows parsing several times over, so it only runs when a dangerous key can be
 * present: spelled out, or hidden behind a \u escape (the only escape that yields a letter).
 */
function mayNameAPrototypeKey(text: string): boolean {
  return text.includes('__proto__') || text.includes('prototype') || text.includes('\\u');
}

function dropPrototypeKeys(key: string, value: unknown): unknown {
  if (key === '__proto__') return undefined;
  if (key === 'constructor' && typeof value === 'object' && value !== null && Object.hasOwn(value, 'prototype')) {
    return undefined;
  }
  return value;
}
