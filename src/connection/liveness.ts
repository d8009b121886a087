/** What the keep-alive ticker finds a connection owes. */
export const enum LivenessVerdict {
  Fine,
  /** Nothing was sent for the keep-alive interval: a Ping is due. */
  PingDue,
  /** The client sent nothing for the client timeout: it is gone. */
  Silent,
}

/**
 * When a connection last sent and received. Each message only sets a flag; the keep-alive ticker
 * folds the flags into times, so no clock is read per message.
 */
export class Liveness {
  private sentSinceTick = false;
  private receivedSinceTick = false;
  private lastSentAt: number;
  private lastReceivedAt: number;

  constructor(now = Date.now()) {
    this.lastSentAt = this.lastReceivedAt = now;
  }

  sent(): void {
    this.sentSinceTick = true;
  }

  received(): void {
    this.receivedSinceTick = true;
  }

  /** Folds what happened since the last tick into times; call once per tick, in every phase. */
  fold(now: number): void {
    if (this.sentSinceTick) this.lastSentAt = now;
    if (this.receivedSinceTick) this.lastReceivedAt = now;
    this.sentSinceTick = this.receivedSinceTick = false;
  }

  /** `checkSilence` is off while the client is not being read (the hub's onConnected runs). */
  verdict(now: number, keepAliveIntervalMs: number, clientTimeoutIntervalMs: number, checkSilence: boolean): LivenessVerdict {
    if (checkSilence && now - this.lastReceivedAt >= clientTimeoutIntervalMs) return LivenessVerdict.Silent;
    return now - this.lastSentAt >= keepAliveIntervalMs ? LivenessVerdict.PingDue : LivenessVerdict.Fine;
  }
}
