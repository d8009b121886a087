/**
 * Every Redis name one hub's backplane uses, built in this one place. All of them start with
 * `${prefix}:${hubPath}:`, so several applications (prefixes) and hubs share a Redis safely.
 *
 * | name | kind | carries |
 * |---|---|---|
 * | `…:all` | channel | sends to all, and sends naming several connections, groups or users |
 * | `…:connection:<id>` | channel | sends, client-result invocations and relayed SSE/long-polling requests for one connection |
 * | `…:group:<name>` | channel | sends to one group |
 * | `…:user:<key>` | channel | sends to one user's connections |
 * | `…:internal:groups` | channel | group add/remove commands for connections on other nodes |
 * | `…:internal:ack:<server>` | channel | acknowledgements of those commands, to the node that asked |
 * | `…:internal:return:<server>` | channel | client results and answers to relayed requests, to the node that asked |
 * | `…:conn-groups:<id>` | set key | the groups of one connection, kept with a TTL while it lives |
 * | `…:conn-state:<id>` | string key | whether the connection is live or ended (the connection registry) |
 *
 * On a Redis Cluster the channels are shard channels and, like the keys, carry no hash tag: each
 * lands in the slot of its whole name, so groups, users and connections spread over the shards.
 * No command touches two keys (each transaction is one connection's), so none needs a tag.
 */
export class RedisChannels {
  readonly all: string;
  readonly groupManagement: string;
  private readonly base: string;

  constructor(prefix: string, hubPath: string) {
    this.base = `${prefix}:${hubPath}:`;
    this.all = `${this.base}all`;
    this.groupManagement = `${this.base}internal:groups`;
  }

  connection(connectionId: string): string {
    return `${this.base}connection:${connectionId}`;
  }

  group(groupName: string): string {
    return `${this.base}group:${groupName}`;
  }

  user(userIdentifier: string): string {
    return `${this.base}user:${userIdentifier}`;
  }

  ack(serverName: string): string {
    return `${this.base}internal:ack:${serverName}`;
  }

  returnResults(serverName: string): string {
    return `${this.base}internal:return:${serverName}`;
  }

  /** Keys, not channels: each connection's record in the connection registry, by id after this prefix. */
  get connectionStatePrefix(): string {
    return `${this.base}conn-state:`;
  }

  /** A key, not a channel: the set of a connection's groups. */
  connectionGroupsKey(connectionId: string): string {
    return `${this.base}conn-groups:${connectionId}`;
  }
}
