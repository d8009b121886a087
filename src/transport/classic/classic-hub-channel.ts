import { EventEmitter } from 'node:events';
import { CHANNEL_CLOSED, CHANNEL_OPEN, type FrameChannel } from '../../connection/frame-channel.js';
import type { Payload } from '../../connection/outgoing-batch.js';
import type { ClassicCalls } from '../../connection/connection-features.js';
import { classicErrors } from '../../errors/classic-errors.js';
import { HubException } from '../../errors/hub-exception.js';
import { invocationErrors } from '../../errors/invocation-errors.js';
import { MessageType } from '../../protocol/hub-message.js';
import { writeClientInvocation, writeHubResult, type ClassicHubInvocation } from '../../protocol/classic/classic-messages.js';
import { RECORD_SEPARATOR, toRecord } from '../../protocol/text-message-format.js';
import { ABNORMAL_CLOSURE } from '../http-channel.js';
import { ClassicCallState } from './classic-call-state.js';

/** The hub connection speaks the `json` hub protocol: the classic connection asks for it on `/start`. */
const JSON_HANDSHAKE = Buffer.from(toRecord('{"protocol":"json","version":1}'));

/** Where a hub's messages for the client go: the classic connection, which numbers and delivers them. */
export interface ClassicOutbox {
  /** A message for the `M` array of a persistent response, serialized. */
  deliver(message: string): void;
  /** Bytes held for the client and not yet handed to its socket, stream or poll. */
  readonly undeliveredBytes: number;
  /** The hub connection ended from the server side (an error, credential expiry, a slow client). */
  hubEnded(channel: ClassicHubChannel): void;
}

/** What the hub connection writes, as the `json` protocol writes it (our own output, so trusted). */
interface WrittenMessage {
  readonly type?: MessageType;
  readonly invocationId?: string;
  readonly target?: string;
  readonly arguments?: readonly unknown[];
  readonly result?: unknown;
  readonly error?: string;
}

/**
 * One hub of a classic connection, presented to the hub's connections as a `FrameChannel`: the
 * hub connection above it (handshake, dispatcher, guards, pipes, filters, lifetime manager) is the
 * one every modern client gets. Classic invocations go in as `json` protocol records, and what
 * the hub connection writes comes out as classic messages: client calls `{H,M,A}`, results
 * `{I,R}` and errors `{I,E,H,D}`, a HubException's message unwrapped as classic SignalR showed it,
 * with its data; each with the caller's hub state that changed (`S`). A call that expects a
 * result from the client is answered at once with an error: the classic client cannot return one.
 */
export class ClassicHubChannel extends EventEmitter implements FrameChannel, ClassicCalls {
  readyState = CHANNEL_OPEN;
  private handshakeAnswered = false;
  private paused = false;
  private readonly readers: (() => void)[] = [];
  /** The method each pending invocation named, as the client wrote it: the error texts name it so. */
  private readonly targets = new Map<string, string>();
  private readonly states = new Map<string, ClassicCallState>();
  /** A HubException's data, by invocation, from its throw until its Completion. */
  private readonly errorData = new Map<string, unknown>();
  private started: ((started: boolean) => void) | undefined;

  constructor(
    /** The hub's classic name, as client calls carry it in `H`. */
    readonly hubName: string,
    /** Whether the hub takes hub state: when it does not, its methods see none. */
    readonly acceptsState: boolean,
    private readonly outbox: ClassicOutbox,
  ) {
    super();
  }

  get bufferedAmount(): number {
    return this.outbox.undeliveredBytes;
  }

  /** Runs the hub's onConnected (delayed start); resolves true once it returned, false if the connection ended first. */
  start(): Promise<boolean> {
    if (this.readyState !== CHANNEL_OPEN) return Promise.resolve(false);
    const started = new Promise<boolean>((resolve) => (this.started = resolve));
    this.emit('message', JSON_HANDSHAKE);
    return started;
  }

  /** Hands an invocation to the hub connection once it reads; false if the connection ended first. */
  async invoke(invocation: ClassicHubInvocation): Promise<boolean> {
    if (!(await this.reading())) return false;
    const { invocationId, method: target } = invocation;
    this.targets.set(invocationId, target);
    if (this.acceptsState) this.states.set(invocationId, new ClassicCallState(invocation.state));
    this.emit('message', Buffer.from(toRecord(JSON.stringify({ type: MessageType.Invocation, invocationId, target, arguments: invocation.arguments }))));
    return true;
  }

  stateOf(invocationId: string): Record<string, unknown> | undefined {
    return this.states.get(invocationId)?.current;
  }

  failed(invocationId: string, error: unknown): void {
    if (!(error instanceof HubException) || error.data === undefined || !this.targets.has(invocationId)) return;
    try {
      JSON.stringify(error.data);
    } catch {
      // Data that is not JSON is left out: the caller still gets the message.
      return;
    }
    this.errorData.set(invocationId, error.data);
  }

  /** Resolves once the hub connection reads; false if the connection ended first. */
  private async reading(): Promise<boolean> {
    while (this.paused && this.readyState === CHANNEL_OPEN) await new Promise<void>((resolve) => this.readers.push(resolve));
    return this.readyState === CHANNEL_OPEN;
  }

  /** The server asked the client for a result: the hub connection hears at once that none comes. */
  private async refuseResult(invocationId: string): Promise<void> {
    if (!(await this.reading())) return;
    const record = { type: MessageType.Completion, invocationId, error: classicErrors.noClientResults };
    this.emit('message', Buffer.from(toRecord(JSON.stringify(record))));
  }

  send(data: Payload, _options: { binary: boolean }, written?: (error?: Error) => void): void {
    const text = typeof data === 'string' ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('utf8');
    for (const record of text.split(RECORD_SEPARATOR)) {
      if (record !== '') this.translate(JSON.parse(record) as WrittenMessage);
    }
    written?.();
  }

  pause(): void {
    this.paused = true;
  }

  /** The first resume after the handshake is the hub connection's start: onConnected returned. */
  resume(): void {
    this.paused = false;
    if (this.handshakeAnswered) this.settleStart(true);
    for (const wake of this.readers.splice(0)) wake();
  }

  /** The hub connection closes: the classic connection ends with it. */
  close(): void {
    this.end(1000, true);
  }

  terminate(): void {
    this.end(ABNORMAL_CLOSURE, true);
  }

  /** The classic connection ended (abort, disconnect timeout): the hub connection ends too. */
  disconnect(code: number): void {
    this.end(code, false);
  }

  private end(code: number, fromHub: boolean): void {
    if (this.readyState === CHANNEL_CLOSED) return;
    this.readyState = CHANNEL_CLOSED;
    this.settleStart(false);
    this.states.clear();
    this.errorData.clear();
    for (const wake of this.readers.splice(0)) wake();
    this.emit('close', code);
    if (fromHub) this.outbox.hubEnded(this);
  }

  private settleStart(started: boolean): void {
    const settle = this.started;
    this.started = undefined;
    settle?.(started);
  }

  private translate(message: WrittenMessage): void {
    // The first record is the handshake's answer: `{}`, or an error the close that follows reports.
    if (!this.handshakeAnswered) {
      this.handshakeAnswered = true;
      return;
    }
    switch (message.type) {
      case MessageType.Invocation:
        if (message.invocationId !== undefined) return void this.refuseResult(message.invocationId);
        return this.outbox.deliver(writeClientInvocation(this.hubName, message.target!, message.arguments ?? []));
      case MessageType.Completion:
        return this.complete(message);
      default:
        // Pings are not asked for (the classic connection keeps itself alive); stream items have no classic form.
        return;
    }
  }

  private complete({ invocationId, result, error }: WrittenMessage): void {
    const id = invocationId!;
    const target = this.targets.get(id) ?? '';
    const state = this.states.get(id);
    const errorData = this.errorData.get(id);
    this.targets.delete(id);
    this.states.delete(id);
    this.errorData.delete(id);
    // State the client could not send back (its next call would be refused) is refused now instead.
    const stateProblem = state?.problem;
    if (stateProblem !== undefined) return this.outbox.deliver(writeHubResult({ invocationId: id, error: stateProblem, hubException: false }));
    const stateChanges = state?.changes();
    if (error === undefined) return this.outbox.deliver(writeHubResult({ invocationId: id, result, stateChanges }));
    // A HubException's message is the caller's to see: classic SignalR showed it alone, flagged `H`, with its data.
    const hubExceptionPrefix = invocationErrors.hubException(target, '');
    const hubException = error.startsWith(hubExceptionPrefix);
    const text = hubException ? error.slice(hubExceptionPrefix.length) : error;
    this.outbox.deliver(writeHubResult({ invocationId: id, error: text, hubException, errorData: hubException ? errorData : undefined, stateChanges }));
  }
}
