import { Subject } from '@microsoft/signalr';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSampleApp } from '../../sample-app/bootstrap.js';
import { ClientPool, nextCall, TRANSPORTS_AND_PROTOCOLS } from '../support/client.js';
import { RawEventStream } from '../support/http-transport-client.js';
import { listenOnLoopback, type RunningHubApp } from '../support/hub-app.js';
import { negotiate, upgradeStatus } from '../support/raw-client.js';

describe.each(TRANSPORTS_AND_PROTOCOLS)('sample app over %s with %s (contract: sample-app-contract.md)', (transport, protocol) => {
  let server: RunningHubApp;
  const clients = new ClientPool(protocol, false, transport);
  const login = async (username: string, password = `${username}-pass`, ttlSeconds?: number) => {
    const response = await fetch(`${server.baseUrl}/auth/login`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ username, password, ttlSeconds }),
    });
    return { status: response.status, body: (await response.json()) as { access_token?: string } };
  };
  const tokenOf = async (username: string) => (await login(username)).body.access_token!;
  const connect = async (hub: string, username?: string) => {
    const token = username ? await tokenOf(username) : undefined;
    return clients.connect(`${server.baseUrl}${hub}`, token ? { accessTokenFactory: () => token } : {});
  };

  /** The status of the request that opens a connection over this transport: the upgrade, the event stream, the first poll. */
  const openStatus = async (url: string, headers: Record<string, string> = {}) => {
    if (transport === 'WebSockets') return (await upgradeStatus(url, headers)).status;
    if (transport === 'LongPolling') return (await fetch(url, { headers })).status;
    const stream = await RawEventStream.open(url, headers);
    stream.close();
    return stream.status;
  };

  beforeAll(async () => {
    server = await listenOnLoopback(await createSampleApp({ logger: false }));
  });

  afterAll(async () => {
    await clients.stopAll();
    await server.close();
  });

  it('answers GET /health with 200', async () => {
    expect((await fetch(`${server.baseUrl}/health`)).status).toBe(200);
  });

  it('answers GET /health/backplane with 200 and an in-process backplane without REDIS_URL', async () => {
    const response = await fetch(`${server.baseUrl}/health/backplane`);
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({
      status: 'ok',
      details: { 'signalr-backplane': { status: 'up', backplane: 'in-process' } },
    });
  });

  it('logs the demo users in with a JWT, refuses wrong credentials and bad ttlSeconds', async () => {
    const ok = await login('alice');
    expect(ok.status).toBe(200);
    expect(ok.body.access_token?.split('.')).toHaveLength(3);
    expect((await login('alice', 'wrong')).status).toBe(401);
    expect((await login('nobody', 'x')).status).toBe(401);
    expect((await login('alice', 'alice-pass', 0)).status).toBe(400);
    expect((await login('alice', 'alice-pass', 86_401)).status).toBe(400);
  });

  it('/hubs/public: Ping for anyone; Secret only for signed-in users', async () => {
    const anonymous = await connect('/hubs/public');
    await expect(anonymous.invoke('Ping')).resolves.toBe('pong');
    await expect(anonymous.invoke('Secret')).rejects.toThrow("Failed to invoke 'Secret' because user is unauthorized");
    const alice = await connect('/hubs/public', 'alice');
    await expect(alice.invoke('Secret')).resolves.toBe('secret');
  });

  it('/hubs/chat refuses anonymous negotiate and connect (401)', async () => {
    const response = await fetch(`${server.baseUrl}/hubs/chat/negotiate?negotiateVersion=1`, { method: 'POST' });
    expect(response.status).toBe(401);
    const { connectionToken } = await negotiate(`${server.baseUrl}/hubs/chat`, { headers: { Authorization: `Bearer ${await tokenOf('alice')}` } });
    expect(await openStatus(`${server.baseUrl}/hubs/chat?id=${encodeURIComponent(connectionToken)}`)).toBe(401);
  });

  it('offers WebSockets, ServerSentEvents and LongPolling on both hubs, in that order', async () => {
    for (const hub of ['/hubs/chat', '/hubs/public']) {
      const response = await fetch(`${server.baseUrl}${hub}/negotiate?negotiateVersion=1`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${await tokenOf('alice')}` },
      });
      const { availableTransports } = (await response.json()) as { availableTransports: { transport: string }[] };
      expect(availableTransports.map(({ transport: name }) => name)).toEqual(['WebSockets', 'ServerSentEvents', 'LongPolling']);
    }
  });

  it('/hubs/chat: Whoami names the caller and its roles', async () => {
    const admin = await connect('/hubs/chat', 'admin');
    await expect(admin.invoke('Whoami')).resolves.toEqual({ name: 'admin', roles: ['user', 'admin'] });
  });

  it('/hubs/chat: rooms check names, the admins room and membership on the server', async () => {
    const alice = await connect('/hubs/chat', 'alice');
    const bob = await connect('/hubs/chat', 'bob');
    const admin = await connect('/hubs/chat', 'admin');
    await expect(alice.invoke('JoinRoom', 'Bad Name!')).rejects.toThrow('HubException');
    await expect(alice.invoke('JoinRoom', 'admins')).rejects.toThrow('not allowed');
    await expect(admin.invoke('JoinRoom', 'admins')).resolves.toBeNull();
    await expect(bob.invoke('SendToRoom', 'general', 'hi')).rejects.toThrow('not a member');
    await alice.invoke('JoinRoom', 'general');
    await bob.invoke('JoinRoom', 'general');
    const received = nextCall(bob, 'ReceiveMessage');
    await alice.invoke('SendToRoom', 'general', 'hello');
    await expect(received).resolves.toEqual(['general', 'alice', 'hello']);
    await bob.invoke('LeaveRoom', 'general');
    await expect(bob.invoke('SendToRoom', 'general', 'again')).rejects.toThrow('not a member');
  });

  it('/hubs/chat: SendToRoom refuses a text over 2,000 characters, naming no part of it, and delivers nothing', async () => {
    const alice = await connect('/hubs/chat', 'alice');
    const bob = await connect('/hubs/chat', 'bob');
    await alice.invoke('JoinRoom', 'long-texts');
    await bob.invoke('JoinRoom', 'long-texts');
    const firstReceived = nextCall(bob, 'ReceiveMessage');
    const tooLong = `${'x'.repeat(1_990)}0123456789A`;
    const refusal = (await alice.invoke('SendToRoom', 'long-texts', tooLong).catch((e: Error) => e)) as Error;
    expect(refusal.message).toContain('too long');
    expect(refusal.message).not.toContain('0123456789');
    // Members receive a room's messages in the order they were sent: the refused one would come first.
    const longest = 'y'.repeat(2_000);
    await alice.invoke('SendToRoom', 'long-texts', longest);
    await expect(firstReceived).resolves.toEqual(['long-texts', 'alice', longest]);
    // Characters, not UTF-16 units: 2,000 emoji are 4,000 units.
    const emoji = '\u{1F600}'.repeat(2_000);
    const emojiReceived = nextCall(bob, 'ReceiveMessage');
    await alice.invoke('SendToRoom', 'long-texts', emoji);
    await expect(emojiReceived).resolves.toEqual(['long-texts', 'alice', emoji]);
  });

  it('/hubs/chat: Announce is for admins only and reaches every connection', async () => {
    const alice = await connect('/hubs/chat', 'alice');
    const admin = await connect('/hubs/chat', 'admin');
    await expect(alice.invoke('Announce', 'hi all')).rejects.toThrow("Failed to invoke 'Announce' because user is unauthorized");
    const announced = nextCall(alice, 'Announcement');
    await admin.invoke('Announce', 'maintenance at noon');
    await expect(announced).resolves.toEqual(['admin', 'maintenance at noon']);
  });

  it('/hubs/chat: Echo validates its payload and names the broken field, never its value', async () => {
    const client = await connect('/hubs/chat', 'bob');
    await expect(client.invoke('Echo', { text: 'hi there' })).resolves.toBe('hi there');
    const empty = (await client.invoke('Echo', { text: '' }).catch((e: Error) => e)) as Error;
    expect(empty.message).toContain('text');
    const long = 'y'.repeat(501);
    const tooLong = (await client.invoke('Echo', { text: long }).catch((e: Error) => e)) as Error;
    expect(tooLong.message).toContain('text');
    expect(tooLong.message).not.toContain(long);
  });

  it('/hubs/chat: Fail shows only the generic text', async () => {
    const client = await connect('/hubs/chat', 'bob');
    const error = (await client.invoke('Fail').catch((e: Error) => e)) as Error;
    expect(error.message).toBe("An unexpected error occurred invoking 'Fail' on the server.");
  });

  it('/hubs/chat: Counter streams and Sum adds an upload stream', async () => {
    const client = await connect('/hubs/chat', 'alice');
    const items: number[] = [];
    await new Promise<void>((resolve, reject) =>
      client.stream<number>('Counter', 4, 1).subscribe({ next: (n) => items.push(n), complete: resolve, error: reject }),
    );
    expect(items).toEqual([0, 1, 2, 3]);
    const numbers = new Subject<number>();
    const sum = client.invoke('Sum', numbers);
    [5, 6, 7].forEach((n) => numbers.next(n));
    numbers.complete();
    await expect(sum).resolves.toBe(18);
  });

  it('refuses foreign origins (403) and binds connection tokens to the user', async () => {
    const foreign = await fetch(`${server.baseUrl}/hubs/public/negotiate?negotiateVersion=1`, {
      method: 'POST',
      headers: { Origin: 'https://evil.example.test' },
    });
    expect(foreign.status).toBe(403);
    const alice = await tokenOf('alice');
    const hubUrl = `${server.baseUrl}/hubs/chat`;
    const { connectionToken } = await negotiate(hubUrl, { headers: { Authorization: `Bearer ${alice}` } });
    expect(await openStatus(`${hubUrl}?id=${connectionToken}`, { Authorization: `Bearer ${await tokenOf('bob')}` })).toBe(403);
    const publicToken = (await negotiate(`${server.baseUrl}/hubs/public`, { headers: { Authorization: `Bearer ${alice}` } })).connectionToken;
    expect(await openStatus(`${server.baseUrl}/hubs/public?id=${publicToken}`)).toBe(403);
  });
});
