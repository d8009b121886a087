import { JwtService } from '@nestjs/jwt';
import { redisLifetimeManager, type SignalRModuleOptions } from 'nestjs-signalr';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { ClassicGroupsTokens } from '../../../src/security/classic-groups-tokens.js';
import { TokenService } from '../../../src/security/token-service.js';
import { ClientPool, nextCall } from '../../support/client.js';
import { startHubApp, type RunningHubApp } from '../../support/hub-app.js';
import { signFor, TestAuthModule } from '../../support/jwt-auth.js';
import { describeWithRedis, RedisServer } from '../../support/redis-server.js';
import { CLASSIC_HUBS } from './classic-hubs.js';

const CHAT = encodeURIComponent(JSON.stringify([{ name: 'chathub' }]));

interface PersistentResponse {
  readonly C: string;
  readonly G?: string;
  readonly M: { readonly H?: string; readonly M?: string; readonly A?: unknown[]; readonly I?: string; readonly R?: unknown }[];
}

/**
 * A long-polling classic client on the wire, as the jQuery client speaks it, that can be pointed
 * at any node: what the tests need to send one connection's requests to two nodes.
 */
class RawClassicClient {
  messageId = '';
  groupsToken = '';
  readonly calls: unknown[][] = [];
  private invocationId = 0;
  private token = '';

  constructor(private readonly accessToken: string) {}

  /** Negotiates, connects and starts on `node`. */
  async open(node: RunningHubApp): Promise<this> {
    await this.negotiate(node);
    await this.receive(node, 'connect');
    await this.start(node);
    return this;
  }

  private async negotiate(node: RunningHubApp): Promise<void> {
    const response = await fetch(`${node.baseUrl}/signalr/negotiate?clientProtocol=2.1&connectionData=${CHAT}`, { headers: this.headers });
    this.token = ((await response.json()) as { ConnectionToken: string }).ConnectionToken;
  }

  /** `/connect`, `/reconnect` or `/poll`; records client calls, the cursor and the groups token. */
  async receive(node: RunningHubApp, operation: 'connect' | 'reconnect' | 'poll', groupsToken = this.groupsToken): Promise<number> {
    const body = new URLSearchParams({ messageId: this.messageId, groupsToken });
    const response = await fetch(this.url(node, operation), { method: 'POST', headers: { ...this.headers, 'Content-Type': 'application/x-www-form-urlencoded' }, body });
    if (response.status !== 200) return response.status;
    const persistent = (await response.json()) as PersistentResponse;
    this.messageId = persistent.C;
    if (persistent.G) this.groupsToken = persistent.G;
    for (const message of persistent.M) if (message.M) this.calls.push(message.A ?? []);
    return 200;
  }

  private async start(node: RunningHubApp): Promise<void> {
    expect(await (await fetch(this.url(node, 'start'), { headers: this.headers })).json()).toEqual({ Response: 'started' });
  }

  /** Invokes a chatHub method over `/send` and polls until its result arrived. */
  async invoke(node: RunningHubApp, method: string, ...args: unknown[]): Promise<void> {
    const id = String(this.invocationId++);
    const data = JSON.stringify({ H: 'chathub', M: method, A: args, I: id });
    const sent = await fetch(this.url(node, 'send'), { method: 'POST', headers: { ...this.headers, 'Content-Type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ data }) });
    expect(sent.status).toBe(200);
    await vi.waitFor(async () => expect(await this.pollFor(node, id)).toBe(true), { timeout: 5000 });
  }

  private async pollFor(node: RunningHubApp, id: string): Promise<boolean> {
    const body = new URLSearchParams({ messageId: this.messageId, groupsToken: this.groupsToken });
    const response = await fetch(this.url(node, 'poll'), { method: 'POST', headers: { ...this.headers, 'Content-Type': 'application/x-www-form-urlencoded' }, body });
    const persistent = (await response.json()) as PersistentResponse;
    this.messageId = persistent.C;
    if (persistent.G) this.groupsToken = persistent.G;
    for (const message of persistent.M) if (message.M) this.calls.push(message.A ?? []);
    return persistent.M.some((message) => message.I === id);
  }

  private get headers(): Record<string, string> {
    return { Authorization: `Bearer ${this.accessToken}` };
  }

  private url(node: RunningHubApp, operation: string): string {
    return `${node.baseUrl}/signalr/${operation}?transport=longPolling&clientProtocol=2.1&connectionToken=${encodeURIComponent(this.token)}&connectionData=${CHAT}`;
  }
}

describeWithRedis('the classic endpoint on two nodes over Redis', () => {
  let redis: RedisServer;
  let nodes: RunningHubApp[] = [];
  let jwt: JwtService;
  const modernClients = new ClientPool();

  beforeAll(async () => {
    redis = await RedisServer.start();
    const channelPrefix = `classic-${Math.random().toString(36).slice(2)}`;
    const keys = [randomBytes(32).toString('base64')];
    const factories = [0, 1].map(() => redisLifetimeManager({ url: redis.url, channelPrefix }));
    const options = (lifetimeManager: SignalRModuleOptions['lifetimeManager']): SignalRModuleOptions => ({ authStrategies: ['jwt'], classic: true, keys, lifetimeManager });
    nodes = await Promise.all(factories.map((factory) => startHubApp(CLASSIC_HUBS, options(factory), { imports: [TestAuthModule] })));
    await vi.waitFor(() => factories.forEach((factory) => expect(factory.health().status).toBe('up')), { timeout: 5000 });
    jwt = nodes[0].app.get(JwtService);
  });

  afterAll(async () => {
    await modernClients.stopAll();
    await Promise.all(nodes.map((node) => node.close()));
    await redis?.stop();
  });

  it('puts a classic client on one node and a modern one on the other in one room', async () => {
    const alice = await new RawClassicClient(signFor(jwt, 'alice')).open(nodes[0]);
    await alice.invoke(nodes[0], 'joinRoom', 'across');
    const bob = await modernClients.connect(`${nodes[1].baseUrl}/hubs/chat`, { accessTokenFactory: () => signFor(jwt, 'bob') });
    await bob.invoke('JoinRoom', 'across');
    await bob.invoke('SendToRoom', 'across', 'from node 1');
    await vi.waitFor(async () => {
      await alice.receive(nodes[0], 'poll');
      expect(alice.calls).toContainEqual(['across', 'bob', 'from node 1']);
    }, { timeout: 5000 });
    const heard = nextCall(bob, 'ReceiveMessage');
    await alice.invoke(nodes[0], 'sendToRoom', 'across', 'from node 0');
    expect(await heard).toEqual(['across', 'alice', 'from node 0']);
  });

  it('resumes a connection on another node from its groups token, and a replayed older token does not restore a group left since', async () => {
    const alice = await new RawClassicClient(signFor(jwt, 'alice')).open(nodes[0]);
    await alice.invoke(nodes[0], 'joinRoom', 'kept');
    await alice.invoke(nodes[0], 'joinRoom', 'left');
    const older = alice.groupsToken;
    expect(older).not.toBe('');
    expect(older).not.toContain('left');
    await alice.invoke(nodes[0], 'leaveRoom', 'left');
    expect(alice.groupsToken).not.toBe(older);
    // The client's next request reaches the other node, with a token from before the leave.
    expect(await alice.receive(nodes[1], 'reconnect', older)).toBe(200);
    const bob = await modernClients.connect(`${nodes[1].baseUrl}/hubs/chat`, { accessTokenFactory: () => signFor(jwt, 'bob') });
    await bob.invoke('SendToRoom', 'left', 'not for alice');
    await bob.invoke('SendToRoom', 'kept', 'for alice');
    await vi.waitFor(async () => {
      await alice.receive(nodes[1], 'poll');
      expect(alice.calls).toContainEqual(['kept', 'bob', 'for alice']);
    }, { timeout: 5000 });
    expect(alice.calls).not.toContainEqual(['left', 'bob', 'not for alice']);
  });

  it('refuses to resume with a groups token of another connection, or an expired one', async () => {
    const alice = await new RawClassicClient(signFor(jwt, 'alice')).open(nodes[0]);
    const other = await new RawClassicClient(signFor(jwt, 'alice')).open(nodes[0]);
    await other.invoke(nodes[0], 'joinRoom', 'theirs');
    expect(await alice.receive(nodes[1], 'reconnect', other.groupsToken)).toBe(400);
    const tokens = new ClassicGroupsTokens(nodes[0].app.get(TokenService));
    const expired = tokens.issue({ connectionId: 'unknown', userKey: 'alice', groups: { chathub: ['theirs'] }, membershipVersion: 9 }, 1000, Date.now() - 5000);
    expect(await alice.receive(nodes[1], 'reconnect', expired)).toBe(400);
  });
});
