/** Sends to one or many clients; resolves once the message is handed to every transport. */
export interface ClientProxy {
  send(method: string, ...args: unknown[]): Promise<void>;
}

/** A single client can also be asked for a result: the client's handler return value. */
export interface SingleClientProxy extends ClientProxy {
  invoke<T = unknown>(method: string, ...args: unknown[]): Promise<T>;
}

/** Addresses clients of one hub. Group and user names live in separate namespaces from ids. */
export interface HubClients {
  readonly all: ClientProxy;
  allExcept(connectionIds: readonly string[]): ClientProxy;
  client(connectionId: string): SingleClientProxy;
  clients(connectionIds: readonly string[]): ClientProxy;
  group(groupName: string): ClientProxy;
  groups(groupNames: readonly string[]): ClientProxy;
  groupExcept(groupName: string, excludedConnectionIds: readonly string[]): ClientProxy;
  user(userIdentifier: string): ClientProxy;
  users(userIdentifiers: readonly string[]): ClientProxy;
}

/** The same, relative to the connection whose invocation is running. */
export interface HubCallerClients extends HubClients {
  readonly caller: SingleClientProxy;
  readonly others: ClientProxy;
  othersInGroup(groupName: string): ClientProxy;
}

export interface GroupManager {
  addToGroup(connectionId: string, groupName: string): Promise<void>;
  removeFromGroup(connectionId: string, groupName: string): Promise<void>;
}
