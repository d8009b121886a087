import type { HubLifetimeManagerFactory } from '../clients/hub-lifetime-manager.js';
import type { HubOptions } from './hub-options.js';

/** Options of `SignalRModule.forRoot()` / `forRootAsync()`; hub options here apply to every hub. */
export interface SignalRModuleOptions extends HubOptions {
  /**
   * How long a connection token from negotiate stays usable before its WebSocket arrives.
   * @default 15000 ms
   */
  negotiateTokenLifetimeMs?: number;
  /**
   * Creates each hub's lifetime manager (the router of group, user and broadcast sends).
   * @default one in-process manager per hub
   */
  lifetimeManager?: HubLifetimeManagerFactory;
}

export const DEFAULT_NEGOTIATE_TOKEN_LIFETIME_MS = 15_000;
