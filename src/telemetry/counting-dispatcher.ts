import type { HubConnectionContext } from '../hub/hub-connection-context.js';
import { ConnectionDispatcher } from '../hub/connection-dispatcher.js';
import type { HubMethods } from '../hub/hub-methods.js';
import type { ResolvedHubOptions } from '../options/hub-options.js';
import type { HubMessage } from '../protocol/hub-message.js';
import type { ConnectionMeter } from './meters.js';

/**
 * A connection's dispatcher that counts the messages it is handed. Chosen per connection while
 * metrics are on, so that without them dispatching a message costs nothing more.
 */
export class CountingConnectionDispatcher extends ConnectionDispatcher {
  constructor(
    hub: HubMethods,
    connection: HubConnectionContext,
    options: ResolvedHubOptions,
    private readonly meter: ConnectionMeter,
  ) {
    super(hub, connection, options);
  }

  override dispatch(message: HubMessage): void {
    this.meter.handed();
    super.dispatch(message);
  }
}
