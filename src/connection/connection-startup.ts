import { Logger } from '@nestjs/common';
import { closeErrors } from '../errors/invocation-errors.js';
import { PRE_CONNECT_BUFFER_BYTES } from '../options/hub-options.js';
import { handshakeError, HANDSHAKE_SUCCESS } from '../protocol/handshake.js';
import type { HubProtocol } from '../protocol/hub-protocol.js';
import type { ConnectionFeatures } from './connection-features.js';
import type { ConnectionSocket } from './connection-socket.js';
import { EarlyFrames } from './early-frames.js';
import { HandshakeReader } from './handshake-reader.js';
import type { HubRegistration } from './hub-registration.js';
import type { HubRuntime } from './hub-runtime.js';
import { StatefulReconnectBuffer } from './stateful-reconnect-buffer.js';

const enum Phase {
  Handshaking,
  /** The protocol is agreed; the lifetime manager and the hub's onConnected are running. */
  Connecting,
  Over,
}

/** What the start does to its connection, which keeps the state for after it. */
export interface StartupSteps {
  /** A protocol was agreed: the connection writes in it from now; `replay` when it is stateful. */
  agreed(protocol: HubProtocol, replay: StatefulReconnectBuffer | undefined): void;
  /** onConnected returned: the connection reads and dispatches, what the client sent meanwhile first. */
  started(heldFrames: Buffer[]): void;
  /** The start failed after the handshake: the connection closes with the generic error. */
  failed(): void;
  /** The handshake was refused and the socket is closing: the connection ends. */
  refused(): void;
}

/**
 * A connection from its upgrade until the hub's onConnected returned, under one deadline: the
 * handshake agrees on a protocol, the connection registers, and what the client sends meanwhile
 * is held, bounded, to be dispatched in order once the hub is ready.
 */
export class ConnectionStartup {
  private static readonly logger = new Logger('SignalR:Connection');
  private phase = Phase.Handshaking;
  private readonly handshake: HandshakeReader;
  private readonly earlyFrames: EarlyFrames;
  private readonly deadline: NodeJS.Timeout;

  constructor(
    private readonly runtime: HubRuntime,
    private readonly connectionId: string,
    private readonly wire: ConnectionSocket,
    private readonly registration: HubRegistration,
    private readonly steps: StartupSteps,
    private readonly features: Pick<ConnectionFeatures, 'textOnly' | 'statefulReconnect'> = {},
  ) {
    const { options } = runtime;
    this.handshake = new HandshakeReader(runtime.protocols, options.maximumReceiveMessageSize, features.textOnly);
    this.earlyFrames = new EarlyFrames(options.maximumQueuedInvocationsPerClient, Math.max(PRE_CONNECT_BUFFER_BYTES, options.maximumReceiveFrameSize));
    this.deadline = setTimeout(() => this.deadlinePassed(), options.handshakeTimeoutMs);
  }

  /** Whether onConnected is running: the client is pinged then, but its silence does not count. */
  get connecting(): boolean {
    return this.phase === Phase.Connecting;
  }

  receive(frame: Buffer): void {
    if (this.phase === Phase.Handshaking) this.readHandshake(frame);
    else if (this.phase === Phase.Connecting) this.hold(frame);
  }

  /** A connection taken over from another node has its protocol already: no handshake. */
  skipHandshake(): void {
    this.phase = Phase.Connecting;
    void this.connect();
  }

  /** The connection ended, whenever that was: nothing of the start is left to run. */
  end(): void {
    clearTimeout(this.deadline);
    this.phase = Phase.Over;
    this.earlyFrames.take();
  }

  private readHandshake(frame: Buffer): void {
    const outcome = this.handshake.read(frame);
    if (outcome.kind === 'incomplete') return;
    if (outcome.kind === 'failed') {
      if (outcome.detail) ConnectionStartup.logger.debug(`Malformed handshake: ${outcome.detail}`);
      return this.refuse(outcome.error);
    }
    const { protocol, version, remaining } = outcome;
    this.phase = Phase.Connecting;
    // Clients ask for version 2 only when negotiate offered stateful reconnect.
    const stateful = version >= 2 && this.runtime.allowStatefulReconnect && this.features.statefulReconnect !== false;
    this.steps.agreed(protocol, stateful ? new StatefulReconnectBuffer() : undefined);
    this.wire.sendNow(HANDSHAKE_SUCCESS, protocol.transferFormat === 'Binary');
    if (remaining.length > 0) this.hold(remaining);
    void this.connect();
  }

  private hold(frame: Buffer): void {
    if (this.earlyFrames.hold(frame)) return;
    ConnectionStartup.logger.debug('Too much sent before the connection was set up; closing.');
    this.steps.failed();
  }

  /**
   * The connection may close while onConnected runs (timeout, client gone): whatever registered
   * after the close is undone here, so that nothing routes to a dead connection.
   */
  private async connect(): Promise<void> {
    try {
      await this.registration.enter(() => this.phase === Phase.Connecting);
    } catch (error) {
      ConnectionStartup.logger.error(`onConnected failed; closing the connection.`, (error as Error)?.stack);
      this.steps.failed();
    }
    if (this.phase !== Phase.Connecting) return this.registration.leave();
    clearTimeout(this.deadline);
    this.phase = Phase.Over;
    this.steps.started(this.earlyFrames.take());
  }

  private deadlinePassed(): void {
    if (this.phase === Phase.Handshaking) return this.refuse(closeErrors.handshakeCanceled);
    if (this.phase !== Phase.Connecting) return;
    ConnectionStartup.logger.warn(`Connection ${this.connectionId}: onConnected did not return within ${this.runtime.options.handshakeTimeoutMs} ms; closing.`);
    this.steps.failed();
  }

  private refuse(error: string): void {
    clearTimeout(this.deadline);
    this.phase = Phase.Over;
    this.wire.sendNow(handshakeError(error), false);
    this.wire.close(1000);
    this.steps.refused();
  }
}
