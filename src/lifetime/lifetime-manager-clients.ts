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
  readonly all: ClientProxy;

  constructor(protected readonly manager: HubLifetimeManager) {
    this.all = proxy((method, ...args) => manager.sendAll(method, args));
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

/** The caller-relative view handed to hub methods; built once per connection. */
export class LifetimeManagerCallerClients extends LifetimeManagerClients implements HubCallerClients {
  readonly caller: SingleClientProxy;
  readonly others: ClientProxy;

  constructor(
    manager: HubLifetimeManager,
    private readonly connectionId: string,
  ) {
    super(manager);
    this.caller = this.client(connectionId);
    this.others = this.allExcept([connectionId]);
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
