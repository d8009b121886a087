import type { HubConnection } from '@microsoft/signalr';
import { Injectable } from '@nestjs/common';
import {
  Caller,
  Clients,
  Groups,
  Hub,
  HubContext,
  InjectHubContext,
  redisLifetimeManager,
  SignalRError,
  SignalRErrorCode,
  SignalRModule,
  type GroupManager,
  type HubCallerClients,
  type HubCallerContext,
  type SignalRModuleOptions,
} from 'nestjs-signalr';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CapturingLogger } from '../support/capturing-logger.js';
import { ClientPool } from '../support/client.js';
import { startHubApp, type RunningHubApp } from '../support/hub-app.js';
import { describeWithRedis, RedisServer } from '../support/redis-server.js';
import { waitFor } from '../support/wait.js';

const LIMIT = 3;

@Hub('/hubs/groups')
class GroupsHub {
  async join(group: string, @Caller() caller: HubCallerContext, @Groups() groups: GroupManager): Promise<void> {
    await groups.addToGroup(caller.connectionId, group);
  }

  async leave(group: string, @Caller() caller: HubCallerContext, @Groups() groups: GroupManager): Promise<void> {
    await groups.removeFromGroup(caller.connectionId, group);
  }

  async sendToGroup(group: string, @Clients() clients: HubCallerClients): Promise<void> {
    await clients.group(group).send('GroupMessage', group);
  }
}

/** Server code outside any invocation, as an application's service would be. */
@Injectable()
class GroupAdmin {
  constructor(@InjectHubContext(GroupsHub) readonly hub: HubContext) {}
}

const refusal = (method: string) =>
  `An unexpected error occurred invoking '${method}' on the server. HubException: A connection may be in at most ${LIMIT} groups. (SIGNALR_TOO_MANY_GROUPS)`;

function groupLimitSuite(backplane: () => SignalRModuleOptions) {
  let node: RunningHubApp;
  const clients = new ClientPool();
  const log = new CapturingLogger();

  beforeAll(async () => {
    node = await startHubApp([GroupsHub, GroupAdmin], { maximumGroupsPerConnection: LIMIT, ...backplane() }, {
      imports: [SignalRModule.forFeature([GroupsHub])],
    });
    node.app.useLogger(log);
  });
  afterAll(async () => {
    await clients.stopAll();
    await node?.close();
  });

  /** The groups, of those named, whose messages reach `member`: each sent in turn, then a last one it is in. */
  async function groupsReaching(member: HubConnection, groups: readonly string[], lastOneItIsIn: string): Promise<string[]> {
    const sender = await clients.connect(`${node.baseUrl}/hubs/groups`);
    const received: string[] = [];
    member.on('GroupMessage', (group: string) => received.push(group));
    // One sender's messages reach a connection in order: once the last one arrived, the others would have.
    for (const group of [...groups, lastOneItIsIn]) await sender.invoke('SendToGroup', group);
    await waitFor(() => received.includes(lastOneItIsIn), 5_000);
    member.off('GroupMessage');
    return received.slice(0, -1);
  }

  it('refuses a hub method join past the limit with a message for the caller, not logged as a failure', async () => {
    const client = await clients.connect(`${node.baseUrl}/hubs/groups`);
    for (const group of ['a', 'b', 'c']) await client.invoke('Join', group);
    await expect(client.invoke('Join', 'd')).rejects.toThrow(refusal('Join'));
    // Joining a group it is in is no new group.
    await expect(client.invoke('Join', 'b')).resolves.toBeNull();
    expect(await groupsReaching(client, ['a', 'b', 'd'], 'c')).toEqual(['a', 'b']);

    await client.invoke('Leave', 'a');
    await client.invoke('Join', 'd');
    expect(await groupsReaching(client, ['a', 'd'], 'c')).toEqual(['d']);
    expect(log.text()).not.toContain('failed (error id');
  });

  it('refuses server code past the limit with SIGNALR_TOO_MANY_GROUPS', async () => {
    const client = await clients.connect(`${node.baseUrl}/hubs/groups`);
    const { groups } = node.app.get(GroupAdmin).hub;
    for (const group of ['x', 'y', 'z']) await groups.addToGroup(client.connectionId!, group);
    const error = await groups.addToGroup(client.connectionId!, 'w').catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(SignalRError);
    expect(error).toMatchObject({
      code: SignalRErrorCode.TooManyGroups,
      message: `A connection may be in at most ${LIMIT} groups. (SIGNALR_TOO_MANY_GROUPS)`,
    });
    await groups.addToGroup(client.connectionId!, 'x');
    expect(await groupsReaching(client, ['w', 'x'], 'z')).toEqual(['x']);
  });
}

describe('maximumGroupsPerConnection, in-process', () => {
  groupLimitSuite(() => ({}));
});

describeWithRedis('maximumGroupsPerConnection, on the Redis backplane', () => {
  let redis: RedisServer;
  beforeAll(async () => {
    redis = await RedisServer.start();
  });
  afterAll(() => redis?.stop());
  groupLimitSuite(() => ({ lifetimeManager: redisLifetimeManager({ url: redis.url, channelPrefix: 'group-limit' }) }));
});
