/** What a look at a connection finds it owes. */
export const enum LivenessVerdict {
  Fine,
  /** Nothing was sent for the keep-alive interval: a Ping is due. */
  PingDue,
  /** The client sent nothing for the client timeout: it is gone. */
  Silent,
}

/**
 * The time as the hub's keep-alive ticker last read it: what messages are stamped with, so that
 * no clock is read per message. It lags the real time by less than `resolutionMs`.
 */
export interface TickClock {
  readonly now: number;
  readonly resolutionMs: number;
}

/**
 * When a connection last sent and received, by the tick clock. A stamp may be up to one
 * resolution older than the message: a client is found silent only once it surely was for the
 * whole timeout, and a Ping may go up to one resolution early.
 */
export class Liveness {
  private lastSentAt: number;
  private lastReceivedAt: number;

  constructor(private readonly clock: TickClock) {
    this.lastSentAt = this.lastReceivedAt = clock.now;
  }

  sent(): void {
    this.lastSentAt = this.clock.now;
  }

  received(): void {
    this.lastReceivedAt = this.clock.now;
  }

  /** `checkSilence` is off while the client is not being read (the hub's onConnected runs). */
  verdict(now: number, keepAliveIntervalMs: number, clientTimeoutIntervalMs: number, checkSilence: boolean): LivenessVerdict {
    if (checkSilence && now >= this.silentAt(clientTimeoutIntervalMs)) return LivenessVerdict.Silent;
    return now - this.lastSentAt >= keepAliveIntervalMs ? LivenessVerdict.PingDue : LivenessVerdict.Fine;
  }

  /** The earliest time at which the verdict can change if nothing is sent or received meanwhile. */
  nextDue(keepAliveIntervalMs: number, clientTimeoutIntervalMs: number, checkSilence: boolean): number {
    const pingAt = this.lastSentAt + keepAliveIntervalMs;
    return checkSilence ? Math.min(pingAt, this.silentAt(clientTimeoutIntervalMs)) : pingAt;
  }

  private silentAt(clientTimeoutIntervalMs: number): number {
    return this.lastReceivedAt + clientTimeoutIntervalMs + this.clock.resolutionMs;
  }
}
