// What the package's layers report to, while the application's OpenTelemetry SDK takes it:
// narrow interfaces free of the API's own types (the published declarations must compile in an
// application without the API), and of the hub's, so that any layer may import them.
import type { Payload } from '../connection/outgoing-batch.js';
import type { ConnectionRequest } from '../hub/connection-request.js';
import type { HubCallerContext } from '../hub/hub-caller-context.js';

/** Why a request into a hub was refused, as `signalr.refusal.reason` names it. */
export type RefusalReason = 'unauthenticated' | 'forbidden' | 'origin' | 'host' | 'limit' | 'token';

/** Which request was refused: negotiate, a proxy file, or one that opens or carries a connection. */
export type RefusalStage = 'negotiate' | 'proxy' | 'connect';

export interface RefusalMeter {
  refused(reason: RefusalReason, stage: RefusalStage): void;
}

/** How a connection ended, in the values of `signalr.connection.status`. */
export type ConnectionEnd = 'normal_closure' | 'timeout' | 'app_shutdown';

/** One connection's traffic, counted where its frames pass; present only while metrics are on. */
export interface ConnectionMeter {
  /** A frame went to the transport carrying `messages` hub messages. */
  sent(frame: Payload, messages: number): void;
  received(bytes: number): void;
  /** A hub message from the client was handed to its hub. */
  handed(): void;
  closedAsSlowConsumer(): void;
}

/** A connection as telemetry follows it, from its transport's hand-over to its end. */
export interface ObservedConnection {
  readonly meter: ConnectionMeter | undefined;
  /** Ties the hub's calls for this connection (invocations, onConnected, onDisconnected) to it. */
  track(connection: HubCallerContext): void;
  closed(end: ConnectionEnd): void;
}

/** What one hub's connection set reports. */
export interface HubConnectionsTelemetry {
  opened(request: ConnectionRequest): ObservedConnection;
}

/** Invocations a connection's dispatcher refused before any hub code ran. */
export interface InvocationRefusals {
  /** `wireName` of the method, undefined when none has the name the client sent. */
  refused(wireName: string | undefined, outcome: 'refused' | 'validation'): void;
}

/** Where a lifetime manager that spans nodes records its backplane's publishes, losses and outages. */
export interface BackplaneMeter {
  published(seconds: number): void;
  /** A message for other nodes that the backplane could not take. */
  dropped(): void;
  /** Subscriptions found broken: what other nodes sent meanwhile did not reach this node. */
  subscriptionGap(): void;
  outage(): void;
}
