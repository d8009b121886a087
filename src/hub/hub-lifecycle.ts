import type { HubCallerContext } from './hub-caller-context.js';

/** Implemented by a hub that wants to know when a connection has completed its handshake. */
export interface OnHubConnected {
  /** Runs before any of the connection's invocations; throwing closes the connection. */
  onConnected(caller: HubCallerContext): void | Promise<void>;
}

/** Implemented by a hub that wants to know when a connection has ended, for whatever reason. */
export interface OnHubDisconnected {
  onDisconnected(caller: HubCallerContext): void | Promise<void>;
}

/**
 * Implemented by a hub that wants to know when a connection's client refreshed its credential
 * (ASP.NET Core's `OnAuthenticationRefreshedAsync`): `caller.user` is the new user. It runs after
 * the swap, beside the connection's invocations; a throw is logged and the connection lives on.
 */
export interface OnHubAuthenticationRefreshed {
  onAuthenticationRefreshed(caller: HubCallerContext): void | Promise<void>;
}

export interface HubLifecycle {
  onConnected(caller: HubCallerContext): Promise<void>;
  onDisconnected(caller: HubCallerContext): Promise<void>;
  onAuthenticationRefreshed(caller: HubCallerContext): Promise<void>;
}

/** Calls whichever hooks the hub instance has. */
export function hubLifecycleOf(hub: Partial<OnHubConnected & OnHubDisconnected & OnHubAuthenticationRefreshed>): HubLifecycle {
  return {
    onConnected: async (caller) => hub.onConnected?.(caller),
    onDisconnected: async (caller) => hub.onDisconnected?.(caller),
    onAuthenticationRefreshed: async (caller) => hub.onAuthenticationRefreshed?.(caller),
  };
}
