import type { GroupManager, HubCallerClients } from '../lifetime/client-proxy.js';

/**
 * What guards, interceptors and parameter decorators see as the WebSocket "data" of a hub
 * invocation (`context.switchToWs().getData()`).
 */
export interface HubInvocationContext {
  /** The method name as the client sent it. */
  readonly target: string;
  readonly arguments: readonly unknown[];
  /** Absent for fire-and-forget `send()` calls. */
  readonly invocationId: string | undefined;
  /** The invocation's headers as the client sent them, if any: where a client propagates its trace context. */
  readonly headers: Readonly<Record<string, string>> | undefined;
  readonly clients: HubCallerClients;
  readonly groups: GroupManager;
  /** A classic (2.x) caller's hub state (`S`), changed in place; undefined for a modern caller. */
  readonly classicState: Record<string, unknown> | undefined;
  uploadStreamFor(parameterIndex: number): unknown;
}
