/**
 * Which connection ids are open now and which ended recently. A sealed token stays authentic
 * after its connection ends, so the registry is what makes it single-use: a live id answers
 * 409, an ended one 404, for as long as the token could otherwise still be used.
 */
export class ConnectionRegistry {
  private readonly live = new Set<string>();
  private readonly ended = new Map<string, number>();

  isLive(connectionId: string): boolean {
    return this.live.has(connectionId);
  }

  hasEnded(connectionId: string): boolean {
    return this.ended.has(connectionId);
  }

  markLive(connectionId: string): void {
    this.live.add(connectionId);
  }

  /** Remembers the end until `forgetAt`, after which the token has expired anyway. */
  markEnded(connectionId: string, forgetAt: number): void {
    this.live.delete(connectionId);
    this.ended.set(connectionId, forgetAt);
  }

  sweep(now = Date.now()): void {
    for (const [connectionId, forgetAt] of this.ended) {
      if (forgetAt <= now) this.ended.delete(connectionId);
    }
  }
}
