import { classicErrors } from '../../errors/classic-errors.js';
import { MAX_CLASSIC_STATE_LENGTH } from '../../protocol/classic/classic-messages.js';

/**
 * One invocation's hub state (`S`): what the client sent, and the object its method reads and
 * changes. Only the entries that changed go back, a removed one as null, as classic SignalR's
 * state tracker sent them; the client merges them into its proxy's `state`.
 */
export class ClassicCallState {
  /** What the method sees: the client's state, or an empty object it may fill. */
  readonly current: Record<string, unknown>;
  private readonly sent: Readonly<Record<string, unknown>>;

  /** `sent` is the JSON of an object, read and checked already (its depth, its size). */
  constructor(sent: string | undefined) {
    this.sent = sent === undefined ? {} : (JSON.parse(sent) as Record<string, unknown>);
    this.current = sent === undefined ? {} : (JSON.parse(sent) as Record<string, unknown>);
  }

  /**
   * Why the state as the method left it cannot go back: not JSON, or over the limit the client's
   * next call would meet. Undefined when it can.
   */
  get problem(): string | undefined {
    let json: string;
    try {
      json = JSON.stringify(this.current);
    } catch {
      return classicErrors.stateNotJson;
    }
    return json.length > MAX_CLASSIC_STATE_LENGTH ? classicErrors.stateTooLarge(MAX_CLASSIC_STATE_LENGTH) : undefined;
  }

  /** What the method changed; undefined when nothing did. */
  changes(): Record<string, unknown> | undefined {
    // Entries, not assignments: a key a method set is never taken for a prototype.
    const changed: [string, unknown][] = [];
    for (const [key, value] of Object.entries(this.current)) {
      if (JSON.stringify(value) !== JSON.stringify(this.sent[key])) changed.push([key, value ?? null]);
    }
    for (const key of Object.keys(this.sent)) if (!Object.hasOwn(this.current, key)) changed.push([key, null]);
    return changed.length === 0 ? undefined : Object.fromEntries(changed);
  }
}
