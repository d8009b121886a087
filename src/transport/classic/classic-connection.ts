import { Logger } from '@nestjs/common';
import type { ResolvedClassicEndpointOptions } from '../../options/classic-endpoint-options.js';
import { classicErrors } from '../../errors/classic-errors.js';
import { writeHubResult, writePersistentResponse } from '../../protocol/classic/classic-messages.js';
import { ABNORMAL_CLOSURE, NORMAL_CLOSURE } from '../http-channel.js';
import { ClassicHubChannel, type ClassicOutbox } from './classic-hub-channel.js';
import type { ClassicMembership } from './classic-membership.js';
import type { ClassicReceiver } from './classic-receivers.js';

const logger = new Logger('SignalR:Classic');

/** One message for the client, numbered: its number is the cursor (`C`) the client echoes back. */
interface Entry {
  readonly number: number;
  readonly json: string;
}

/**
 * One classic connection: its hubs (a hub connection each, over a `ClassicHubChannel`), the
 * messages kept for it under a cursor, and the request that currently reaches its client. A newer
 * receive request replaces the older one, as in classic SignalR; a client that reconnects or
 * polls names the last cursor it saw and gets what followed, while it is still kept. Without a
 * receive request for the disconnect timeout, the connection ends.
 */
export class ClassicConnection implements ClassicOutbox {
  readonly hubs = new Map<string, ClassicHubChannel>();
  private readonly kept: Entry[] = [];
  private lastNumber = 0;
  /** The last number handed to a receiver. */
  private delivered = 0;
  private undelivered = 0;
  private receiver: ClassicReceiver | undefined;
  private flushQueued = false;
  /** Heartbeats since the client was last written to: a keep-alive goes at two. */
  private quietBeats = 0;
  private disconnectTimer: NodeJS.Timeout | undefined;
  private pollTimer: NodeJS.Timeout | undefined;
  private readonly keepAliveTimer: NodeJS.Timeout;
  private startRun: Promise<boolean> | undefined;
  private ended = false;

  constructor(
    readonly connectionId: string,
    readonly userKey: string | undefined,
    private readonly options: ResolvedClassicEndpointOptions,
    private readonly onEnded: (connection: ClassicConnection) => void,
    private readonly membership: ClassicMembership,
  ) {
    // A heartbeat at half the interval, as classic SignalR's: a client is never silent for more
    // than the interval, half its keep-alive timeout, however its writes fall between beats.
    this.keepAliveTimer = setInterval(() => this.heartbeat(), options.keepAliveMs / 2);
    this.keepAliveTimer.unref();
    this.armDisconnect();
  }

  /** The lower-cased names of its hubs, sorted: what every later request's connectionData must name. */
  get hubNames(): string[] {
    return [...this.hubs.keys()].toSorted();
  }

  get isEnded(): boolean {
    return this.ended;
  }

  /** A hub connection of it joined or left a group: the client is owed a new groups token. */
  membershipChanged(hubKey: string, groupName: string, member: boolean): void {
    if (this.ended) return;
    this.membership.changed(hubKey, groupName, member);
    this.queueFlush();
  }

  addHub(key: string, hubName: string, acceptsState: boolean): ClassicHubChannel {
    const channel = new ClassicHubChannel(hubName, acceptsState, this);
    this.hubs.set(key, channel);
    return channel;
  }

  /**
   * A receive request arrived (connect, reconnect, poll): it replaces the one before. A first
   * request is told the connection is initialized; a later one gets what followed `cursor`.
   */
  attach(receiver: ClassicReceiver, cursor: number | undefined, initialize: boolean): void {
    if (this.ended) return receiver.end();
    this.release();
    this.receiver = receiver;
    receiver.onEnd(() => {
      if (this.receiver !== receiver) return;
      this.detach();
      this.armDisconnect();
    });
    clearTimeout(this.disconnectTimer);
    if (cursor !== undefined && cursor >= 0 && cursor < this.delivered) this.rewind(cursor);
    if (initialize) {
      this.send(writePersistentResponse({ cursor: String(this.delivered), initialized: true, messages: [] }));
      // A stream goes on with what is waiting; a poll was answered, and the next one takes it.
      if (receiver.streaming) this.flush();
      return;
    }
    if (this.lastNumber > this.delivered || this.membership.hasToken) return this.flush();
    if (!receiver.streaming) this.pollTimer = setTimeout(() => this.send(this.emptyResponse()), this.options.connectionTimeoutMs);
  }

  /** Runs the hubs' onConnected once; resolves whether every hub started. */
  start(): Promise<boolean> {
    this.startRun ??= Promise.all([...this.hubs.values()].map((hub) => hub.start())).then((started) => started.every(Boolean));
    return this.startRun;
  }

  deliver(message: string): void {
    if (this.ended) return;
    this.kept.push({ number: ++this.lastNumber, json: message });
    this.undelivered += message.length;
    if (this.kept.length > this.options.messageBufferSize) {
      const dropped = this.kept.shift()!;
      if (dropped.number > this.delivered) this.undelivered -= dropped.json.length;
    }
    this.queueFlush();
  }

  private queueFlush(): void {
    if (this.flushQueued) return;
    // What one turn produced goes out as one persistent response.
    this.flushQueued = true;
    queueMicrotask(() => {
      this.flushQueued = false;
      this.flush();
    });
  }

  /** Answers an invocation no hub connection saw (refused before it) with an error result. */
  answer(invocationId: string, error: string): void {
    this.deliver(writeHubResult({ invocationId, error, hubException: false }));
  }

  get undeliveredBytes(): number {
    return this.undelivered + (this.receiver?.bufferedAmount ?? 0);
  }

  hubEnded(): void {
    this.end(ABNORMAL_CLOSURE);
  }

  /**
   * The node shuts down: the client is told to stop (`E`), as it would otherwise reconnect to a
   * server that is gone, and the connection ends. A long-polling client between two polls is
   * not told; its next poll finds no server.
   */
  shutDown(): void {
    if (this.ended) return;
    this.send(writePersistentResponse({ cursor: String(this.delivered), error: classicErrors.shuttingDown, messages: [] }));
    this.end();
  }

  /** Ends the connection and every hub connection of it: the client aborted, or left for too long. */
  end(code = NORMAL_CLOSURE): void {
    if (this.ended) return;
    clearInterval(this.keepAliveTimer);
    clearTimeout(this.disconnectTimer);
    this.release();
    this.ended = true;
    for (const hub of this.hubs.values()) hub.disconnect(code);
    this.kept.length = 0;
    this.onEnded(this);
  }

  private flush(): void {
    const receiver = this.receiver;
    if (!receiver || (this.lastNumber <= this.delivered && !this.membership.hasToken)) return;
    const messages = this.kept.filter((entry) => entry.number > this.delivered).map((entry) => entry.json);
    this.delivered = this.lastNumber;
    this.undelivered = 0;
    this.send(writePersistentResponse({ cursor: String(this.lastNumber), groupsToken: this.membership.takeToken(), messages }));
  }

  /** Writes to the receiver; a poll is answered and done with. */
  private send(response: string): void {
    const receiver = this.receiver;
    if (!receiver) return;
    this.quietBeats = 0;
    if (receiver.streaming) return receiver.write(response);
    this.detach();
    receiver.write(response);
    this.armDisconnect();
  }

  /** The client asks again for what followed `cursor`: it never got what was handed out after it. */
  private rewind(cursor: number): void {
    this.delivered = cursor;
    this.undelivered = this.kept.reduce((bytes, entry) => (entry.number > cursor ? bytes + entry.json.length : bytes), 0);
  }

  /** Lets go of the current receiver; a poll it held is answered empty, a stream or socket ended. */
  private release(): void {
    const previous = this.detach();
    if (!previous) return;
    if (previous.streaming) previous.end();
    else previous.write(this.emptyResponse());
  }

  private detach(): ClassicReceiver | undefined {
    clearTimeout(this.pollTimer);
    const previous = this.receiver;
    this.receiver = undefined;
    return previous;
  }

  private emptyResponse(): string {
    return writePersistentResponse({ cursor: String(this.delivered), messages: [] });
  }

  private armDisconnect(): void {
    if (this.ended || this.receiver) return;
    clearTimeout(this.disconnectTimer);
    this.disconnectTimer = setTimeout(() => {
      logger.debug(`Classic connection ${this.connectionId} had no receive request for ${this.options.disconnectTimeoutMs} ms; ending it.`);
      this.end(ABNORMAL_CLOSURE);
    }, this.options.disconnectTimeoutMs);
    this.disconnectTimer.unref();
  }

  private heartbeat(): void {
    if (++this.quietBeats < 2) return;
    this.quietBeats = 0;
    this.receiver?.keepAlive();
  }
}
