import { SignalRError, SignalRErrorCode } from '../errors/signalr-error-codes.js';
import type { CompletionMessage } from '../protocol/hub-message.js';

interface PendingResult {
  resolve(value: unknown): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
}

/** Invocations the server sent to one client and whose Completion it still awaits. */
export class ClientResultTracker {
  /** Made with the first invocation: most connections are never asked for a result. */
  private pending: Map<string, PendingResult> | undefined;
  private nextId = 0;

  constructor(private readonly timeoutMs: number) {}

  /** Registers a new invocation id; the promise settles with the client's Completion. */
  begin(method: string): { invocationId: string; result: Promise<unknown> } {
    // The prefix keeps server-issued ids apart from the ids the client numbers itself.
    const invocationId = `s${++this.nextId}`;
    const result = new Promise<unknown>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending!.delete(invocationId);
        reject(
          new SignalRError(
            SignalRErrorCode.ClientResultTimeout,
            `The client did not answer '${method}' within ${this.timeoutMs} ms.`,
          ),
        );
      }, this.timeoutMs);
      (this.pending ??= new Map()).set(invocationId, { resolve, reject, timer });
    });
    return { invocationId, result };
  }

  /** Returns false when no invocation of ours has this id, so the caller can treat it as noise. */
  complete(message: CompletionMessage): boolean {
    const entry = this.pending?.get(message.invocationId);
    if (!entry) return false;
    this.pending!.delete(message.invocationId);
    clearTimeout(entry.timer);
    if (message.error !== undefined) {
      entry.reject(new SignalRError(SignalRErrorCode.ClientResultFailed, message.error));
    } else {
      entry.resolve(message.result);
    }
    return true;
  }

  cancelAll(): void {
    if (!this.pending) return;
    for (const entry of this.pending.values()) {
      clearTimeout(entry.timer);
      entry.reject(new SignalRError(SignalRErrorCode.ConnectionClosed, 'The connection closed before the client answered.'));
    }
    this.pending.clear();
  }
}
