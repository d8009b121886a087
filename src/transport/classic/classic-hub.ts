import type { HubConnections } from '../../connection/hub-connections.js';
import { SignalRError, SignalRErrorCode } from '../../errors/signalr-error-codes.js';
import type { HubMethodDescriptor } from '../../hub/hub-method-explorer.js';
import type { ConnectionRegistry } from '../../security/connection-registry.js';
import type { HubGatekeeper } from '../../security/hub-gatekeeper.js';

/** What the classic endpoint needs of one hub: the parts its modern transports use, and its classic name. */
export interface ClassicHub {
  /** As declared (`@Hub(path, { classicName })`, or the class name): the proxy lists it so. */
  readonly name: string;
  readonly path: string;
  /** Whether its methods take a classic client's hub state (`@Hub(path, { classicState })`). */
  readonly acceptsState: boolean;
  readonly connections: HubConnections;
  readonly gatekeeper: HubGatekeeper;
  readonly registry: ConnectionRegistry;
  /** The methods the user may call, as `@Authorize` and the proxy-aware guards say. */
  visibleMethods(user: unknown): Promise<readonly HubMethodDescriptor[]>;
}

/** The hubs the classic endpoint serves, by classic name, case-insensitively (the client lower-cases them). */
export class ClassicHubs {
  private readonly byName = new Map<string, ClassicHub>();

  add(hub: ClassicHub): void {
    const key = hub.name.toLowerCase();
    const holder = this.byName.get(key);
    if (holder) {
      throw new SignalRError(
        SignalRErrorCode.InvalidHubDefinition,
        `Two hubs have the classic name '${hub.name}' (names match case-insensitively): ${holder.path} and ${hub.path}; set classicName in @Hub().`,
      );
    }
    this.byName.set(key, hub);
  }

  delete(hub: ClassicHub): void {
    if (this.byName.get(hub.name.toLowerCase()) === hub) this.byName.delete(hub.name.toLowerCase());
  }

  find(name: string): ClassicHub | undefined {
    return this.byName.get(name.toLowerCase());
  }

  all(): ClassicHub[] {
    return [...this.byName.values()];
  }
}
