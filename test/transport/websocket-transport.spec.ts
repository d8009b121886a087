import { JwtService } from '@nestjs/jwt';
import { InProcessConnectionRegistry, TokenService, type SignalRModuleOptions } from 'nestjs-signalr';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { IDENTITY_CHANGED } from '../../src/security/connection-claim.js';
import { startHubApp, type RunningHubApp } from '../support/hub-app.js';
import { signFor, TestAuthModule } from '../support/jwt-auth.js';
import { negotiate, RawHubSocket, upgradeResponse, upgradeStatus } from '../support/raw-client.js';
import { waitFor } from '../support/wait.js';
import { HubCodeRuns, NotBannedPolicy, OpenHub, PrivateHub } from '../security/security-hubs.js';

const UNKNOWN = { status: 404, body: 'No Connection with that ID' };
const IN_USE = { status: 409, body: 'Connection ID already in use' };

/** A node serving the open and the private hub, with JWT authentication and the options under test. */
class Node {
  private readonly sockets: RawHubSocket[] = [];

  private constructor(
    readonly server: RunningHubApp,
    readonly runs: HubCodeRuns,
    private readonly jwt: JwtService,
  ) {}

  static async start(options: SignalRModuleOptions = {}): Promise<Node> {
    const server = await startHubApp([OpenHub, PrivateHub, HubCodeRuns, NotBannedPolicy], { authStrategies: ['jwt'], ...options }, {
      imports: [TestAuthModule],
    });
    return new Node(server, server.app.get(HubCodeRuns), server.app.get(JwtService));
  }

  hubUrl(hub: 'open' | 'private' = 'open'): string {
    return `${this.server.baseUrl}/hubs/${hub}`;
  }

  withToken(token: string, hub: 'open' | 'private' = 'open', extraQuery = ''): string {
    return `${this.hubUrl(hub)}?id=${encodeURIComponent(token)}${extraQuery}`;
  }

  as(user: string): Record<string, string> {
    return { Authorization: `Bearer ${signFor(this.jwt, user)}` };
  }

  async token(user?: string, hub: 'open' | 'private' = 'open'): Promise<string> {
    return (await negotiate(this.hubUrl(hub), { headers: user ? this.as(user) : {} })).connectionToken;
  }

  /** A connection past its handshake, kept until `endAll`. */
  async connected(user?: string, token?: string): Promise<RawHubSocket> {
    const raw = await RawHubSocket.connected(this.hubUrl(), token, user ? this.as(user) : {});
    this.sockets.push(raw);
    return raw;
  }

  /** Closes the connections and waits until the hub has seen each of them end. */
  async endAll(): Promise<void> {
    const ending = this.sockets.splice(0);
    const expected = this.runs.disconnected + ending.length;
    for (const raw of ending) raw.socket.close();
    await waitFor(() => this.runs.disconnected >= expected, 5000);
  }
}

describe('WebSocketTransport: the connection token of an upgrade', () => {
  let node: Node;

  beforeAll(async () => (node = await Node.start()));
  afterEach(() => node.endAll());
  afterAll(() => node.server.close());

  it('opens a socket with the token negotiate issued, and without any when the client skipped negotiate', async () => {
    expect((await upgradeStatus(node.withToken(await node.token()))).status).toBe(101);
    expect((await upgradeStatus(node.hubUrl())).status).toBe(101);
    expect((await upgradeStatus(node.withToken(await node.token('alice', 'private'), 'private'), node.as('alice'))).status).toBe(101);
  });

  it("answers with the gatekeeper's refusal before it reads any token", async () => {
    expect(await upgradeStatus(node.withToken('not-a-token', 'private'))).toEqual({ status: 401, body: 'Unauthorized' });
    expect(await upgradeStatus(node.withToken('not-a-token'), { Origin: 'https://evil.example.test' })).toEqual({ status: 403, body: 'Forbidden' });
  });

  it('404 for a token that is not ours, tampered with, or issued for another hub', async () => {
    const token = await node.token();
    const tampered = `${token.slice(0, 10)}${token[10] === 'A' ? 'B' : 'A'}${token.slice(11)}`;
    for (const presented of ['not-a-token', tampered]) expect(await upgradeStatus(node.withToken(presented))).toEqual(UNKNOWN);
    const ofThePrivateHub = await node.token('alice', 'private');
    expect(await upgradeStatus(node.withToken(ofThePrivateHub), node.as('alice'))).toEqual(UNKNOWN);
  });

  it("403 when another user, or nobody, presents a user's token, and when a user presents an anonymous one", async () => {
    const alices = await node.token('alice');
    const identityChanged = { status: 403, body: IDENTITY_CHANGED };
    expect(await upgradeStatus(node.withToken(alices), node.as('bob'))).toEqual(identityChanged);
    expect(await upgradeStatus(node.withToken(alices))).toEqual(identityChanged);
    expect(await upgradeStatus(node.withToken(await node.token()), node.as('alice'))).toEqual(identityChanged);
    expect(node.runs.count).toBe(0);
  });

  it('409 for a second socket on a live connection, 404 once it ended', async () => {
    const token = await node.token('alice');
    await node.connected('alice', token);
    expect(await upgradeStatus(node.withToken(token), node.as('alice'))).toEqual(IN_USE);
    await node.endAll();
    expect(await upgradeStatus(node.withToken(token), node.as('alice'))).toEqual(UNKNOWN);
  });

  it('treats a resumption of a connection this node holds as a reconnect, and refuses a groups token that is not ours', async () => {
    const live = await node.token();
    await node.connected(undefined, live);
    expect(await upgradeStatus(node.withToken(live, 'open', '&resume=not-a-groups-token&received=0'))).toEqual(IN_USE);
    const elsewhere = await node.token();
    expect(await upgradeStatus(node.withToken(elsewhere, 'open', '&resume=not-a-groups-token&received=0'))).toEqual(UNKNOWN);
  });
});

describe('WebSocketTransport: connection caps at the upgrade', () => {
  let node: Node;
  const PER_USER = 'Too many connections for this user.';
  const TOTAL = 'This server has reached its connection limit.';

  beforeAll(async () => (node = await Node.start({ maximumConnections: 2, maximumConnectionsPerUser: 1 })));
  afterEach(() => node.endAll());
  afterAll(() => node.server.close());

  it('429 past the per-user cap, 503 past the total, each with Retry-After', async () => {
    await node.connected('alice');
    expect(await upgradeResponse(node.hubUrl(), node.as('alice'))).toMatchObject({ status: 429, body: PER_USER, headers: { 'retry-after': '10' } });
    await node.connected('bob');
    expect(await upgradeResponse(node.hubUrl(), node.as('carol'))).toMatchObject({ status: 503, body: TOTAL, headers: { 'retry-after': '10' } });
    expect(await upgradeResponse(node.hubUrl())).toMatchObject({ status: 503, body: TOTAL });
  });

  it('gives back the slot of an upgrade it refused after taking it', async () => {
    const token = await node.token('alice');
    await node.connected('alice', token);
    await node.endAll();
    // The token is still young: only the registry knows its connection ended, and it is asked holding a slot.
    for (let attempt = 0; attempt < 3; attempt++) expect(await upgradeStatus(node.withToken(token), node.as('alice'))).toEqual(UNKNOWN);
    // Both fit under the total of two only if the refusals kept no slot.
    await node.connected('alice');
    await node.connected('bob');
  });
});

describe('WebSocketTransport: a connection registry shared with another node', () => {
  let holder: Node;
  let other: Node;

  beforeAll(async () => {
    // One key ring and one registry: what two nodes behind a load balancer share (Redis, in production).
    const registry = new InProcessConnectionRegistry();
    const shared: SignalRModuleOptions = { keys: [TokenService.generateKey()], connectionRegistry: () => registry };
    [holder, other] = await Promise.all([Node.start(shared), Node.start(shared)]);
  });
  afterAll(() => Promise.all([holder.server.close(), other.server.close()]));

  it('409 on the other node while the connection is live on its holder, 404 there once it ended', async () => {
    const token = await holder.token('alice');
    await holder.connected('alice', token);
    expect(await upgradeStatus(other.withToken(token), other.as('alice'))).toEqual(IN_USE);
    await holder.endAll();
    expect(await upgradeStatus(other.withToken(token), other.as('alice'))).toEqual(UNKNOWN);
  });
});
