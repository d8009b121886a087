import type { ConnectionRequest } from './connection-request.js';

/** What a hub method knows of the connection that called it. */
export interface HubCallerContext {
  /** Public id of the connection; never send it to other users. */
  readonly connectionId: string;
  /** Path of the hub the connection belongs to. */
  readonly hubPath: string;
  /** The authenticated user, or `undefined` for an anonymous connection. */
  readonly user: unknown;
  /** The key that `user(...)` sends address, or `undefined` for an anonymous connection. */
  readonly userIdentifier: string | undefined;
  /** The HTTP request behind the connection: headers, cookies, query, address, transport (credentials redacted by default). */
  readonly request: ConnectionRequest;
  /** State the application keeps for this connection while it lives. */
  readonly items: Map<unknown, unknown>;
  /** Closes the connection at once. */
  abort(): void;
}
