import type { ClientResultTracker } from './client-result-tracker.js';
import type { GroupManager, HubCallerClients } from '../lifetime/client-proxy.js';
import type { HubMessage } from '../protocol/hub-message.js';
import type { ClassicCalls } from '../connection/connection-features.js';
import type { HubCallerContext } from './hub-caller-context.js';

/** The dispatcher's view of a connection: it never sees the socket. */
export interface HubConnectionContext {
  readonly caller: HubCallerContext;
  readonly clients: HubCallerClients;
  readonly groups: GroupManager;
  readonly clientResults: ClientResultTracker;
  /** Present for a classic client's connection. */
  readonly classicCalls?: ClassicCalls;
  send(message: HubMessage): void;
  /** Ends the connection with a Close message carrying `error`; the client may reconnect. */
  closeWithError(error: string): void;
  /**
   * Undefined when the connection can take more output now, else a promise of when it can: streams
   * and invocations wait on it instead of queueing for a client that is behind.
   */
  whenWritable(): Promise<void> | undefined;
  /**
   * More than `maximumQueuedInvocationsPerClient` invocations wait: reading from the client stops
   * until `invocationBacklogEased` (or the connection closes, if stopping would block its Acks).
   */
  invocationBacklogFull(): void;
  invocationBacklogEased(): void;
  /** Stops reading from the socket while an upload stream's buffer is full. */
  pauseReading(): void;
  resumeReading(): void;
}
