import type {
  ClientProxy,
  GroupManager,
  HubCallerClients,
  HubClients,
  SingleClientProxy,
} from './client-proxy.js';
import type { HubLifetimeManager } from './hub-lifetime-manager.js';

const proxy = (send: ClientProxy['send']): ClientProxy => ({ send });

/** `HubClients` over a lifetime manager: every address becomes one call to the manager. */
export class LifetimeManagerClients implements HubClients {
  private allClients: ClientProxy | undefined;

  constructor(protected readonly manager: HubLifetimeManager) {}

  get all(): ClientProxy {
    return (this.allClients ??= proxy((method, ...args) => this.manager.sendAll(method, args)));
  }

  allExcept(connectionIds: readonly string[]): ClientProxy {
    return proxy((method, ...args) => this.manager.sendAll(method, args, connectionIds));
  }

  client(connectionId: string): SingleClientProxy {
    return {
      send: (method, ...args) => this.manager.sendConnections([connectionId], method, args),
      invoke: <T>(method: string, ...args: unknown[]) =>
        this.manager.invokeConnection(connectionId, method, args) as Promise<T>,
    };
  }

  clients(connectionIds: readonly string[]): ClientProxy {
    return proxy((method, ...args) => this.manager.sendConnections(connectionIds, method, args));
  }

  group(groupName: string): ClientProxy {
    return this.groups([groupName]);
  }

  groups(groupNames: readonly string[]): ClientProxy {
    return proxy((method, ...args) => this.manager.sendGroups(groupNames, method, args));
  }

  groupExcept(groupName: string, excludedConnectionIds: readonly string[]): ClientProxy {
    return proxy((method, ...args) => this.manager.sendGroups([groupName], method, args, excludedConnectionIds));
  }

  user(userIdentifier: string): ClientProxy {
    return this.users([userIdentifier]);
  }

  users(userIdentifiers: readonly string[]): ClientProxy {
    return proxy((method, ...args) => this.manager.sendUsers(userIdentifiers, method, args));
  }
}

/**
 * The caller-relative view handed to hub methods, one per connection: its proxies are made when
 * a method first uses them, since every idle connection holds one.
 */
export class LifetimeManagerCallerClients extends LifetimeManagerClients implements HubCallerClients {
  private callerClient: SingleClientProxy | undefined;
  private otherClients: ClientProxy | undefined;

  constructor(
    manager: HubLifetimeManager,
    private readonly connectionId: string,
  ) {
    super(manager);
  }

  get caller(): SingleClientProxy {
    return (this.callerClient ??= this.client(this.connectionId));
  }

  get others(): ClientProxy {
    return (this.otherClients ??= this.allExcept([this.connectionId]));
  }

  othersInGroup(groupName: string): ClientProxy {
    return this.groupExcept(groupName, [this.connectionId]);
  }
}

export class LifetimeManagerGroups implements GroupManager {
  constructor(private readonly manager: HubLifetimeManager) {}

  addToGroup(connectionId: string, groupName: string): Promise<void> {
    return this.manager.addToGroup(connectionId, groupName);
  }

  removeFromGroup(connectionId: string, groupName: string): Promise<void> {
    return this.manager.removeFromGroup(connectionId, groupName);
  }
}
