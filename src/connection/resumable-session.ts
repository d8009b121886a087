import type { ResolvedHubOptions } from '../options/hub-options.js';
import { MessageType, type HubMessage } from '../protocol/hub-message.js';
import type { ConnectionSocket } from './connection-socket.js';
import type { FrameChannel } from './frame-channel.js';
import type { MembershipRecord } from './membership-record.js';
import type { Payload } from './outgoing-batch.js';
import { isSequenced, type StatefulReconnectBuffer } from './stateful-reconnect-buffer.js';

/** What ws reports for a socket that ended without a close frame: a network failure, not a goodbye. */
const ABNORMAL_CLOSURE = 1006;

/** Sent to a connection that loses its socket on purpose and may resume on a new one. */
export const GOING_AWAY = 1001;

/**
 * A stateful-reconnect connection across its sockets: what it sent stays for replay until the
 * client acknowledges it, a lost socket opens the reconnect window, and a new socket starts with
 * the replay. The connection decides when; this keeps the state that spans sockets.
 */
export class ResumableSession {
  private windowTimer: NodeJS.Timeout | undefined;
  /** The server closed the socket itself for the client to resume on a new one. */
  private droppedSocket = false;

  constructor(
    private readonly buffer: StatefulReconnectBuffer,
    private readonly wire: ConnectionSocket,
    private readonly options: ResolvedHubOptions,
    /** Kept when the client opted in to groups tokens, so that it may resume on another node. */
    readonly membership: MembershipRecord | undefined,
  ) {}

  get unacknowledgedBytes(): number {
    return this.buffer.bufferedBytes;
  }

  /** Keeps a numbered message for replay; false once more is kept than the outbound limit allows. */
  keep(payload: Payload, type: MessageType): boolean {
    if (!isSequenced(type)) return true;
    this.buffer.recordSent(payload);
    return this.buffer.bufferedBytes <= this.options.maximumBufferedBytesPerClient;
  }

  /**
   * The socket closed. One that dropped (1006: no close frame), or that the server closed for the
   * client to resume, opens the reconnect window, at whose end `expired` runs; one the client
   * closed on purpose, with a close frame, does not: false, the connection ends.
   */
  openWindow(code: number, expired: () => void): boolean {
    if (code !== ABNORMAL_CLOSURE && !this.droppedSocket) return false;
    this.windowTimer = setTimeout(expired, this.options.reconnectWindowMs);
    this.windowTimer.unref();
    return true;
  }

  /** A new socket replaces the old one: the window closes, and it is to receive the replay. */
  resume(socket: FrameChannel): { sequenceId: number; payloads: Payload[] } {
    clearTimeout(this.windowTimer);
    // What was still queued for the old socket is in the replay (or was unnumbered, so lost with it).
    this.wire.replace(socket);
    this.droppedSocket = false;
    return this.buffer.replay();
  }

  /** Takes in one of the client's messages; see StatefulReconnectBuffer.receive. */
  receive(message: HubMessage): 'dispatch' | 'handled' | 'invalid' {
    const verdict = this.buffer.receive(message);
    // An Ack may be what producers waiting on the replay limit need.
    if (message.type === MessageType.Ack) this.wire.checkProducers();
    return verdict;
  }

  /** The Ack to send now, if the client's messages arrived since the last one. */
  pendingAck(): number | undefined {
    return this.buffer.pendingAck();
  }

  /** Whether a client over the replay limit has acknowledged nothing for the client timeout. */
  ackOverdue(now: number): boolean {
    return this.buffer.ackOverdue(now, this.options.statefulReconnectBufferSize, this.options.clientTimeoutIntervalMs);
  }

  /**
   * The socket goes and the connection stays for the reconnect window: a client whose Acks stopped
   * arriving gets a fresh socket and the replay of what it did not acknowledge.
   */
  dropSocket(): void {
    this.droppedSocket = true;
    this.wire.close(GOING_AWAY);
  }

  end(): void {
    clearTimeout(this.windowTimer);
  }
}
