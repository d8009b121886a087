import { HttpTransportType, HubConnectionBuilder, LogLevel, Subject, type HubConnection } from '@microsoft/signalr';
import { Inject } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import { Caller, Clients, Groups, Hub, UploadStream, type GroupManager, type HubCallerClients, type HubCallerContext } from 'nestjs-signalr';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { redisLifetimeManager, type RedisLifetimeManagerFactory, type RedisLifetimeManagerOptions } from '../../src/lifetime/redis/index.js';
import { ClientPool, collect, nextCall } from '../support/client.js';
import { RawFallbackConnection, RawPollingClient } from '../support/http-transport-client.js';
import { HTTP_PLATFORMS, startHubApp, type HttpPlatformName, type RunningHubApp } from '../support/hub-app.js';
import { signFor, TestAuthModule } from '../support/jwt-auth.js';
import { RS } from '../support/raw-client.js';
import { sleep } from '../support/wait.js';
import { RedisCluster } from '../support/redis-cluster-process.js';
import { describeWithRedis, RedisServer } from '../support/redis-server.js';
import { RoundRobinProxy } from '../support/round-robin-proxy.js';

// Behind a load balancer without sticky sessions, each request of an SSE or long-polling connection
// may reach either node: the node holding the connection runs what the other one forwards.

const NODE_NAME = 'NODE_NAME';
const HUB = '/hubs/relay';
const FALLBACK_TRANSPORTS = ['ServerSentEvents', 'LongPolling'] as const;
const IDENTITY_CHANGED = 'The user identity cannot change during an active connection.';

@Hub(HUB, { longPollingTimeoutMs: 1_000 })
class RelayHub {
  constructor(@Inject(NODE_NAME) private readonly node: string) {}

  echo(value: unknown): unknown {
    return value;
  }

  whoami(@Caller() caller: HubCallerContext): string | null {
    return caller.userIdentifier ?? null;
  }

  /** The node holding the caller's connection. */
  whichNode(): string {
    return this.node;
  }

  async join(room: string, @Caller() caller: HubCallerContext, @Groups() groups: GroupManager): Promise<void> {
    await groups.addToGroup(caller.connectionId, room);
  }

  async say(room: string, text: string, @Clients() clients: HubCallerClients): Promise<void> {
    await clients.group(room).send('Said', room, text);
  }

  async *count(to: number): AsyncGenerator<number> {
    for (let i = 0; i < to; i++) yield i;
  }

  async sum(@UploadStream() numbers: AsyncIterable<number>): Promise<number> {
    let total = 0;
    for await (const n of numbers) total += n;
    return total;
  }

  async askCaller(question: string, @Clients() clients: HubCallerClients): Promise<unknown> {
    return clients.caller.invoke('Answer', question);
  }
}

const QUICK_HUB = '/hubs/relay-quick';
const DISCONNECT_TIMEOUT_MS = 300;

const FRAME_LIMIT = 64 * 1024;

/** A client with no poll open is gone after 300 ms; a poll is answered empty only after 10 s; a POST body holds 64 KiB. */
@Hub(QUICK_HUB, {
  longPollingTimeoutMs: 10_000,
  disconnectTimeoutMs: DISCONNECT_TIMEOUT_MS,
  maximumReceiveFrameSize: FRAME_LIMIT,
  maximumReceiveMessageSize: FRAME_LIMIT / 2,
})
class QuickHub extends RelayHub {}

/** Two nodes on one backplane, sharing the key ring and the JWT secret, and a round-robin proxy in front. */
class TwoNodes {
  private constructor(
    readonly apps: RunningHubApp[],
    readonly factories: RedisLifetimeManagerFactory[],
    readonly proxy: RoundRobinProxy,
    private readonly jwt: JwtService,
  ) {}

  static async start(where: RedisLifetimeManagerOptions, platform: HttpPlatformName = 'express'): Promise<TwoNodes> {
    const channelPrefix = `relay-${Math.random().toString(36).slice(2)}`;
    const factories = ['a', 'b'].map(() => redisLifetimeManager({ ...where, channelPrefix, commandTimeoutMs: 2_000 }));
    const apps = await Promise.all(
      ['a', 'b'].map((node, index) =>
        startHubApp(
          [RelayHub, QuickHub],
          { keys: [Buffer.alloc(32, 9)], authStrategies: ['jwt'], lifetimeManager: factories[index] },
          { imports: [TestAuthModule], providers: [{ provide: NODE_NAME, useValue: node }], platform },
        ),
      ),
    );
    await vi.waitFor(() => factories.forEach((factory) => expect(factory.health().status).toBe('up')), { timeout: 10_000 });
    const proxy = await RoundRobinProxy.start(apps.map((app) => app.baseUrl));
    return new TwoNodes(apps, factories, proxy, apps[0].app.get(JwtService));
  }

  bearer(user: string): Record<string, string> {
    return { Authorization: `Bearer ${this.token(user)}` };
  }

  token(user: string): string {
    return signFor(this.jwt, user);
  }

  hubOf(index: number, path = HUB): string {
    return `${this.apps[index].baseUrl}${path}`;
  }

  get proxiedHub(): string {
    return `${this.proxy.url}${HUB}`;
  }

  /** The hub through the proxy, with a query parameter that tells one client's requests from the others'. */
  proxiedHubFor(client: string): string {
    return `${this.proxiedHub}?client=${client}`;
  }

  /**
   * The client's requests reached both nodes, so one forwarded some to the other, which holds the
   * connection; every send was delivered, and a long-polling client's DELETE ended the connection.
   */
  async expectAlternated(client: string, transport: (typeof FALLBACK_TRANSPORTS)[number]): Promise<void> {
    const requests = () => this.proxy.requests.filter((request) => request.url.includes(`client=${client}&`));
    expect(new Set(requests().map((request) => request.target))).toEqual(new Set([0, 1]));
    // The client's last send (its Close message) may still be on its way when its stop resolves.
    await vi.waitFor(() => {
      const posts = requests().filter((request) => request.method === 'POST');
      expect(posts.map((request) => request.status)).toEqual(posts.map(() => 200));
      const deletes = requests().filter((request) => request.method === 'DELETE');
      expect(deletes.map((request) => request.status)).toEqual(transport === 'LongPolling' ? [202] : []);
    });
  }

  async close(): Promise<void> {
    await this.proxy.close();
    await Promise.all(this.apps.map((app) => app.close()));
  }
}

function invocation(id: string, target: string, ...args: unknown[]): string {
  return `${JSON.stringify({ type: 1, invocationId: id, target, arguments: args })}${RS}`;
}

describeWithRedis.each(HTTP_PLATFORMS)('SSE and long polling behind a round-robin proxy in front of two %s nodes on one Redis', (platform) => {
  let redis: RedisServer;
  let nodes: TwoNodes;

  beforeAll(async () => {
    redis = await RedisServer.start();
    nodes = await TwoNodes.start({ url: redis.url }, platform);
  });
  afterAll(async () => {
    await nodes?.close();
    await redis?.stop();
  });

  describe.each(FALLBACK_TRANSPORTS)('over %s', (transport) => {
    const clients = new ClientPool('json', false, transport);
    afterAll(() => clients.stopAll());

    it('connects, invokes, streams both ways, answers client results and stops, its requests alternating between the nodes', async () => {
      const client = await clients.connect(nodes.proxiedHubFor(`alice-${transport}`), { accessTokenFactory: () => nodes.token('alice') }, (connection) =>
        connection.on('Answer', (question: string) => `alice answers ${question}`),
      );
      for (let i = 0; i < 4; i++) await expect(client.invoke('Echo', { i })).resolves.toEqual({ i });
      await expect(client.invoke('Whoami')).resolves.toBe('alice');
      await expect(collect(client.stream('Count', 3))).resolves.toEqual([0, 1, 2]);
      const numbers = new Subject<number>();
      const sum = client.invoke('Sum', numbers);
      for (const n of [1, 2, 3, 4]) numbers.next(n);
      numbers.complete();
      await expect(sum).resolves.toBe(10);
      await expect(client.invoke('AskCaller', 'why?')).resolves.toBe('alice answers why?');
      await client.stop();

      await nodes.expectAlternated(`alice-${transport}`, transport);
    });

    it('delivers a group message to a relayed client and from it, whichever node holds the others', async () => {
      const said: string[][] = [[], [], []];
      const listen = (index: number) => (connection: HubConnection) => connection.on('Said', (_room: string, text: string) => said[index].push(text));
      const relayed = await clients.connect(nodes.proxiedHub, {}, listen(0));
      const onNodes = await Promise.all([0, 1].map((index) => clients.connect(nodes.hubOf(index), {}, listen(index + 1))));
      for (const client of [relayed, ...onNodes]) await client.invoke('Join', `room-${transport}`);
      await relayed.invoke('Say', `room-${transport}`, 'from the relayed client');
      await onNodes[1].invoke('Say', `room-${transport}`, 'from node b');
      await vi.waitFor(() => said.forEach((texts) => expect(texts.toSorted()).toEqual(['from node b', 'from the relayed client'])));
      expect(new Set(await Promise.all(onNodes.map((client) => client.invoke('WhichNode'))))).toEqual(new Set(['a', 'b']));
    });

    it("refuses another user's token with 403 on the node it reaches, and nothing of it is delivered", async () => {
      const alice = await RawFallbackConnection.open(nodes.hubOf(0), transport, nodes.bearer('alice'));
      const { token } = alice.requests;
      const bob = new RawPollingClient(nodes.hubOf(1), token, nodes.bearer('bob'));
      for (const answer of [await bob.poll(), await bob.send(invocation('2', 'Echo', 'from bob')), await bob.remove()]) {
        expect([answer.status, answer.body]).toEqual([403, IDENTITY_CHANGED]);
      }
      // Her own credential on the other node reaches her connection.
      const aliceElsewhere = new RawPollingClient(nodes.hubOf(1), token, nodes.bearer('alice'));
      expect((await aliceElsewhere.send(invocation('3', 'Echo', 'from alice'))).status).toBe(200);
      await alice.until(() => alice.messages.some((message) => message.invocationId === '3'));
      expect(alice.messages.find((message) => message.invocationId === '3')).toMatchObject({ type: 3, result: 'from alice' });
      expect(alice.messages.some((message) => message.invocationId === '2')).toBe(false);
      await alice.stop();
    });
  });

  it('answers a forwarded poll with what the holding node queued, one poll at a time, and ends the connection on a forwarded DELETE', async () => {
    const onA = await RawPollingClient.negotiated(nodes.hubOf(0));
    await onA.connect();
    const onB = new RawPollingClient(nodes.hubOf(1), onA.token);
    expect((await onB.send(invocation('1', 'Echo', 'forwarded'))).status).toBe(200);
    const answered = await onB.poll();
    expect([answered.status, answered.body]).toEqual([200, `{"type":3,"invocationId":"1","result":"forwarded"}${RS}`]);

    // Of two polls, one reaching each node, the later one answers the earlier 204 and gets what comes next.
    const polls = [onB.poll(), onA.poll()];
    expect((await Promise.race(polls)).status).toBe(204);
    expect((await onB.send(invocation('2', 'Echo', 'next'))).status).toBe(200);
    const answers = await Promise.all(polls);
    expect(answers.map((answer) => answer.status).toSorted()).toEqual([200, 204]);
    expect(answers.find((answer) => answer.status === 200)!.body).toBe(`{"type":3,"invocationId":"2","result":"next"}${RS}`);
    expect((await onB.remove()).status).toBe(202);
    // Ended on every node.
    for (const client of [onA, onB]) expect((await client.poll()).status).toBe(404);
    expect((await onB.send(invocation('3', 'Echo', 'late'))).status).toBe(404);
  });

  it('refuses a POST body over maximumReceiveFrameSize with 413 on the node it reaches, forwards none of it, and ends the connection', async () => {
    const alice = await RawFallbackConnection.open(nodes.hubOf(0, QUICK_HUB), 'ServerSentEvents');
    const onB = new RawPollingClient(nodes.hubOf(1, QUICK_HUB), alice.requests.token);
    const tooLarge = await onB.send(invocation('1', 'Echo', 'x'.repeat(FRAME_LIMIT)));
    expect([tooLarge.status, tooLarge.body]).toEqual([413, 'Payload Too Large']);
    expect(alice.messages.some((message) => message.invocationId === '1')).toBe(false);
    await vi.waitFor(async () => expect((await onB.send(invocation('2', 'Echo', 'after'))).status).toBe(404));
  });

  it('cancels a forwarded poll on the holding node when its client leaves: the disconnect timeout runs from then', async () => {
    const onA = await RawPollingClient.negotiated(nodes.hubOf(0, QUICK_HUB));
    await onA.connect();
    const onB = new RawPollingClient(nodes.hubOf(1, QUICK_HUB), onA.token);
    const leaving = new AbortController();
    const held = onB.poll({ signal: leaving.signal }).catch(() => undefined);
    // Held open on the holding node, the forwarded poll keeps the connection past its disconnect timeout.
    await sleep(4 * DISCONNECT_TIMEOUT_MS);
    expect((await onA.send('')).status).toBe(200);
    leaving.abort();
    await held;
    // Long before that poll's 10 s timeout, the holding node has no poll open and ends the connection.
    await vi.waitFor(async () => expect((await onA.send('')).status).toBe(404), { timeout: 5_000, interval: 100 });
  });
});

describeWithRedis('long polling through two nodes when the node holding the connection goes away mid-poll', () => {
  let redis: RedisServer;
  let nodes: TwoNodes;

  beforeAll(async () => {
    redis = await RedisServer.start();
    nodes = await TwoNodes.start({ url: redis.url });
  });
  afterAll(async () => {
    await nodes?.close();
    await redis?.stop();
  });

  it('answers the held poll 404 and the client reconnects through the node left', async () => {
    const client = new HubConnectionBuilder()
      .withUrl(nodes.proxiedHub, { transport: HttpTransportType.LongPolling })
      .withAutomaticReconnect([0, 100, 200, 500, 1_000])
      .configureLogging(LogLevel.None)
      .build();
    await client.start();
    const owner = (await client.invoke<string>('WhichNode')) === 'a' ? 0 : 1;
    const survivor = 1 - owner;
    // Idle, the client's polls alternate between the nodes: wait for one held on the other node.
    await vi.waitFor(() => {
      const last = nodes.proxy.requests.at(-1)!;
      expect([last.method, last.target, last.status]).toEqual(['GET', survivor, undefined]);
    }, { timeout: 10_000 });
    const reconnected = new Promise<void>((resolve) => client.onreconnected(() => resolve()));
    // The owner's backplane is gone (as with a crash), and the balancer stops sending it requests.
    nodes.proxy.drop(owner);
    await nodes.factories[owner].managerFor(HUB)!.dispose();

    await reconnected;
    expect(nodes.proxy.requests.some((request) => request.method === 'GET' && request.target === survivor && request.status === 404)).toBe(true);
    await expect(client.invoke('WhichNode')).resolves.toBe(survivor === 0 ? 'a' : 'b');
    await client.stop();
  });
});

describeWithRedis('SSE and long polling behind a round-robin proxy in front of two nodes on a Redis Cluster', () => {
  let cluster: RedisCluster;
  let nodes: TwoNodes;

  beforeAll(async () => {
    cluster = await RedisCluster.start({ masters: 3 });
    nodes = await TwoNodes.start({ cluster: { nodes: cluster.startupNodes } });
  });
  afterAll(async () => {
    await nodes?.close();
    await cluster?.stop();
  });

  it.each(FALLBACK_TRANSPORTS)('connects, invokes and stops over %s, its requests alternating between the nodes', async (transport) => {
    const clients = new ClientPool('json', false, transport);
    const client = await clients.connect(nodes.proxiedHubFor(`carol-${transport}`), { accessTokenFactory: () => nodes.token('carol') });
    for (let i = 0; i < 4; i++) await expect(client.invoke('Echo', i)).resolves.toBe(i);
    await expect(client.invoke('Whoami')).resolves.toBe('carol');
    const said = nextCall(client, 'Said');
    await client.invoke('Join', 'cluster-room');
    await client.invoke('Say', 'cluster-room', 'hello');
    await expect(said).resolves.toEqual(['cluster-room', 'hello']);
    await client.stop();
    await nodes.expectAlternated(`carol-${transport}`, transport);
  });
});
