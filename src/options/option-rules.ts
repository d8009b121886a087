import { SignalRError, SignalRErrorCode } from '../errors/signalr-error-codes.js';

/** What is wrong with one option's value, or undefined when it is usable. Never called with `undefined` (unset). */
export type OptionRule = (value: unknown) => string | undefined;

/**
 * One rule per option of `T`. Typed so: an option added to `T` does not compile until it has its
 * rule, in the same declaration, and the keys of these declarations are the known options.
 */
export type OptionRules<T> = { readonly [K in keyof Required<T>]: OptionRule };

/** Node fires a timer of more than 2^31 - 1 ms at once (with a TimeoutOverflowWarning). */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** A value as a message shows it: strings quoted, so that `'15000'` is told from `15000`. */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') return `${JSON.stringify(value)} (a string)`;
  if (typeof value === 'function') return 'a function';
  if (Buffer.isBuffer(value)) return `a Buffer of ${value.length} bytes`;
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (value !== null && typeof value === 'object') return 'an object';
  return String(value);
}

export function integerBetween(min: number, max: number, unit: string): OptionRule {
  return (value) =>
    typeof value === 'number' && Number.isSafeInteger(value) && value >= min && value <= max
      ? undefined
      : `must be an integer number of ${unit} from ${min} to ${max}, got ${describeValue(value)}`;
}

export const milliseconds: OptionRule = integerBetween(1, MAX_TIMER_MS, 'milliseconds');

export function positiveInteger(unit: string): OptionRule {
  return integerBetween(1, Number.MAX_SAFE_INTEGER, unit);
}

export const flag: OptionRule = (value) => (typeof value === 'boolean' ? undefined : `must be true or false, got ${describeValue(value)}`);

export const callback: OptionRule = (value) => (typeof value === 'function' ? undefined : `must be a function, got ${describeValue(value)}`);

export function oneOf(...allowed: readonly unknown[]): OptionRule {
  return (value) =>
    allowed.includes(value) ? undefined : `must be ${allowed.map((entry) => JSON.stringify(entry)).join(' or ')}, got ${describeValue(value)}`;
}

/** An array whose every entry passes `entry`; a lone entry is refused with the brackets it lacks. */
export function listOf(entry: OptionRule, what: string): OptionRule {
  return (value) => {
    if (!Array.isArray(value)) {
      const hint = typeof value === 'string' ? ` (write [${JSON.stringify(value)}])` : '';
      return `must be an array of ${what}, got ${describeValue(value)}${hint}`;
    }
    const problems = value.flatMap((item, index) => {
      const problem = item === undefined ? 'is undefined' : entry(item);
      return problem === undefined ? [] : [`entry ${index} ${problem}`];
    });
    return problems.length === 0 ? undefined : problems.join('; ');
  };
}

/** A rule from a parser that throws on a value it cannot use: its message is the problem. */
export function parsedBy(parse: (value: unknown) => unknown): OptionRule {
  return (value) => {
    try {
      parse(value);
      return undefined;
    } catch (error) {
      const { reason, message } = error as { reason?: string; message?: string };
      return reason ?? message ?? String(error);
    }
  };
}

/** An object with options of its own, checked by `rules`. */
export function nested(rules: Readonly<Record<string, OptionRule>>): OptionRule {
  return (value) => {
    const problems = optionProblems(rules, value);
    return problems.length === 0 ? undefined : problems.join('; ');
  };
}

/**
 * Every problem of `options` against `rules`: a key no rule knows (with the likely one meant), a
 * value its rule refuses. Unset (`undefined`) options are not checked: they take their default.
 */
export function optionProblems(rules: Readonly<Record<string, OptionRule>>, options: unknown, prefix = ''): string[] {
  if (options === undefined) return [];
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    return [`${prefix || 'the options'} must be an object, got ${describeValue(options)}`];
  }
  const known = Object.keys(rules);
  return Object.entries(options).flatMap(([key, value]) => {
    const name = `'${prefix}${key}'`;
    if (!Object.hasOwn(rules, key)) {
      const meant = likelyMeant(key, known);
      return [`${name} is not an option${meant ? `: did you mean '${prefix}${meant}'?` : ''}`];
    }
    const problem = value === undefined ? undefined : rules[key](value);
    return problem === undefined ? [] : [`${name} ${problem}`];
  });
}

/** One error for every problem of the options given at `where` (`SignalRModule.forRoot()`, `@Hub('/hubs/chat')`). */
export function invalidOptions(where: string, problems: readonly string[]): SignalRError {
  return new SignalRError(SignalRErrorCode.InvalidOption, `The options of ${where} are invalid:\n${problems.map((problem) => `  - ${problem}`).join('\n')}\n`);
}

/** The known key a misspelt one most likely meant: same letters but case, or a few edits away. */
function likelyMeant(key: string, known: readonly string[]): string | undefined {
  const lower = key.toLowerCase();
  let best: { key: string; distance: number } | undefined;
  for (const candidate of known) {
    const distance = editDistance(lower, candidate.toLowerCase());
    if (distance <= Math.max(2, Math.floor(candidate.length / 4)) && (!best || distance < best.distance)) best = { key: candidate, distance };
  }
  return best?.key;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length];
}
