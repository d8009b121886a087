/** What the wheel keeps on each item: the slot it waits in, -1 while in none. */
export interface WheelItem {
  wheelSlot: number;
}

/**
 * Items by the tick at which they next need a look, so that a tick visits only those due
 * instead of every connection: an idle connection is looked at once per keep-alive interval,
 * not once per tick. Slots are relative to the cursor; a due time beyond the horizon waits in
 * the farthest slot and is looked at (and put back) then.
 */
export class KeepAliveWheel<T extends WheelItem> {
  private readonly slots: Set<T>[];
  private cursor = 0;
  /** The set the visited slot gets next: swapped, not made anew, on every tick. */
  private spare = new Set<T>();

  constructor(
    private readonly tickMs: number,
    horizonMs: number,
  ) {
    this.slots = Array.from({ length: Math.ceil(horizonMs / tickMs) + 1 }, () => new Set<T>());
  }

  /** Waits `item` for the first tick at or after `dueAt`, and never for the current one. */
  schedule(item: T, dueAt: number, now: number): void {
    this.remove(item);
    const ticks = Math.min(Math.max(Math.ceil((dueAt - now) / this.tickMs), 1), this.slots.length - 1);
    const slot = (this.cursor + ticks) % this.slots.length;
    this.slots[slot].add(item);
    item.wheelSlot = slot;
  }

  remove(item: T): void {
    if (item.wheelSlot < 0) return;
    this.slots[item.wheelSlot].delete(item);
    item.wheelSlot = -1;
  }

  /** One tick: `visit` each item due now; it answers when it is next due, or undefined to leave the wheel. */
  advance(now: number, visit: (item: T) => number | undefined): void {
    this.cursor = (this.cursor + 1) % this.slots.length;
    const due = this.slots[this.cursor];
    if (due.size === 0) return;
    this.slots[this.cursor] = this.spare;
    for (const item of due) {
      item.wheelSlot = -1;
      const next = visit(item);
      if (next !== undefined) this.schedule(item, next, now);
    }
    due.clear();
    this.spare = due;
  }
}
