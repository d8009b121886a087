import { HubConnectionState } from '@microsoft/signalr';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CapturingLogger } from '../support/capturing-logger.js';
import { WIRE_PROTOCOLS } from '../support/client.js';
import { CuttingProxy } from '../support/cutting-proxy.js';
import { sleep, waitFor } from '../support/wait.js';
import { startHubApp, type RunningHubApp } from '../support/hub-app.js';
import { signFor, TestAuthModule } from '../support/jwt-auth.js';
import { upgradeStatus } from '../support/raw-client.js';
import { OtherRoomsHub, RoomEvents } from './resumption-hub.js';
import {
  afterNewToken,
  bannedFromVip,
  bearer,
  connectionTokenOf,
  endedOn,
  isInRoom,
  jwt,
  KEYS,
  PATIENCE_MS,
  portOf,
  rawResume,
  resumableClient,
  resumeUrl,
  roomMessagesOf,
  startNode,
  type ResumableClient,
} from './resumption-support.js';

describe.each(WIRE_PROTOCOLS)('resuming on a node that lost the connection (%s)', (protocol) => {
  let first: RunningHubApp;
  let second: RunningHubApp;
  let proxy: CuttingProxy;

  beforeAll(async () => {
    [first, second] = await Promise.all([startNode(), startNode()]);
  });

  afterEach(() => bannedFromVip.clear());

  afterAll(async () => {
    await proxy?.close();
    await Promise.all([first.close(), second.close()]);
  });

  /** Sends numbered messages 0–39, `moveNode` between them and 40–79; checks both directions exactly. */
  async function numberedAcrossTakeover(moveNode: (proxy: CuttingProxy) => Promise<void>): Promise<void> {
    const leaving = await startNode();
    proxy = await CuttingProxy.start(portOf(leaving));
    const client = await resumableClient(`${proxy.url}/hubs/rooms`, protocol);
    const { connection } = client;
    const id = connection.connectionId;
    await afterNewToken(client, () => connection.invoke('Join', 'survivors'));

    const recorded: number[] = [];
    connection.on('Recorded', (value: number) => recorded.push(value));
    for (let i = 0; i < 40; i++) void connection.send('Record', i);
    await waitFor(() => recorded.length === 40, PATIENCE_MS);

    // The load balancer sends the reconnect to another node, which has never seen this connection.
    proxy.retarget(portOf(second));
    await moveNode(proxy);
    await leaving.close();
    const handledBefore = second.app.get(RoomEvents).recorded.length;
    for (let i = 40; i < 80; i++) void connection.send('Record', i);
    await waitFor(() => recorded.length === 80, PATIENCE_MS);

    expect(recorded).toEqual(Array.from({ length: 80 }, (_, i) => i));
    expect(second.app.get(RoomEvents).recorded.slice(handledBefore)).toEqual(Array.from({ length: 40 }, (_, i) => i + 40));
    expect(leaving.app.get(RoomEvents).recorded).toEqual(Array.from({ length: 40 }, (_, i) => i));
    // Numbering went on from the client's count: nothing after the takeover was taken for a duplicate.
    expect(client.socketUrls).toHaveLength(2);
    expect(Number(client.socketUrls[1].searchParams.get('received'))).toBeGreaterThanOrEqual(40);
    expect(connection.state).toBe(HubConnectionState.Connected);
    await expect(connection.invoke('WhoAmI')).resolves.toBe(id);
    expect(await isInRoom(second, 'survivors', roomMessagesOf(connection))).toBe(true);
    expect(await isInRoom(second, 'elsewhere', roomMessagesOf(connection))).toBe(false);
    await connection.stop();
    await proxy.close();
  }

  it('moves a connection, its id, groups and numbering, off a node that shuts down', async () => {
    // The node's shutdown acknowledges what it handled and closes the socket: the client resumes elsewhere.
    await numberedAcrossTakeover(async () => undefined);
  });

  it('resumes on another node after a cut and a restart, once the lost node had acknowledged', async () => {
    await numberedAcrossTakeover(async (cutting) => {
      // Acks go out about once a second; what the lost node handled but never acknowledged is replayed.
      await sleep(1200);
      cutting.cutAll();
    });
  });

  it('refuses a reconnect that carries another user’s credential, and the client closes', async () => {
    proxy = await CuttingProxy.start(portOf(first));
    let credential = signFor(jwt, 'alice');
    const client = await resumableClient(`${proxy.url}/hubs/rooms`, protocol, () => credential);
    const closed = new Promise<void>((resolve) => client.connection.onclose(() => resolve()));
    credential = signFor(jwt, 'bob');
    proxy.retarget(portOf(second));
    proxy.cutAll();
    await closed;
    expect(client.connection.state).toBe(HubConnectionState.Disconnected);
    await proxy.close();
  });
});

describe('groups tokens a resuming client presents', () => {
  let origin: RunningHubApp;
  let other: RunningHubApp;
  let otherLog: CapturingLogger;

  beforeAll(async () => {
    [origin, other] = await Promise.all([startNode(), startNode()]);
    otherLog = new CapturingLogger();
  });

  // Creating an application resets Nest's global logger, so the capture is set again each time.
  beforeEach(() => other.app.useLogger(otherLog));

  afterEach(() => bannedFromVip.clear());

  afterAll(async () => {
    await Promise.all([origin.close(), other.close()]);
  });

  async function alice(): Promise<ResumableClient> {
    const client = await resumableClient(`${origin.baseUrl}/hubs/rooms`, 'json', () => signFor(jwt, 'alice'));
    await afterNewToken(client, () => client.connection.invoke('Join', 'lobby'));
    return client;
  }

  async function refusal(url: string, headers: Record<string, string>) {
    const answer = await upgradeStatus(url, headers);
    return { ...answer, logged: otherLog.text() };
  }

  it('resumes with the latest token (the control case for every refusal below)', async () => {
    const client = await alice();
    const raw = await rawResume(resumeUrl(other, connectionTokenOf(client), client.tokens.at(-1)!), bearer('alice'));
    expect(await isInRoom(other, 'lobby', raw)).toBe(true);
    raw.socket.terminate();
    await client.connection.stop();
  });

  it('refuses a groups token of another connection, another user, another hub, or tampered with', async () => {
    const client = await alice();
    const connectionToken = connectionTokenOf(client);
    const second = await alice();
    const bob = await resumableClient(`${origin.baseUrl}/hubs/rooms`, 'json', () => signFor(jwt, 'bob'));
    const latest = client.tokens.at(-1)!;
    const tampered = `${latest.slice(0, 20)}${latest[20] === 'A' ? 'B' : 'A'}${latest.slice(21)}`;

    const cases = [
      { token: second.tokens.at(-1)!, status: 404, reason: 'groups token of another connection' },
      { token: bob.tokens.at(-1)!, status: 403, reason: 'groups token of another user' },
      { token: tampered, status: 404, reason: 'groups token not authentic' },
      { token: connectionToken, status: 404, reason: 'groups token not authentic' },
    ];
    for (const { token, status, reason } of cases) {
      const answer = await refusal(resumeUrl(other, connectionToken, token), bearer('alice'));
      expect(answer.status).toBe(status);
      expect(answer.logged).toContain(`resumption refused: ${reason}`);
    }
    // Alice's own tokens, presented with Bob's credential.
    const stolen = await refusal(resumeUrl(other, connectionToken, latest), bearer('bob'));
    expect(stolen).toMatchObject({ status: 403, body: 'The user identity cannot change during an active connection.' });
    expect(otherLog.text()).not.toContain(latest);
    await Promise.all([client, second, bob].map(({ connection }) => connection.stop()));
  });

  it('refuses a groups token from another hub', async () => {
    const client = await alice();
    const test = await startHubApp([OtherRoomsHub], { keys: KEYS, authStrategies: ['jwt'] }, { imports: [TestAuthModule] });
    other.app.useLogger(otherLog);
    try {
      const elsewhere = await resumableClient(`${test.baseUrl}/hubs/other-rooms`, 'json', () => signFor(jwt, 'alice'));
      const answer = await refusal(resumeUrl(other, connectionTokenOf(client), elsewhere.tokens.at(-1)!), bearer('alice'));
      expect(answer.status).toBe(404);
      expect(answer.logged).toContain('resumption refused: groups token of another hub');
      await elsewhere.connection.stop();
    } finally {
      await test.close();
      await client.connection.stop();
    }
  });

  it('refuses an expired groups token', async () => {
    const shortLived = await startNode({ groupsTokenLifetimeMs: 300 });
    other.app.useLogger(otherLog);
    try {
      const client = await resumableClient(`${shortLived.baseUrl}/hubs/rooms`, 'json', () => signFor(jwt, 'alice'));
      const token = client.tokens.at(-1)!;
      await sleep(400);
      const answer = await refusal(resumeUrl(other, connectionTokenOf(client), token), bearer('alice'));
      expect(answer.status).toBe(404);
      expect(answer.logged).toContain('resumption refused: groups token expired');
      await client.connection.stop();
    } finally {
      await shortLived.close();
    }
  });

  it('drops a group canRejoin refuses and keeps the others, without telling the client', async () => {
    const client = await alice();
    await afterNewToken(client, () => client.connection.invoke('Join', 'vip'));
    bannedFromVip.add('alice');
    const raw = await rawResume(resumeUrl(other, connectionTokenOf(client), client.tokens.at(-1)!), bearer('alice'));
    expect(await isInRoom(other, 'lobby', raw)).toBe(true);
    expect(await isInRoom(other, 'vip', raw)).toBe(false);
    expect(raw.messages().some((message) => message.type === 7 || message.error !== undefined)).toBe(false);
    expect(otherLog.text()).toContain("canRejoin refused a resuming connection's group 'vip'");
    raw.socket.terminate();
    await client.connection.stop();
  });

  it('refuses to resume a connection that ended on this node', async () => {
    const client = await alice();
    const connectionToken = connectionTokenOf(client);
    const token = client.tokens.at(-1)!;
    const id = client.connection.connectionId;
    await client.connection.stop();
    await endedOn(origin, id);
    const answer = await upgradeStatus(resumeUrl(origin, connectionToken, token), bearer('alice'));
    expect(answer.status).toBe(404);
  });
});
