import { Logger } from '@nestjs/common';
import type { ConnectionMeter } from '../telemetry/meters.js';
import { CHANNEL_CLOSED, CHANNEL_OPEN, type FrameChannel } from './frame-channel.js';
import { OutboundFlow, type OutboundBacklog } from './outbound-flow.js';
import { OutgoingBatch, type FrameSink, type Payload } from './outgoing-batch.js';

const TEXT_FRAME = { binary: false } as const;
const BINARY_FRAME = { binary: true } as const;

const logger = new Logger('SignalR:Connection');

/** What the connection hears from its socket: the connection itself, so that none holds closures for it. */
export interface SocketEvents {
  onFrame(data: Buffer): void;
  onSocketClosed(code: number): void;
  /** The client left more than the limit unread. */
  closeAsSlowConsumer(): void;
  /** Bytes a stateful-reconnect client has not acknowledged; 0 for other connections. */
  unacknowledgedBytes(): number;
}

function logSocketError(error: Error): void {
  logger.debug(`Socket error: ${error.message}`);
}

/**
 * The socket side of one connection, which outlives any one socket (stateful reconnect swaps
 * them): batched writes, the outbound limit checked once per frame, backpressure for producers,
 * and reading paused for as many reasons as hold it.
 */
export class ConnectionSocket implements OutboundBacklog, FrameSink {
  private socket: FrameChannel;
  private outgoing: OutgoingBatch | undefined;
  private readingHolds = 0;
  /** Closing: what is flushed now (the Close message) goes out whatever the limit says. */
  private closing = false;
  /** Made when a producer first asks: most connections never stream or wait. */
  private flow: OutboundFlow | undefined;

  /** `meter`, while metrics are on, counts what passes; without it a frame costs one look at it when sent, none when received. */
  constructor(
    socket: FrameChannel,
    private readonly limitBytes: number,
    private readonly replayLimit: number,
    private readonly events: SocketEvents,
    private readonly meter?: ConnectionMeter,
  ) {
    this.socket = socket;
    this.onFrame = meter ? (data) => (meter.received(data.length), events.onFrame(data)) : (data) => events.onFrame(data);
    this.listen(socket);
  }

  /** For the connection's producers: undefined if they may go on now, else when they may. */
  whenWritable(): Promise<void> | undefined {
    return (this.flow ??= new OutboundFlow(this, this.replayLimit)).whenWritable();
  }

  /** Bytes left the package, or the client acknowledged some: waiting producers may go on. */
  checkProducers(): void {
    this.flow?.check();
  }

  /** The connection is gone: whoever waits goes on, and finds it closed. */
  releaseProducers(): void {
    this.flow?.release();
  }

  /** The protocol is known: from here everything goes out in batches of its frame type. */
  startBatching(binary: boolean): void {
    this.outgoing = new OutgoingBatch(binary, this);
  }

  sendBatch(frame: Payload, binary: boolean, messages: number): void {
    if (this.sendFrame(frame, binary)) this.meter?.sent(frame, messages);
  }

  /** Queued for the end of the turn; dropped unless the socket is open. */
  write(payload: Payload): boolean {
    if (this.socket.readyState !== CHANNEL_OPEN) return false;
    this.outgoing!.add(payload);
    return true;
  }

  /** Sent at once, ahead of the batches (the handshake answer). */
  sendNow(data: string, binary: boolean): void {
    if (this.socket.readyState === CHANNEL_OPEN) this.socket.send(data, { binary });
  }

  unacknowledgedBytes(): number {
    return this.events.unacknowledgedBytes();
  }

  unwrittenBytes(): number {
    const queued = this.outgoing?.queuedBytes ?? 0;
    return this.socket.readyState === CHANNEL_OPEN ? queued + this.socket.bufferedAmount : queued;
  }

  /**
   * A new socket takes over (stateful reconnect). What was queued for the old one is dropped:
   * the replay holds what counts.
   */
  replace(socket: FrameChannel): void {
    const previous = this.socket;
    previous.removeAllListeners();
    previous.on('error', () => undefined);
    if (previous.readyState !== CHANNEL_CLOSED) previous.terminate();
    this.socket = socket;
    this.closing = false;
    this.listen(socket);
    if (this.readingHolds > 0) socket.pause();
    this.outgoing?.discard();
  }

  /** Several reasons may hold reading at once (setup, a full upload, a backlog): each lets go of its own. */
  pauseReading(): void {
    if (this.readingHolds++ === 0) this.socket.pause();
  }

  resumeReading(): void {
    if (--this.readingHolds === 0) this.socket.resume();
  }

  /** Flushes what is queued, then closes with `code`; past this nothing counts against the limit. */
  close(code: number): void {
    this.closing = true;
    this.outgoing?.flush();
    // The close handshake needs the client's close frame read, whatever paused the socket.
    this.socket.resume();
    this.socket.close(code);
  }

  terminate(): void {
    this.outgoing?.flush();
    this.socket.terminate();
  }

  /** Ends the socket without sending what is queued: it was meant for a client now elsewhere. */
  abandon(): void {
    this.outgoing?.discard();
    this.socket.terminate();
  }

  /** The one closure a socket's frames need; with metrics on, it also counts them. */
  private readonly onFrame: (data: Buffer) => void;

  private listen(socket: FrameChannel): void {
    socket.on('message', this.onFrame);
    socket.on('close', (code: number) => this.events.onSocketClosed(code));
    socket.on('error', logSocketError);
  }

  /** Batches go out here; the outbound limit is checked once per frame, not per message. Returns whether it went. */
  private sendFrame(frame: Payload, binary: boolean): boolean {
    if (this.socket.readyState !== CHANNEL_OPEN) return false;
    if (!this.closing && this.socket.bufferedAmount + frame.length > this.limitBytes) {
      this.events.closeAsSlowConsumer();
      return false;
    }
    this.socket.send(frame, binary ? BINARY_FRAME : TEXT_FRAME, this.flow?.hasWaiters ? (this.frameWritten ??= () => this.checkProducers()) : undefined);
    return true;
  }

  /**
   * While producers wait, each frame the socket hands to the kernel may be the one that lets them
   * go on. Made the first time producers wait: most connections never make them.
   */
  private frameWritten: (() => void) | undefined;
}
