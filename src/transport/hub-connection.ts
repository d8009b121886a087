import { Logger } from '@nestjs/common';
import { WebSocket } from 'ws';
import { ClientResultTracker } from '../clients/client-result-tracker.js';
import type { GroupManager, HubCallerClients } from '../clients/client-proxy.js';
import type { HubConnectionHandle } from '../clients/hub-connection-handle.js';
import { SerializedHubMessage } from '../clients/serialized-hub-message.js';
import { closeErrors } from '../errors/invocation-errors.js';
import type { HubCallerContext } from '../hub/hub-caller-context.js';
import type { HubConnectionContext } from '../hub/hub-connection-context.js';
import type { ConnectionDispatcher } from '../hub/connection-dispatcher.js';
import { handshakeError, HANDSHAKE_SUCCESS, parseHandshakeRequest } from '../protocol/handshake.js';
import { MessageType, type HubMessage } from '../protocol/hub-message.js';
import type { HubProtocol } from '../protocol/hub-protocol.js';
import { ProtocolError } from '../protocol/protocol-error.js';
import type { HubRuntime } from './hub-runtime.js';

export interface ConnectionIdentity {
  readonly user: unknown;
  readonly userIdentifier: string | undefined;
  /** Epoch milliseconds at which the credential expires and the connection must close. */
  readonly expiresAt: number | undefined;
}

/** setTimeout's ceiling (about 24.8 days); longer delays are re-armed in steps. */
const MAX_TIMER_DELAY_MS = 2 ** 31 - 1;

const PING = new SerializedHubMessage({ type: MessageType.Ping });

const enum State {
  Handshaking,
  Connecting,
  Connected,
  Closed,
}

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
  /** The hub's onConnected succeeded, so it is owed an onDisconnected. */
  private hubConnected = false;
  private protocol: HubProtocol | undefined;
  private dispatcher: ConnectionDispatcher | undefined;
  private handshakeBuffer: Buffer | undefined;
  private readonly handshakeTimer: NodeJS.Timeout;
  /** Frames that arrived while the hub's onConnected was still running. */
  private framesBeforeConnected: Buffer[] = [];
  // Liveness is tracked with flags the keep-alive ticker folds into times: no clock read per message.
  private sentSinceTick = false;
  private receivedSinceTick = false;
  private lastSentAt: number;
  private lastReceivedAt: number;

  readonly user: unknown;
  readonly userIdentifier: string | undefined;
  private expiryTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly socket: WebSocket,
    readonly connectionId: string,
    identity: ConnectionIdentity,
    private readonly runtime: HubRuntime,
  ) {
    const { options } = runtime;
    this.user = identity.user;
    this.userIdentifier = identity.userIdentifier;
    if (identity.expiresAt !== undefined) this.closeAt(identity.expiresAt);
    this.lastSentAt = this.lastReceivedAt = Date.now();
    this.clientResults = new ClientResultTracker(options.clientResultTimeoutMs);
    this.clients = runtime.callerClients(connectionId);
    this.groups = runtime.groups;
    this.handshakeTimer = setTimeout(() => this.failHandshake(closeErrors.handshakeCanceled), options.handshakeTimeoutMs);
    socket.on('message', (data: Buffer) => this.onFrame(data));
    socket.on('close', () => void this.teardown());
    socket.on('error', (error) => HubConnection.logger.debug(`Socket error: ${error.message}`));
  }

  get hubPath(): string {
    return this.runtime.path;
  }

  get caller(): HubCallerContext {
    return this;
  }

  /** Writes a message serialized for this connection's protocol; dropped unless the socket is open. */
  send(message: HubMessage): void {
    if (this.protocol) this.writePayload(this.protocol.writeMessage(message));
  }

  write(message: SerializedHubMessage): void {
    if (this.protocol) this.writePayload(message.payloadFor(this.protocol));
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
    this.send(message);
    this.socket.close(1000);
    void this.teardown();
  }

  abort(): void {
    this.socket.terminate();
    void this.teardown();
  }

  pauseReading(): void {
    this.socket.pause();
  }

  resumeReading(): void {
    this.socket.resume();
  }

  /** Called by the keep-alive ticker: pings idle connections and drops silent ones. */
  tick(now: number): void {
    if (this.sentSinceTick) this.lastSentAt = now;
    if (this.receivedSinceTick) this.lastReceivedAt = now;
    this.sentSinceTick = this.receivedSinceTick = false;
    if (this.state !== State.Connected) return;
    const { clientTimeoutIntervalMs, keepAliveIntervalMs } = this.runtime.options;
    if (now - this.lastReceivedAt >= clientTimeoutIntervalMs) {
      HubConnection.logger.debug(`Client sent nothing for ${clientTimeoutIntervalMs} ms; closing.`);
      this.closeWithError(closeErrors.generic);
    } else if (now - this.lastSentAt >= keepAliveIntervalMs) {
      this.write(PING);
    }
  }

  /** Credentials expire: the client is told to reconnect, which makes it authenticate anew. */
  private closeAt(expiresAt: number): void {
    const delay = Math.max(0, expiresAt - Date.now());
    this.expiryTimer = setTimeout(() => {
      if (Date.now() < expiresAt) return this.closeAt(expiresAt);
      HubConnection.logger.debug('Credential expired; closing the connection.');
      this.close({ type: MessageType.Close, allowReconnect: true });
    }, Math.min(delay, MAX_TIMER_DELAY_MS));
    this.expiryTimer.unref();
  }

  private writePayload(payload: string | Uint8Array): void {
    if (this.socket.readyState !== WebSocket.OPEN) return;
    this.sentSinceTick = true;
    this.socket.send(payload, { binary: typeof payload !== 'string' });
  }

  private onFrame(frame: Buffer): void {
    this.receivedSinceTick = true;
    switch (this.state) {
      case State.Handshaking:
        return this.onHandshakeFrame(frame);
      case State.Connecting:
        this.framesBeforeConnected.push(frame);
        return;
      case State.Connected:
        return this.onMessageFrame(frame);
      default:
        return;
    }
  }

  private onHandshakeFrame(frame: Buffer): void {
    const buffered = this.handshakeBuffer ? Buffer.concat([this.handshakeBuffer, frame]) : frame;
    if (buffered.length > this.runtime.options.maximumReceiveMessageSize) {
      return this.failHandshake(closeErrors.handshakeCanceled);
    }
    let parsed: ReturnType<typeof parseHandshakeRequest>;
    try {
      parsed = parseHandshakeRequest(buffered);
    } catch (error) {
      HubConnection.logger.debug(`Malformed handshake: ${(error as Error).message}`);
      return this.failHandshake(closeErrors.handshakeUnexpected);
    }
    if (!parsed) {
      this.handshakeBuffer = buffered;
      return;
    }
    this.handshakeBuffer = undefined;
    const { protocol: name, version } = parsed.request;
    const protocol = this.runtime.protocols.get(name);
    if (!protocol) return this.failHandshake(closeErrors.unsupportedProtocol(name));
    if (version < 1 || version > protocol.version) return this.failHandshake(closeErrors.unsupportedVersion(name, version));
    clearTimeout(this.handshakeTimer);
    this.protocol = protocol;
    this.state = State.Connecting;
    this.socket.send(HANDSHAKE_SUCCESS, { binary: protocol.transferFormat === 'Binary' });
    if (parsed.remaining.length > 0) this.framesBeforeConnected.push(parsed.remaining);
    void this.connect();
  }

  private async connect(): Promise<void> {
    try {
      await this.runtime.lifetimeManager.onConnected(this);
      await this.runtime.onConnected(this);
      this.hubConnected = true;
    } catch (error) {
      HubConnection.logger.error(`onConnected failed; closing the connection.`, (error as Error)?.stack);
      return this.closeWithError(closeErrors.generic);
    }
    if (this.state !== State.Connecting) return;
    this.dispatcher = this.runtime.dispatcher.attach(this);
    this.state = State.Connected;
    const early = this.framesBeforeConnected;
    this.framesBeforeConnected = [];
    for (const frame of early) this.onMessageFrame(frame);
  }

  private onMessageFrame(frame: Buffer): void {
    if (this.state !== State.Connected) return;
    // The socket's own cap bounds allocation; this is the protocol's limit, answered with a Close.
    if (frame.length > this.runtime.maximumFrameSize) {
      HubConnection.logger.debug(`Frame of ${frame.length} bytes exceeds the maximum message size.`);
      return this.closeWithError(closeErrors.generic);
    }
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
      this.dispatcher!.dispatch(message);
      if (this.state !== State.Connected) return;
    }
  }

  private failHandshake(error: string): void {
    if (this.state !== State.Handshaking) return;
    clearTimeout(this.handshakeTimer);
    if (this.socket.readyState === WebSocket.OPEN) this.socket.send(handshakeError(error));
    this.socket.close(1000);
    void this.teardown();
  }

  private async teardown(): Promise<void> {
    if (this.state === State.Closed) return;
    this.state = State.Closed;
    clearTimeout(this.handshakeTimer);
    clearTimeout(this.expiryTimer);
    this.runtime.forget(this);
    this.dispatcher?.dispose();
    this.clientResults.cancelAll();
    if (!this.protocol) return;
    try {
      await this.runtime.lifetimeManager.onDisconnected(this);
      if (this.hubConnected) await this.runtime.onDisconnected(this);
    } catch (error) {
      HubConnection.logger.error('onDisconnected failed.', (error as Error)?.stack);
    }
  }
}
