/**
 * Nesting past which a value is left to JSON.stringify as it is: it then writes it as it always
 * did (and refuses a cycle, which a walk without a limit would follow forever).
 */
const MAX_CONVERTED_DEPTH = 1000;

/**
 * A payload (arguments, a result, a stream item) with the values JSON.stringify would write
 * differently from ASP.NET Core's JSON protocol replaced by what ASP.NET Core writes:
 * - bytes (`Uint8Array`, so `Buffer` too) as base64 text, as it writes `byte[]`, instead of an
 *   object of indexes (`{"0":1}`, or `{"type":"Buffer","data":[1]}`);
 * - a `Date` as it writes a UTC `DateTime` (see {@link formatDateTime}).
 * Arrays and plain objects are copied only on the way to a replaced value: a payload without one,
 * the usual case, is returned as it is. Objects with their own `toJSON` are left to it.
 */
export function toJsonValue(value: unknown): unknown {
  return convert(value, 0);
}

function convert(value: unknown, depth: number): unknown {
  if (typeof value !== 'object' || value === null) return value;
  if (value instanceof Date) return formatDateTime(value);
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64');
  if (depth === MAX_CONVERTED_DEPTH) return value;
  if (Array.isArray(value)) return arrayToJson(value, depth + 1);
  if (typeof (value as { toJSON?: unknown }).toJSON === 'function') return value;
  return objectToJson(value as Record<string, unknown>, depth + 1);
}

// Primitives, most of a payload, are skipped before any call (null, whose type is 'object', is
// returned as it is by convert): the walk stays a fraction of JSON.stringify's own time on
// object-heavy payloads.
function arrayToJson(array: readonly unknown[], depth: number): readonly unknown[] {
  let copy: unknown[] | undefined;
  // Stryker disable next-line EqualityOperator: reading one past the end gives undefined, which the next line skips.
  for (let i = 0; i < array.length; i++) {
    const item = array[i];
    if (typeof item !== 'object') continue;
    const converted = convert(item, depth);
    if (converted === item) continue;
    copy ??= array.slice();
    copy[i] = converted;
  }
  return copy ?? array;
}

function objectToJson(object: Record<string, unknown>, depth: number): Record<string, unknown> {
  let copy: Record<string, unknown> | undefined;
  // for...in with an own-property check visits what Object.keys (and JSON.stringify) would, without an array.
  for (const key in object) {
    if (!Object.hasOwn(object, key)) continue;
    const item = object[key];
    if (typeof item !== 'object') continue;
    const converted = convert(item, depth);
    if (converted === item) continue;
    copy ??= { ...object };
    copy[key] = converted;
  }
  return copy ?? object;
}

/**
 * A Date as System.Text.Json writes a UTC `DateTime`: ISO 8601 with `Z`, and a fraction of a
 * second only when there is one, without trailing zeros (`2000-01-01T00:00:00Z`,
 * `2002-04-01T10:20:15.5Z`). An invalid Date is null, as JSON.stringify writes it.
 */
export function formatDateTime(date: Date): string | null {
  if (Number.isNaN(date.getTime())) return null;
  // Stryker disable next-line Regex: toISOString writes Z once, at the end; the anchor only says so.
  return date.toISOString().replace(/\.?0+Z$/, 'Z');
}
