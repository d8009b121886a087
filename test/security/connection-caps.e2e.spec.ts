import { HubConnectionState } from '@microsoft/signalr';
import type { SignalRModuleOptions } from 'nestjs-signalr';
import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClientPool, connectStatefulClient } from '../support/client.js';
import { CuttingProxy } from '../support/cutting-proxy.js';
import { startHubApp, type RunningHubApp } from '../support/hub-app.js';
import { signFor, TestAuthModule } from '../support/jwt-auth.js';
import { negotiate, RawHubSocket, RS, upgradeResponse, upgradeStatus } from '../support/raw-client.js';
import { sleep, waitFor } from '../support/wait.js';
import { bearer, connectionTokenOf, endedOn, jwt, resumableClient, resumeUrl, startNode } from '../reconnect/resumption-support.js';
import { HubCodeRuns, NotBannedPolicy, OpenHub, PrivateHub } from './security-hubs.js';

const PER_USER = 'Too many connections for this user.';
const PER_ADDRESS = 'Too many connections from this address.';
const TOTAL = 'This server has reached its connection limit.';
const PATIENCE_MS = 5000;

/** A server with the caps under test, serving two hubs that share them. */
class CappedServer {
  readonly clients = new ClientPool();

  private constructor(
    readonly server: RunningHubApp,
    readonly runs: HubCodeRuns,
  ) {}

  static async start(options: SignalRModuleOptions): Promise<CappedServer> {
    const server = await startHubApp([OpenHub, PrivateHub, HubCodeRuns, NotBannedPolicy], { authStrategies: ['jwt'], ...options }, {
      imports: [TestAuthModule],
    });
    return new CappedServer(server, server.app.get(HubCodeRuns));
  }

  url(hub: 'open' | 'private'): string {
    return `${this.server.baseUrl}/hubs/${hub}`;
  }

  token(user: string): string {
    return signFor(jwt, user);
  }

  bearer(user: string): Record<string, string> {
    return { Authorization: `Bearer ${this.token(user)}` };
  }

  /** Connects the official client, as `user` or anonymously, with extra request headers. */
  connect(hub: 'open' | 'private', user?: string, headers: Record<string, string> = {}) {
    const credential = user === undefined ? undefined : this.token(user);
    return this.clients.connect(this.url(hub), { headers, accessTokenFactory: credential ? () => credential : undefined });
  }

  /** What a client over a cap meets, at negotiate and at an upgrade without negotiate. */
  async refusals(hub: 'open' | 'private', headers: Record<string, string>) {
    const negotiated = await fetch(`${this.url(hub)}/negotiate?negotiateVersion=1`, { method: 'POST', headers });
    const upgraded = await upgradeResponse(this.url(hub), headers);
    return [
      { status: negotiated.status, body: await negotiated.text(), retryAfter: negotiated.headers.get('retry-after') },
      { status: upgraded.status, body: upgraded.body, retryAfter: upgraded.headers['retry-after'] },
    ];
  }

  /** Stops a client and waits until the server has ended its connection. */
  async stop(connection: { stop(): Promise<void> }): Promise<void> {
    const ended = this.runs.disconnected;
    await connection.stop();
    await waitFor(() => this.runs.disconnected > ended, PATIENCE_MS);
  }

  async close(): Promise<void> {
    await this.clients.stopAll();
    await this.server.close();
  }
}

const refused = (status: number, body: string) => ({ status, body, retryAfter: '10' });

describe('connection caps: per user', () => {
  let capped: CappedServer;

  beforeAll(async () => {
    capped = await CappedServer.start({ maximumConnectionsPerUser: 2 });
  });

  afterAll(() => capped.close());

  it("refuses a user's connection one past the cap, over all hubs, with 429 at negotiate and upgrade, before any hub code", async () => {
    await capped.connect('open', 'alice');
    await capped.connect('private', 'alice');
    expect(capped.runs.count).toBe(2);
    await expect(capped.connect('open', 'alice')).rejects.toThrow(`${PER_USER}: Status code '429'`);
    expect(await capped.refusals('private', capped.bearer('alice'))).toEqual([refused(429, PER_USER), refused(429, PER_USER)]);
    const withoutNegotiate = capped.clients.connect(capped.url('open'), { skipNegotiation: true, accessTokenFactory: () => capped.token('alice') });
    await expect(withoutNegotiate).rejects.toThrow('WebSocket failed to connect');
    expect(capped.runs.count).toBe(2);
  });

  it('counts each user apart, and anonymous connections not at all', async () => {
    const before = capped.runs.count;
    await capped.connect('open', 'bob');
    await capped.connect('private', 'bob');
    for (let i = 0; i < 3; i++) await capped.connect('open');
    expect(capped.runs.count).toBe(before + 5);
  });

  it('gives the slot back when a connection closes: the next one is admitted', async () => {
    const carol = await capped.connect('open', 'carol');
    await capped.connect('open', 'carol');
    expect((await upgradeStatus(capped.url('open'), capped.bearer('carol'))).status).toBe(429);
    await capped.stop(carol);
    const again = await capped.connect('private', 'carol');
    expect(again.state).toBe(HubConnectionState.Connected);
  });
});

describe('connection caps: per address', () => {
  let direct: CappedServer;
  let proxied: CappedServer;

  beforeAll(async () => {
    [direct, proxied] = await Promise.all([
      CappedServer.start({ maximumConnectionsPerAddress: 2 }),
      CappedServer.start({ maximumConnectionsPerAddress: 1, trustedProxies: ['127.0.0.1'] }),
    ]);
  });

  afterAll(() => Promise.all([direct.close(), proxied.close()]));

  it('refuses a connection one past the cap from one address, whoever makes it, with 429, before any hub code', async () => {
    const anonymous = await direct.connect('open');
    await direct.connect('private', 'alice');
    for (const headers of [{}, direct.bearer('bob')]) {
      expect(await direct.refusals('open', headers)).toEqual([refused(429, PER_ADDRESS), refused(429, PER_ADDRESS)]);
    }
    expect(direct.runs.count).toBe(2);
    await direct.stop(anonymous);
    await direct.connect('open');
  });

  it('believes X-Forwarded-For only from a trusted proxy, and only the address that proxy appended', async () => {
    const forged = { 'X-Forwarded-For': '198.51.100.1' };
    await expect(direct.connect('open', undefined, forged)).rejects.toThrow(`${PER_ADDRESS}: Status code '429'`);

    await proxied.connect('open', undefined, { 'X-Forwarded-For': '203.0.113.1' });
    const spoofed = { 'X-Forwarded-For': '198.51.100.1, 203.0.113.1' };
    expect(await proxied.refusals('open', spoofed)).toEqual([refused(429, PER_ADDRESS), refused(429, PER_ADDRESS)]);
    await proxied.connect('open', undefined, { 'X-Forwarded-For': '203.0.113.2' });
    expect(proxied.runs.count).toBe(2);
  });
});

describe('connection caps: total', () => {
  let capped: CappedServer;

  beforeAll(async () => {
    capped = await CappedServer.start({ maximumConnections: 2 });
  });

  afterAll(() => capped.close());

  it('refuses the connection one past the total, on any hub, with 503 at negotiate and upgrade, before any hub code', async () => {
    const first = await capped.connect('open');
    await capped.connect('private', 'alice');
    await expect(capped.connect('open', 'bob')).rejects.toThrow(`${TOTAL}: Status code '503'`);
    expect(await capped.refusals('open', {})).toEqual([refused(503, TOTAL), refused(503, TOTAL)]);
    expect(await capped.refusals('private', capped.bearer('bob'))).toEqual([refused(503, TOTAL), refused(503, TOTAL)]);
    expect(capped.runs.count).toBe(2);
    await capped.stop(first);
    await capped.connect('private', 'bob');
  });
});

describe('connection caps: upgrades that fail', () => {
  it('give their slot back', async () => {
    const single = await CappedServer.start({ maximumConnections: 1 });
    try {
      // ws answers a bad key itself, after the caps took the slot.
      for (let i = 0; i < 3; i++) expect(await upgradeWithKey(single.url('open'), 'not-a-key')).toBe(400);
      await single.connect('open');
      expect(single.runs.count).toBe(1);
    } finally {
      await single.close();
    }
  });
});

/** The status of an upgrade request carrying `key` as its Sec-WebSocket-Key. */
function upgradeWithKey(url: string, key: string): Promise<number | undefined> {
  return new Promise((resolve, reject) => {
    const headers = { Connection: 'Upgrade', Upgrade: 'websocket', 'Sec-WebSocket-Version': '13', 'Sec-WebSocket-Key': key };
    const request = httpRequest(url, { headers });
    request.on('response', (response) => {
      response.resume();
      resolve(response.statusCode);
    });
    request.on('upgrade', (_response, socket) => {
      socket.destroy();
      resolve(101);
    });
    request.on('error', reject);
    request.end();
  });
}

describe('connection caps: stateful reconnect', () => {
  let capped: CappedServer;
  let proxy: CuttingProxy;

  beforeAll(async () => {
    capped = await CappedServer.start({ maximumConnectionsPerUser: 1 });
    proxy = await CuttingProxy.start((capped.server.app.getHttpServer().address() as AddressInfo).port);
  });

  afterAll(async () => {
    await proxy.close();
    await capped.close();
  });

  it('keeps one slot for a connection across its reconnects, and gives it back at its end', async () => {
    const alice = capped.token('alice');
    const client = await connectStatefulClient(`${proxy.url}/hubs/open`, 'json', () => alice);
    const id = client.connectionId;
    proxy.cutAll();
    // A reconnect counted as a second connection would be refused, and the invocation lost with it.
    await expect(client.invoke('Ping')).resolves.toBe('pong');
    expect(client.connectionId).toBe(id);
    expect(capped.runs.count).toBe(1);
    expect(await capped.refusals('open', capped.bearer('alice'))).toEqual([refused(429, PER_USER), refused(429, PER_USER)]);
    await capped.stop(client);
    await capped.connect('open', 'alice');
  });

  it('holds the slot of a connection waiting for its client to come back', async () => {
    const headers = capped.bearer('bob');
    const { connectionToken } = await negotiate(capped.url('open'), { headers });
    const dropped = await RawHubSocket.open(capped.url('open'), connectionToken, headers);
    dropped.send(`{"protocol":"json","version":2}${RS}`);
    await dropped.nextFrame();
    dropped.socket.terminate();
    await dropped.closed;
    // Gives the server the moment it takes to notice the drop (no close frame: it keeps the connection).
    await sleep(100);
    expect(await capped.refusals('open', headers)).toEqual([refused(429, PER_USER), refused(429, PER_USER)]);
    const back = await RawHubSocket.open(capped.url('open'), connectionToken, headers);
    const ended = capped.runs.disconnected;
    back.socket.close();
    await waitFor(() => capped.runs.disconnected > ended, PATIENCE_MS);
    await capped.connect('open', 'bob');
  });
});

describe('connection caps: resuming a connection another node held', () => {
  it('takes a slot on the node that takes the connection over', async () => {
    const [first, second] = await Promise.all([startNode(), startNode({ maximumConnectionsPerUser: 1 })]);
    try {
      const moving = await resumableClient(`${first.baseUrl}/hubs/rooms`, 'json', () => signFor(jwt, 'alice'));
      const takeover = resumeUrl(second, connectionTokenOf(moving), moving.tokens.at(-1)!);
      const holder = await resumableClient(`${second.baseUrl}/hubs/rooms`, 'json', () => signFor(jwt, 'alice'));
      expect(await upgradeStatus(takeover, bearer('alice'))).toEqual({ status: 429, body: PER_USER });
      const holderId = holder.connection.connectionId;
      await holder.connection.stop();
      await endedOn(second, holderId);
      expect((await upgradeStatus(takeover, bearer('alice'))).status).toBe(101);
      await moving.connection.stop();
    } finally {
      await Promise.all([first.close(), second.close()]);
    }
  });
});
