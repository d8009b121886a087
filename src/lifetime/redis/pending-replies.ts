interface Pending<T> {
  resolve(value: T): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
}

/**
 * Replies this node awaits from other nodes, by id, each with its own deadline: the acks of group
 * commands and the answers to client-result invocations (AckHandler's job in ASP.NET Core).
 */
export class PendingReplies<K, T> {
  private readonly pending = new Map<K, Pending<T>>();

  get size(): number {
    return this.pending.size;
  }

  /** Registers `id` before anything is published, so that no reply can arrive unawaited. */
  wait(id: K, timeoutMs: number, onTimeout: () => Error): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(onTimeout());
      }, timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
    });
  }

  /** Returns false when nothing awaits `id` (it timed out, or was never ours). */
  resolve(id: K, value: T): boolean {
    const entry = this.take(id);
    entry?.resolve(value);
    return entry !== undefined;
  }

  reject(id: K, error: Error): boolean {
    const entry = this.take(id);
    entry?.reject(error);
    return entry !== undefined;
  }

  rejectAll(error: () => Error): void {
    for (const id of this.pending.keys()) this.reject(id, error());
  }

  private take(id: K): Pending<T> | undefined {
    const entry = this.pending.get(id);
    if (!entry) return undefined;
    this.pending.delete(id);
    clearTimeout(entry.timer);
    return entry;
  }
}
