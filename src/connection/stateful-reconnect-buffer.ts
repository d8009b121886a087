import { MessageType, type HubMessage } from '../protocol/hub-message.js';

/** Invocations, stream items, completions, stream invocations and cancels are numbered; the rest is not. */
export function isSequenced(type: MessageType): boolean {
  return type >= MessageType.Invocation && type <= MessageType.CancelInvocation;
}

interface SentMessage {
  readonly sequenceId: number;
  readonly payload: string | Uint8Array;
}

/**
 * Both halves of stateful reconnect for one connection. Outgoing: every numbered message is
 * kept until the client acknowledges it, so it can be replayed on a new socket. Incoming:
 * the client's messages are counted so that the ones it replays after a reconnect, which the
 * server already handled, are recognized and skipped.
 */
export class StatefulReconnectBuffer {
  private readonly unacknowledged: SentMessage[] = [];
  private bytes = 0;
  private lastSentId = 0;
  private nextReceivedId = 1;
  private latestReceivedId = 0;
  private acknowledgedReceivedId = 0;
  /** After a takeover the client's numbering is unknown until its Sequence message states it. */
  private adoptIncomingSequence = false;
  /** When the unacknowledged bytes went over the limit with no Ack since; undefined while under it. */
  private overLimitSince: number | undefined;

  /**
   * The buffer of a connection resumed on a node that lost its state. The client said how many
   * messages it received, so numbering goes on from there; what the lost node sent beyond that
   * is gone. The client's own replay is taken from the number it announces.
   */
  static afterTakeover(receivedByClient: number): StatefulReconnectBuffer {
    const buffer = new StatefulReconnectBuffer();
    buffer.lastSentId = receivedByClient;
    buffer.adoptIncomingSequence = true;
    return buffer;
  }

  /** Bytes kept for replay; the connection applies its limits to this. */
  get bufferedBytes(): number {
    return this.bytes;
  }

  recordSent(payload: string | Uint8Array): void {
    this.unacknowledged.push({ sequenceId: ++this.lastSentId, payload });
    this.bytes += payload.length;
  }

  acknowledge(sequenceId: number): void {
    this.overLimitSince = undefined;
    let dropped = 0;
    while (dropped < this.unacknowledged.length && this.unacknowledged[dropped].sequenceId <= sequenceId) {
      this.bytes -= this.unacknowledged[dropped].payload.length;
      dropped++;
    }
    this.unacknowledged.splice(0, dropped);
  }

  /**
   * Whether the client, with more than `limit` bytes unacknowledged, has acknowledged nothing for
   * `timeoutMs`: its Acks stopped arriving, and it needs a fresh socket.
   */
  ackOverdue(now: number, limit: number, timeoutMs: number): boolean {
    if (this.bytes <= limit) {
      this.overLimitSince = undefined;
      return false;
    }
    this.overLimitSince ??= now;
    return now - this.overLimitSince >= timeoutMs;
  }

  /**
   * Takes in one message from the client: Ack and Sequence are handled here, and so is a message
   * the client replays although the server already handled it; the others are to be dispatched.
   * `invalid`: a Sequence from beyond what the client ever sent, a broken client.
   */
  receive(message: HubMessage): 'dispatch' | 'handled' | 'invalid' {
    if (message.type === MessageType.Ack) {
      this.acknowledge(message.sequenceId);
      return 'handled';
    }
    if (message.type === MessageType.Sequence) return this.resetIncoming(message.sequenceId) ? 'handled' : 'invalid';
    return this.accept(message) ? 'dispatch' : 'handled';
  }

  /** What a new socket must receive first: the Sequence to announce, then the replay. */
  replay(): { sequenceId: number; payloads: (string | Uint8Array)[] } {
    this.overLimitSince = undefined;
    const sequenceId = this.unacknowledged[0]?.sequenceId ?? this.lastSentId + 1;
    return { sequenceId, payloads: this.unacknowledged.map((message) => message.payload) };
  }

  /** The client announced, after reconnecting, the number of the next message it will (re)send. */
  resetIncoming(sequenceId: number): boolean {
    if (this.adoptIncomingSequence) {
      // Messages the client replays may have been handled by the lost node: at least once, not at most.
      this.adoptIncomingSequence = false;
      this.latestReceivedId = this.acknowledgedReceivedId = sequenceId - 1;
      this.nextReceivedId = sequenceId;
      return sequenceId >= 1;
    }
    if (sequenceId > this.nextReceivedId) return false;
    this.nextReceivedId = sequenceId;
    return true;
  }

  /** Numbers an incoming message; false for a replayed one the server has already handled. */
  accept(message: HubMessage): boolean {
    if (!isSequenced(message.type)) return true;
    const id = this.nextReceivedId++;
    if (id <= this.latestReceivedId) return false;
    this.latestReceivedId = id;
    return true;
  }

  /** The Ack to send now, if messages arrived since the last one. */
  pendingAck(): number | undefined {
    if (this.latestReceivedId === this.acknowledgedReceivedId) return undefined;
    this.acknowledgedReceivedId = this.latestReceivedId;
    return this.latestReceivedId;
  }
}
