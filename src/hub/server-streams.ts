/**
 * A server-to-client stream from the moment its call is accepted, so that a cancellation finds it
 * whenever it arrives: in the same turn as the call, while the call waits in the queue, or while
 * it runs.
 */
export interface ServerStream {
  /** Set once the method has returned its stream. */
  iterator?: AsyncIterator<unknown>;
}

/**
 * One connection's server streams by invocation id. Streams are compared by identity: once one
 * has ended, its id is free for the client to use again, and what the old one still does must
 * not touch the new one.
 */
export class ServerStreams {
  /** Made with the first stream: most connections never open one, and an empty map costs memory. */
  private byId: Map<string, ServerStream> | undefined;

  /** Streams from their acceptance until they end, however they end. */
  get count(): number {
    return this.byId?.size ?? 0;
  }

  has(invocationId: string): boolean {
    return this.byId?.has(invocationId) ?? false;
  }

  open(invocationId: string): ServerStream {
    const stream: ServerStream = {};
    (this.byId ??= new Map()).set(invocationId, stream);
    return stream;
  }

  isRunning(invocationId: string, stream: ServerStream): boolean {
    return this.byId?.get(invocationId) === stream;
  }

  /** Its place is free at once, whenever the method or its producer gets to notice. */
  cancel(invocationId: string): void {
    const stream = this.byId?.get(invocationId);
    if (stream && this.end(invocationId, stream)) void stream.iterator?.return?.();
  }

  /** Forgets a stream; false if it had already ended (completed or canceled). */
  end(invocationId: string, stream: ServerStream): boolean {
    if (!this.isRunning(invocationId, stream)) return false;
    this.byId!.delete(invocationId);
    return true;
  }

  /** The connection is gone: every producer is told, nothing is counted any more. */
  closeAll(): void {
    if (!this.byId) return;
    for (const stream of this.byId.values()) void stream.iterator?.return?.();
    this.byId.clear();
  }
}
