import { Logger } from '@nestjs/common';
import type { HubCallerContext } from '../hub/hub-caller-context.js';
import type { HubConnectionHandle } from '../lifetime/hub-connection-handle.js';
import type { HubRuntime } from './hub-runtime.js';

/**
 * Who has heard of a connection's start, so that each hears of its end exactly once: the lifetime
 * manager from when it routes to the connection, the hub from when its onConnected succeeded.
 */
export class HubRegistration {
  private static readonly logger = new Logger('SignalR:Connection');
  private registered = false;
  private hubConnected = false;

  constructor(
    private readonly runtime: HubRuntime,
    private readonly connection: HubConnectionHandle & HubCallerContext,
  ) {}

  /**
   * Registers with the lifetime manager, then runs the hub's onConnected if the connection is
   * still starting by then (it may close meanwhile). Throws what either of them threw.
   */
  async enter(stillStarting: () => boolean): Promise<void> {
    await this.runtime.lifetimeManager.onConnected(this.connection);
    this.registered = true;
    if (!stillStarting()) return;
    await this.runtime.onConnected(this.connection);
    this.hubConnected = true;
  }

  async leave(): Promise<void> {
    const { registered, hubConnected } = this;
    this.registered = this.hubConnected = false;
    try {
      if (registered) await this.runtime.lifetimeManager.onDisconnected(this.connection);
      if (hubConnected) await this.runtime.onDisconnected(this.connection);
    } catch (error) {
      HubRegistration.logger.error('onDisconnected failed.', (error as Error)?.stack);
    }
  }
}
