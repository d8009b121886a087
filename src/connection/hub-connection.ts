import { Logger } from '@nestjs/common';
import { ClientResultTracker } from '../hub/client-result-tracker.js';
import type { GroupManager, HubCallerClients } from '../lifetime/client-proxy.js';
import type { HubConnectionHandle } from '../lifetime/hub-connection-handle.js';
import { SerializedHubMessage } from '../protocol/serialized-hub-message.js';
import { closeErrors } from '../errors/invocation-errors.js';
import type { HubCallerContext } from '../hub/hub-caller-context.js';
import type { ConnectionRequest } from '../hub/connection-request.js';
import type { HubConnectionContext } from '../hub/hub-connection-context.js';
import type { ConnectionDispatcher } from '../hub/connection-dispatcher.js';
import { MessageType, type HubMessage } from '../protocol/hub-message.js';
import type { HubProtocol } from '../protocol/hub-protocol.js';
import { ProtocolError } from '../protocol/protocol-error.js';
import type { ClassicCalls, ConnectionFeatures, ConnectionIdentity } from './connection-features.js';
import type { HubRuntime } from './hub-runtime.js';
import { HubRegistration } from './hub-registration.js';
import { GROUPS_TOKEN_METHOD, MembershipRecord } from './membership-record.js';
import { CredentialExpiry } from './credential-expiry.js';
import { ConnectionSocket, type SocketEvents } from './connection-socket.js';
import { ConnectionStartup } from './connection-startup.js';
import { CLIENT_GONE_SILENT, type FrameChannel } from './frame-channel.js';
import type { ConnectionMeter } from '../telemetry/meters.js';
import { Liveness, LivenessVerdict } from './liveness.js';
import type { Payload } from './outgoing-batch.js';
import { GOING_AWAY, ResumableSession } from './resumable-session.js';
import { StatefulReconnectBuffer } from './stateful-reconnect-buffer.js';

const PING = new SerializedHubMessage({ type: MessageType.Ping });

const enum State {
  /** The handshake and onConnected: see ConnectionStartup. */
  Starting,
  Connected,
  /** Stateful reconnect: the socket dropped and the client may come back within the window. */
  Disconnected,
  Closed,
}

/**
 * One client connection: handshake, reading and writing frames, liveness, orderly close.
 * The socket stays in here; the dispatcher and the lifetime manager see narrower views.
 */
export class HubConnection implements HubConnectionHandle, HubConnectionContext, HubCallerContext, SocketEvents {
  private static readonly logger = new Logger('SignalR:Connection');
  private itemsOfConnection: Map<unknown, unknown> | undefined;
  // Both made when first used: an idle connection never needs them.
  private clientResultsOf: ClientResultTracker | undefined;
  private clientsOf: HubCallerClients | undefined;
  readonly groups: GroupManager;
  private state = State.Starting;
  private readonly registration: HubRegistration;
  /** Until onConnected returned; then let go, as nothing of it is needed again. */
  private startup: ConnectionStartup | undefined;
  private protocol: HubProtocol | undefined;
  private dispatcher: ConnectionDispatcher | undefined;
  private readonly liveness: Liveness;
  /** Where the hub's keep-alive wheel keeps it; -1 while in none. */
  wheelSlot = -1;

  /** Replaced on every stateful reconnect and authentication refresh by the user it authenticated: roles change. */
  private identity: ConnectionIdentity;
  /** Made for the first credential that expires: anonymous connections never need one. */
  private credentialExpiry: CredentialExpiry | undefined;

  /** The socket side, which outlives any one socket: writes, the outbound limit, backpressure. */
  private readonly wire: ConnectionSocket;
  /** Set when the handshake asked for stateful reconnect and the server allows it. */
  private session: ResumableSession | undefined;
  /** The connection is ending: nothing more is recorded for replay. */
  private closing = false;
  private handedOff = false;
  private endedByTimeout = false;

  constructor(
    socket: FrameChannel,
    readonly connectionId: string,
    identity: ConnectionIdentity,
    private readonly runtime: HubRuntime,
    private readonly features: ConnectionFeatures = { groupsTokens: false },
    private readonly meter?: ConnectionMeter,
  ) {
    const { options } = runtime;
    this.liveness = new Liveness(runtime.clock);
    this.identity = identity;
    this.armCredentialExpiry(identity.expiresAt);
    this.groups = runtime.groups;
    this.registration = new HubRegistration(runtime, this);
    this.wire = new ConnectionSocket(socket, options.maximumBufferedBytesPerClient, options.statefulReconnectBufferSize, this, meter);
    const startup = new ConnectionStartup(runtime, connectionId, this.wire, this.registration, {
      agreed: (protocol, replay) => this.agreed(protocol, replay, 0),
      started: (heldFrames) => this.started(heldFrames),
      failed: () => this.closeWithError(closeErrors.generic),
      refused: () => void this.teardown(),
    }, features);
    this.startup = startup;
    const { takeover } = features;
    if (!takeover) return;
    this.agreed(takeover.protocol, StatefulReconnectBuffer.afterTakeover(takeover.receivedByClient), takeover.membershipVersion);
    // The client drops everything until a Sequence tells it where numbering resumes.
    this.writePayload(takeover.protocol.writeMessage({ type: MessageType.Sequence, sequenceId: takeover.receivedByClient + 1 }));
    startup.skipHandshake();
  }

  /** Made when the hub first asks: most connections never keep anything there. */
  get items(): Map<unknown, unknown> {
    return (this.itemsOfConnection ??= new Map());
  }

  get classicCalls(): ClassicCalls | undefined {
    return this.features.classicCalls;
  }

  get clientResults(): ClientResultTracker {
    return (this.clientResultsOf ??= new ClientResultTracker(this.runtime.options.clientResultTimeoutMs));
  }

  get clients(): HubCallerClients {
    return (this.clientsOf ??= this.runtime.callerClients(this.connectionId));
  }

  private armCredentialExpiry(expiresAt: number | undefined): void {
    if (expiresAt === undefined) return this.credentialExpiry?.clear();
    this.credentialExpiry ??= new CredentialExpiry(() => {
      HubConnection.logger.debug('Credential expired; closing the connection.');
      this.close({ type: MessageType.Close, allowReconnect: true });
    });
    this.credentialExpiry.arm(expiresAt);
  }

  /** When the credential the connection holds expires and closes it (epoch milliseconds), if it does. */
  get credentialExpiresAt(): number | undefined {
    return this.identity.expiresAt;
  }

  /**
   * An authentication refresh gave the same user a newer credential: its roles count from the
   * next invocation (one running keeps the user it started with), its expiry from now.
   */
  refreshCredential(user: unknown, expiresAt: number | undefined): void {
    if (this.state === State.Closed) return;
    this.identity = { ...this.identity, user, expiresAt };
    this.armCredentialExpiry(expiresAt);
  }

  /** Whether the client was sent groups tokens, so that it may resume on another node. */
  get resumableElsewhere(): boolean {
    return this.session?.membership !== undefined;
  }

  /** Whether a new socket may take this connection over (stateful reconnect). */
  get isResumable(): boolean {
    return this.session !== undefined && (this.state === State.Connected || this.state === State.Disconnected);
  }

  /**
   * A reconnecting client's new socket replaces the old one. No handshake: the server announces
   * the first message the client has not acknowledged and sends everything from there again.
   */
  resume(socket: FrameChannel, identity: ConnectionIdentity): void {
    // The reconnecting request authenticated anew (the same user, its token checked that): its
    // user object, roles included, and its credential's expiry are the ones that count from now.
    this.identity = identity;
    this.armCredentialExpiry(identity.expiresAt);
    const { sequenceId, payloads } = this.session!.resume(socket);
    this.state = State.Connected;
    this.liveness.received();
    this.writePayload(this.protocol!.writeMessage({ type: MessageType.Sequence, sequenceId }));
    for (const payload of payloads) this.writePayload(payload);
  }

  /** Whether it ended for its client's silence, or for not coming back within the reconnect window. */
  get timedOut(): boolean {
    return this.endedByTimeout;
  }

  /** A connected session may wait for its client to come back on a new socket. */
  onSocketClosed(code: number): void {
    if (code === CLIENT_GONE_SILENT) this.endedByTimeout = true;
    const waiting =
      this.state === State.Connected &&
      this.session?.openWindow(code, () => {
        this.endedByTimeout = true;
        void this.teardown();
      });
    if (waiting) this.state = State.Disconnected;
    else void this.teardown();
  }

  get user(): unknown {
    return this.identity.user;
  }

  get userIdentifier(): string | undefined {
    return this.identity.userIdentifier;
  }

  get request(): ConnectionRequest {
    return this.identity.request;
  }

  get maximumGroups(): number {
    return this.runtime.options.maximumGroupsPerConnection;
  }

  /** The hub protocol agreed in the handshake; undefined before it. */
  get protocolName(): string | undefined {
    return this.protocol?.name;
  }

  get hubPath(): string {
    return this.runtime.path;
  }

  get caller(): HubCallerContext {
    return this;
  }

  /** Writes a message serialized for this connection's protocol; dropped unless the socket is open. */
  send(message: HubMessage): void {
    if (this.protocol) this.writeMessagePayload(this.protocol.writeMessage(message), message.type);
  }

  write(message: SerializedHubMessage): void {
    if (this.protocol) this.writeMessagePayload(message.payloadFor(this.protocol), message.message.type);
  }

  /** Numbered messages of a stateful connection are kept for replay, even while its socket is gone. */
  private writeMessagePayload(payload: string | Uint8Array, type: MessageType): void {
    const recording = this.session && this.state !== State.Closed && !this.closing;
    if (recording && !this.session!.keep(payload, type)) return this.closeAsSlowConsumer();
    this.writePayload(payload);
  }

  unwrittenBytes(): number {
    return this.wire.unwrittenBytes();
  }

  unacknowledgedBytes(): number {
    return this.session?.unacknowledgedBytes ?? 0;
  }

  /** For the producers of this connection: undefined if they may go on now, else when they may. */
  whenWritable(): Promise<void> | undefined {
    return this.wire.whenWritable();
  }

  /**
   * Nothing more is queued for a client that holds the limit's worth of unread bytes: a broadcast
   * to it would only grow memory. It is told why, and may reconnect once it can keep up.
   */
  closeAsSlowConsumer(): void {
    if (this.closing) return;
    this.meter?.closedAsSlowConsumer();
    HubConnection.logger.warn(
      `Connection ${this.connectionId} did not read ${this.runtime.options.maximumBufferedBytesPerClient} bytes sent to it; closing it as a slow consumer.`,
    );
    this.close({ type: MessageType.Close, error: closeErrors.slowConsumer, allowReconnect: true });
  }

  invokeClient(method: string, args: readonly unknown[]): Promise<unknown> {
    const { invocationId, result } = this.clientResults.begin(method);
    this.send({ type: MessageType.Invocation, invocationId, target: method, arguments: args });
    return result;
  }

  closeWithError(error: string): void {
    this.close({ type: MessageType.Close, error, allowReconnect: true });
  }

  /** Ends the connection from the server side, telling the client whether it may come back. */
  close(message: HubMessage = { type: MessageType.Close }): void {
    if (this.state === State.Closed) return;
    this.closing = true;
    this.send(message);
    this.wire.close(1000);
    void this.teardown();
  }

  /**
   * This node shuts down: a client able to resume elsewhere loses only its socket, and the
   * connection is not recorded as ended, so that another node can take it over. Others are closed.
   */
  handOff(): void {
    if (!this.resumableElsewhere || !this.isResumable) return this.close({ type: MessageType.Close, allowReconnect: true });
    this.handedOff = true;
    this.closing = true;
    // Acknowledging what this node handled keeps the client from replaying it to the next node.
    this.acknowledgeReceived();
    // A close frame, not a Close message: the client reconnects its transport rather than stopping.
    this.wire.close(GOING_AWAY);
    void this.teardown();
  }

  /**
   * Its client resumed on another node, which takes the connection over: the socket here goes at
   * once, and the end is not recorded (the connection lives on there).
   */
  yieldToAnotherNode(): void {
    if (this.state === State.Closed) return;
    HubConnection.logger.debug(`Connection ${this.connectionId} resumed on another node; its socket here is closed.`);
    this.handedOff = true;
    this.closing = true;
    this.wire.abandon();
    void this.teardown();
  }

  abort(): void {
    this.wire.terminate();
    void this.teardown();
  }

  pauseReading(): void {
    this.wire.pauseReading();
  }

  resumeReading(): void {
    this.wire.resumeReading();
  }

  invocationBacklogFull(): void {
    // Not reading would also hold back the Ack that the waiting invocations need to go on.
    if (this.unacknowledgedBytes() > this.runtime.options.statefulReconnectBufferSize) {
      HubConnection.logger.warn(`Connection ${this.connectionId} piled up invocations while not acknowledging; closing it.`);
      return this.closeWithError(closeErrors.generic);
    }
    this.pauseReading();
  }

  invocationBacklogEased(): void {
    if (this.state !== State.Closed) this.resumeReading();
  }

  /**
   * Called by the keep-alive wheel when this connection is due a look: pings it if idle, drops it
   * if silent, and answers when it is next due (undefined: never again). The handshake and
   * onConnected have their own deadline, and a dropped socket its reconnect window, so until
   * connected it is only looked at again next tick; a client whose onConnected is slow is still
   * pinged, so that it does not give up on the server. Over a transport with an inherent
   * keep-alive (long polling) neither side pings. A stateful connection is looked at every tick
   * for its acknowledgements and its groups token.
   */
  tick(now: number): number | undefined {
    if (this.state === State.Closed || this.features.inherentKeepAlive) return undefined;
    if (this.state !== State.Connected && !this.startup?.connecting) return now;
    const { clientTimeoutIntervalMs, keepAliveIntervalMs } = this.runtime.options;
    // While onConnected runs the client is not read, so its silence does not count.
    const connected = this.state === State.Connected;
    if (connected) {
      this.session?.membership?.tick(now);
      this.acknowledgeReceived();
    }
    const verdict = this.liveness.verdict(now, keepAliveIntervalMs, clientTimeoutIntervalMs, connected);
    if (verdict === LivenessVerdict.Silent) {
      HubConnection.logger.debug(`Client sent nothing for ${clientTimeoutIntervalMs} ms; closing.`);
      this.endedByTimeout = true;
      this.closeWithError(closeErrors.generic);
      return undefined;
    }
    // A stateful client over its replay limit must acknowledge something within the client timeout.
    if (connected && this.session?.ackOverdue(now)) {
      HubConnection.logger.warn(`Connection ${this.connectionId} acknowledged nothing while over its replay limit; closing its socket for it to resume.`);
      this.session.dropSocket();
      return now;
    }
    if (verdict === LivenessVerdict.PingDue) this.write(PING);
    return this.session ? now : this.liveness.nextDue(keepAliveIntervalMs, clientTimeoutIntervalMs, connected);
  }

  /** Tells a stateful-reconnect client which of its messages arrived since the last Ack, if any. */
  private acknowledgeReceived(): void {
    const ack = this.session?.pendingAck();
    if (ack !== undefined) this.send({ type: MessageType.Ack, sequenceId: ack });
  }

  private writePayload(payload: Payload): void {
    if (this.wire.write(payload)) this.liveness.sent();
  }

  onFrame(frame: Buffer): void {
    this.liveness.received();
    if (this.state === State.Starting) this.startup?.receive(frame);
    else if (this.state === State.Connected) this.onMessageFrame(frame);
  }

  /** The protocol is known (handshake or takeover): everything from here goes out in batches. */
  private agreed(protocol: HubProtocol, replay: StatefulReconnectBuffer | undefined, membershipVersion: number): void {
    this.protocol = protocol;
    this.wire.startBatching(protocol.transferFormat === 'Binary');
    // What the client sends before the hub is ready waits in its socket, not in this process.
    this.wire.pauseReading();
    if (!replay) return;
    const refreshAfterMs = this.runtime.groupsTokenLifetimeMs / 2;
    const membership = this.features.groupsTokens
      ? new MembershipRecord(membershipVersion, (groups, version) => this.sendGroupsToken(groups, version), refreshAfterMs)
      : undefined;
    this.session = new ResumableSession(replay, this.wire, this.runtime.options, membership);
  }

  /** Lifetime managers report the changes they make, whoever asked for them. */
  membershipChanged(groupName: string, member: boolean): void {
    this.session?.membership?.changed(groupName, member);
    this.features.membershipObserver?.(groupName, member);
  }

  private sendGroupsToken(groups: readonly string[], version: number): void {
    if (this.state !== State.Connected && this.state !== State.Disconnected) return;
    const token = this.runtime.issueGroupsToken(this, groups, version);
    if (token !== undefined) this.send({ type: MessageType.Invocation, target: GROUPS_TOKEN_METHOD, arguments: [token] });
  }

  private started(heldFrames: Buffer[]): void {
    this.startup = undefined;
    this.dispatcher = this.runtime.dispatcher.attach(this, this.meter);
    this.state = State.Connected;
    // The socket was not read while onConnected ran: the client's silence starts counting now.
    this.liveness.received();
    this.wire.resumeReading();
    this.session?.membership?.scheduleIssue();
    for (const frame of heldFrames) this.onMessageFrame(frame);
  }

  private onMessageFrame(frame: Buffer): void {
    if (this.state !== State.Connected) return;
    // The socket's cap bounds the frame; the protocol checks each message in it against the limit.
    let messages: HubMessage[];
    try {
      messages = this.protocol!.parseMessages(frame);
    } catch (error) {
      if (!(error instanceof ProtocolError)) throw error;
      HubConnection.logger.debug(`Unreadable frame: ${error.message}`);
      return this.closeWithError(closeErrors.generic);
    }
    for (const message of messages) {
      if (message.type === MessageType.Close) return this.close();
      const verdict = this.session?.receive(message) ?? 'dispatch';
      if (verdict === 'invalid') return this.closeWithError(closeErrors.generic);
      if (verdict === 'handled') continue;
      this.dispatcher!.dispatch(message);
      if (this.state !== State.Connected) return;
    }
  }

  private async teardown(): Promise<void> {
    if (this.state === State.Closed) return;
    this.state = State.Closed;
    this.startup?.end();
    this.credentialExpiry?.clear();
    this.session?.end();
    this.runtime.forget(this, !this.handedOff);
    this.dispatcher?.dispose();
    this.wire.releaseProducers();
    this.clientResultsOf?.cancelAll();
    await this.registration.leave();
  }
}
