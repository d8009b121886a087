import { Logger } from '@nestjs/common';
import type { WebSocket } from 'ws';
import { ClientResultTracker } from '../hub/client-result-tracker.js';
import type { GroupManager, HubCallerClients } from '../lifetime/client-proxy.js';
import type { HubConnectionHandle } from '../lifetime/hub-connection-handle.js';
import { SerializedHubMessage } from '../protocol/serialized-hub-message.js';
import { closeErrors } from '../errors/invocation-errors.js';
import type { HubCallerContext } from '../hub/hub-caller-context.js';
import type { ConnectionRequest } from '../hub/connection-request.js';
import type { HubConnectionContext } from '../hub/hub-connection-context.js';
import type { ConnectionDispatcher } from '../hub/connection-dispatcher.js';
import { PRE_CONNECT_BUFFER_BYTES } from '../options/hub-options.js';
import { handshakeError, HANDSHAKE_SUCCESS } from '../protocol/handshake.js';
import { MessageType, type HubMessage } from '../protocol/hub-message.js';
import type { HubProtocol } from '../protocol/hub-protocol.js';
import { ProtocolError } from '../protocol/protocol-error.js';
import type { ConnectionFeatures, ConnectionIdentity } from './connection-features.js';
import type { HubRuntime } from './hub-runtime.js';
import { GROUPS_TOKEN_METHOD, MembershipRecord } from './membership-record.js';
import { CredentialExpiry } from './credential-expiry.js';
import { EarlyFrames } from './early-frames.js';
import { ConnectionSocket } from './connection-socket.js';
import { HandshakeReader } from './handshake-reader.js';
import { Liveness, LivenessVerdict } from './liveness.js';
import type { Payload } from './outgoing-batch.js';
import { isSequenced, StatefulReconnectBuffer } from './stateful-reconnect-buffer.js';

const PING = new SerializedHubMessage({ type: MessageType.Ping });

const enum State {
  Handshaking,
  Connecting,
  Connected,
  /** Stateful reconnect: the socket dropped and the client may come back within the window. */
  Disconnected,
  Closed,
}

/** What ws reports for a socket that ended without a close frame: a network failure, not a goodbye. */
const ABNORMAL_CLOSURE = 1006;

/** Sent to a connection that loses its socket on purpose and may resume on a new one. */
const GOING_AWAY = 1001;

/**
 * One client connection: handshake, reading and writing frames, liveness, orderly close.
 * The socket stays in here; the dispatcher and the lifetime manager see narrower views.
 */
export class HubConnection implements HubConnectionHandle, HubConnectionContext, HubCallerContext {
  private static readonly logger = new Logger('SignalR:Connection');
  readonly items = new Map<unknown, unknown>();
  readonly clientResults: ClientResultTracker;
  readonly clients: HubCallerClients;
  readonly groups: GroupManager;
  private state = State.Handshaking;
  /** The lifetime manager routes to this connection, so it must be told when it ends. */
  private registered = false;
  /** The hub's onConnected succeeded, so it is owed an onDisconnected. */
  private hubConnected = false;
  private protocol: HubProtocol | undefined;
  private dispatcher: ConnectionDispatcher | undefined;
  private readonly handshake: HandshakeReader;
  /** Runs from the upgrade until onConnected returned: the handshake and the hub's setup share it. */
  private readonly connectTimer: NodeJS.Timeout;
  private readonly earlyFrames: EarlyFrames;
  private readonly liveness = new Liveness();

  /** Replaced on every stateful reconnect by the user its request authenticated: roles change. */
  private identity: ConnectionIdentity;
  private readonly credentialExpiry = new CredentialExpiry(() => {
    HubConnection.logger.debug('Credential expired; closing the connection.');
    this.close({ type: MessageType.Close, allowReconnect: true });
  });

  /** The socket side, which outlives any one socket: writes, the outbound limit, backpressure. */
  private readonly wire: ConnectionSocket;
  /** Set when the handshake asked for stateful reconnect and the server allows it. */
  private reconnect: StatefulReconnectBuffer | undefined;
  private reconnectTimer: NodeJS.Timeout | undefined;
  /** The server closed the socket itself for the client to resume on a new one. */
  private droppedForResume = false;
  /** The connection is ending: nothing more is recorded for replay. */
  private closing = false;
  /** Kept for a stateful connection whose client opted in to groups tokens. */
  private membership: MembershipRecord | undefined;
  private handedOff = false;

  constructor(
    socket: WebSocket,
    readonly connectionId: string,
    identity: ConnectionIdentity,
    private readonly runtime: HubRuntime,
    private readonly features: ConnectionFeatures = { groupsTokens: false },
  ) {
    const { options } = runtime;
    this.identity = identity;
    this.credentialExpiry.arm(identity.expiresAt);
    this.earlyFrames = new EarlyFrames(options.maximumQueuedInvocationsPerClient, Math.max(PRE_CONNECT_BUFFER_BYTES, options.maximumReceiveFrameSize));
    this.clientResults = new ClientResultTracker(options.clientResultTimeoutMs);
    this.clients = runtime.callerClients(connectionId);
    this.groups = runtime.groups;
    this.handshake = new HandshakeReader(runtime.protocols, options.maximumReceiveMessageSize);
    this.wire = new ConnectionSocket(socket, options.maximumBufferedBytesPerClient, options.statefulReconnectBufferSize, {
      frame: (data) => this.onFrame(data),
      closed: (code) => this.onSocketClosed(code),
      overLimit: () => this.closeAsSlowConsumer(),
      unacknowledgedBytes: () => this.unacknowledgedBytes(),
    });
    this.connectTimer = setTimeout(() => this.connectTimedOut(), options.handshakeTimeoutMs);
    const { takeover } = features;
    if (!takeover) return;
    this.protocol = takeover.protocol;
    this.reconnect = StatefulReconnectBuffer.afterTakeover(takeover.receivedByClient);
    this.startConnecting(takeover.membershipVersion);
    // The client drops everything until a Sequence tells it where numbering resumes.
    this.writePayload(takeover.protocol.writeMessage({ type: MessageType.Sequence, sequenceId: takeover.receivedByClient + 1 }));
    void this.connect();
  }

  /** Whether the client was sent groups tokens, so that it may resume on another node. */
  get resumableElsewhere(): boolean {
    return this.membership !== undefined;
  }

  /** Whether a new socket may take this connection over (stateful reconnect). */
  get isResumable(): boolean {
    return this.reconnect !== undefined && (this.state === State.Connected || this.state === State.Disconnected);
  }

  /**
   * A reconnecting client's new socket replaces the old one. No handshake: the server announces
   * the first message the client has not acknowledged and sends everything from there again.
   */
  resume(socket: WebSocket, identity: ConnectionIdentity): void {
    // The reconnecting request authenticated anew (the same user, its token checked that): its
    // user object, roles included, and its credential's expiry are the ones that count from now.
    this.identity = identity;
    this.credentialExpiry.arm(identity.expiresAt);
    clearTimeout(this.reconnectTimer);
    // What was still queued for the old socket is in the replay (or was unnumbered, so lost with it).
    this.wire.replace(socket);
    this.state = State.Connected;
    this.droppedForResume = false;
    this.liveness.received();
    const { sequenceId, payloads } = this.reconnect!.replay();
    this.writePayload(this.protocol!.writeMessage({ type: MessageType.Sequence, sequenceId }));
    for (const payload of payloads) this.writePayload(payload);
  }

  /**
   * A socket that dropped (1006: no close frame), or that the server closed for the client to
   * resume, may come back within the reconnect window; one the client closed on purpose, with a
   * close frame, ends the connection.
   */
  private onSocketClosed(code: number): void {
    const mayResume = code === ABNORMAL_CLOSURE || this.droppedForResume;
    if (this.state !== State.Connected || !this.reconnect || !mayResume) return void this.teardown();
    this.state = State.Disconnected;
    this.reconnectTimer = setTimeout(() => void this.teardown(), this.runtime.options.reconnectWindowMs);
    this.reconnectTimer.unref();
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
    if (this.reconnect && isSequenced(type) && this.state !== State.Closed && !this.closing) {
      this.reconnect.recordSent(payload);
      if (this.reconnect.bufferedBytes > this.runtime.options.maximumBufferedBytesPerClient) return this.closeAsSlowConsumer();
    }
    this.writePayload(payload);
  }

  unwrittenBytes(): number {
    return this.wire.unwrittenBytes();
  }

  unacknowledgedBytes(): number {
    return this.reconnect?.bufferedBytes ?? 0;
  }

  /** For the producers of this connection: undefined if they may go on now, else when they may. */
  whenWritable(): Promise<void> | undefined {
    return this.wire.flow.whenWritable();
  }

  /**
   * Nothing more is queued for a client that holds the limit's worth of unread bytes: a broadcast
   * to it would only grow memory. It is told why, and may reconnect once it can keep up.
   */
  private closeAsSlowConsumer(): void {
    if (this.closing) return;
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
    if (!this.membership || !this.isResumable) return this.close({ type: MessageType.Close, allowReconnect: true });
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
   * Called by the keep-alive ticker: pings idle connections and drops silent ones. The handshake
   * and onConnected have their own deadline, and a dropped socket its reconnect window; a client
   * whose onConnected is slow is still pinged, so that it does not give up on the server.
   */
  tick(now: number): void {
    this.liveness.fold(now);
    if (this.state !== State.Connected && this.state !== State.Connecting) return;
    const { clientTimeoutIntervalMs, keepAliveIntervalMs, statefulReconnectBufferSize } = this.runtime.options;
    // While onConnected runs the client is not read, so its silence does not count.
    const connected = this.state === State.Connected;
    if (connected) {
      this.membership?.tick(now);
      this.acknowledgeReceived();
    }
    const verdict = this.liveness.verdict(now, keepAliveIntervalMs, clientTimeoutIntervalMs, connected);
    if (verdict === LivenessVerdict.Silent) {
      HubConnection.logger.debug(`Client sent nothing for ${clientTimeoutIntervalMs} ms; closing.`);
      return this.closeWithError(closeErrors.generic);
    }
    // A stateful client over its replay limit must acknowledge something within the client timeout.
    if (connected && this.reconnect?.ackOverdue(now, statefulReconnectBufferSize, clientTimeoutIntervalMs)) return this.dropSocketForResume();
    if (verdict === LivenessVerdict.PingDue) this.write(PING);
  }

  /**
   * The socket goes, the connection stays for the reconnect window: a client whose Acks stopped
   * arriving gets a fresh socket and the replay of what it did not acknowledge.
   */
  private dropSocketForResume(): void {
    HubConnection.logger.warn(`Connection ${this.connectionId} acknowledged nothing while over its replay limit; closing its socket for it to resume.`);
    this.droppedForResume = true;
    this.wire.close(GOING_AWAY);
  }

  /** Tells a stateful-reconnect client which of its messages arrived since the last Ack, if any. */
  private acknowledgeReceived(): void {
    const ack = this.reconnect?.pendingAck();
    if (ack !== undefined) this.send({ type: MessageType.Ack, sequenceId: ack });
  }

  private writePayload(payload: Payload): void {
    if (this.wire.write(payload)) this.liveness.sent();
  }

  private onFrame(frame: Buffer): void {
    this.liveness.received();
    switch (this.state) {
      case State.Handshaking:
        return this.onHandshakeFrame(frame);
      case State.Connecting:
        return this.holdUntilConnected(frame);
      case State.Connected:
        return this.onMessageFrame(frame);
      default:
        return;
    }
  }

  private holdUntilConnected(frame: Buffer): void {
    if (this.earlyFrames.hold(frame)) return;
    HubConnection.logger.debug('Too much sent before the connection was set up; closing.');
    this.closeWithError(closeErrors.generic);
  }

  private onHandshakeFrame(frame: Buffer): void {
    const outcome = this.handshake.read(frame);
    if (outcome.kind === 'incomplete') return;
    if (outcome.kind === 'failed') {
      if (outcome.detail) HubConnection.logger.debug(`Malformed handshake: ${outcome.detail}`);
      return this.failHandshake(outcome.error);
    }
    const { protocol, version, remaining } = outcome;
    this.protocol = protocol;
    // Clients ask for version 2 only when negotiate offered stateful reconnect.
    if (version >= 2 && this.runtime.allowStatefulReconnect) {
      this.reconnect = new StatefulReconnectBuffer();
    }
    this.startConnecting(0);
    this.wire.sendNow(HANDSHAKE_SUCCESS, protocol.transferFormat === 'Binary');
    if (remaining.length > 0) this.holdUntilConnected(remaining);
    void this.connect();
  }

  /** The protocol is known (handshake or takeover): everything from here goes out in batches. */
  private startConnecting(membershipVersion: number): void {
    this.wire.startBatching(this.protocol!.transferFormat === 'Binary');
    this.state = State.Connecting;
    // What the client sends before the hub is ready waits in its socket, not in this process.
    this.wire.pauseReading();
    if (this.reconnect && this.features.groupsTokens) {
      const lifetimeMs = this.runtime.groupsTokenLifetimeMs;
      this.membership = new MembershipRecord(membershipVersion, (groups, version) => this.sendGroupsToken(groups, version), lifetimeMs / 2);
    }
  }

  /** Lifetime managers report the changes they make, whoever asked for them. */
  membershipChanged(groupName: string, member: boolean): void {
    this.membership?.changed(groupName, member);
  }

  private sendGroupsToken(groups: readonly string[], version: number): void {
    if (this.state !== State.Connected && this.state !== State.Disconnected) return;
    const token = this.runtime.issueGroupsToken(this, groups, version);
    if (token !== undefined) this.send({ type: MessageType.Invocation, target: GROUPS_TOKEN_METHOD, arguments: [token] });
  }

  /**
   * The connection may close while onConnected runs (timeout, client gone): whatever registered
   * after the close is undone here, so that nothing routes to a dead connection.
   */
  private async connect(): Promise<void> {
    try {
      await this.runtime.lifetimeManager.onConnected(this);
      this.registered = true;
      if (this.state === State.Connecting) {
        await this.runtime.onConnected(this);
        this.hubConnected = true;
      }
    } catch (error) {
      HubConnection.logger.error(`onConnected failed; closing the connection.`, (error as Error)?.stack);
      this.closeWithError(closeErrors.generic);
    }
    if (this.state === State.Closed) return this.unregister();
    if (this.state !== State.Connecting) return;
    clearTimeout(this.connectTimer);
    this.dispatcher = this.runtime.dispatcher.attach(this);
    this.state = State.Connected;
    // The socket was not read while onConnected ran: the client's silence starts counting now.
    this.liveness.received();
    this.wire.resumeReading();
    this.membership?.scheduleIssue();
    for (const frame of this.earlyFrames.take()) this.onMessageFrame(frame);
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
      if (this.reconnect) {
        const verdict = this.reconnect.receive(message);
        if (verdict === 'invalid') return this.closeWithError(closeErrors.generic);
        // An Ack may be what producers waiting on the replay limit need.
        if (message.type === MessageType.Ack) this.wire.flow.check();
        if (verdict === 'handled') continue;
      }
      this.dispatcher!.dispatch(message);
      if (this.state !== State.Connected) return;
    }
  }

  private connectTimedOut(): void {
    if (this.state === State.Handshaking) return this.failHandshake(closeErrors.handshakeCanceled);
    if (this.state !== State.Connecting) return;
    HubConnection.logger.warn(`Connection ${this.connectionId}: onConnected did not return within ${this.runtime.options.handshakeTimeoutMs} ms; closing.`);
    this.closeWithError(closeErrors.generic);
  }

  private failHandshake(error: string): void {
    if (this.state !== State.Handshaking) return;
    clearTimeout(this.connectTimer);
    this.wire.sendNow(handshakeError(error), false);
    this.wire.close(1000);
    void this.teardown();
  }

  private async teardown(): Promise<void> {
    if (this.state === State.Closed) return;
    this.state = State.Closed;
    clearTimeout(this.connectTimer);
    this.credentialExpiry.clear();
    clearTimeout(this.reconnectTimer);
    this.runtime.forget(this, !this.handedOff);
    this.dispatcher?.dispose();
    this.wire.flow.release();
    this.clientResults.cancelAll();
    this.earlyFrames.take();
    await this.unregister();
  }

  /** Each of the lifetime manager and the hub hears of the end once, if it heard of the start. */
  private async unregister(): Promise<void> {
    const { registered, hubConnected } = this;
    this.registered = this.hubConnected = false;
    try {
      if (registered) await this.runtime.lifetimeManager.onDisconnected(this);
      if (hubConnected) await this.runtime.onDisconnected(this);
    } catch (error) {
      HubConnection.logger.error('onDisconnected failed.', (error as Error)?.stack);
    }
  }
}
