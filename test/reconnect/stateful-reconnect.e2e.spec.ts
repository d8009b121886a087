import { HubConnectionState } from '@microsoft/signalr';
import { JwtService } from '@nestjs/jwt';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { WIRE_PROTOCOLS, connectStatefulClient, nextCall } from '../support/client.js';
import { CuttingProxy } from '../support/cutting-proxy.js';
import { startHubApp, type RunningHubApp } from '../support/hub-app.js';
import { signFor, TestAuthModule } from '../support/jwt-auth.js';
import { sleep, waitFor } from '../support/wait.js';
import { HubEvents, TestHub } from '../e2e/test-hubs.js';
import { AdminsHub, HubCodeRuns, NotBannedPolicy, OpenHub, PrivateHub } from '../security/security-hubs.js';

describe.each(WIRE_PROTOCOLS)('stateful reconnect (%s) through a proxy that cuts sockets', (protocol) => {
  let server: RunningHubApp;
  let proxy: CuttingProxy;
  let events: HubEvents;

  beforeAll(async () => {
    server = await startHubApp([TestHub, HubEvents, PrivateHub, OpenHub, AdminsHub, HubCodeRuns, NotBannedPolicy], { authStrategies: ['jwt'] }, {
      imports: [TestAuthModule],
    });
    proxy = await CuttingProxy.start((server.app.getHttpServer().address() as AddressInfo).port);
    events = server.app.get(HubEvents);
  });

  beforeEach(() => {
    events.fireAndForget.length = 0;
  });

  afterAll(async () => {
    await proxy.close();
    await server.close();
  });

  it('negotiates stateful reconnect only for clients that ask', async () => {
    const asked = await fetch(`${server.baseUrl}/hubs/test/negotiate?negotiateVersion=1&useStatefulReconnect=true`, { method: 'POST' });
    expect(await asked.json()).toMatchObject({ useStatefulReconnect: true });
    const plain = await fetch(`${server.baseUrl}/hubs/test/negotiate?negotiateVersion=1`, { method: 'POST' });
    expect(await plain.json()).not.toHaveProperty('useStatefulReconnect');
  });

  it('keeps id and groups, and loses, duplicates and reorders nothing in either direction across cuts', async () => {
    const client = await connectStatefulClient(`${proxy.url}/hubs/test`, protocol);
    const id = client.connectionId;
    await client.invoke('JoinGroup', 'survivors');
    const received: number[] = [];
    client.on('Recorded', (value: number) => received.push(value));
    let reconnects = 0;
    const total = 120;
    for (let i = 0; i < total; i++) {
      void client.send('RecordAndReply', i);
      if (i % 30 === 15) reconnects += proxy.cutAll() > 0 ? 1 : 0;
      await sleep(2);
    }
    await waitFor(() => received.length >= total && events.fireAndForget.length >= total, 8000);
    expect(reconnects).toBeGreaterThanOrEqual(3);
    expect(events.fireAndForget).toEqual(Array.from({ length: total }, (_, i) => i));
    expect(received).toEqual(Array.from({ length: total }, (_, i) => i));
    expect(client.state).toBe(HubConnectionState.Connected);
    expect(client.connectionId).toBe(id);
    await expect(client.invoke('WhoAmI')).resolves.toBe(id);

    const groupMessage = nextCall(client, 'GroupMessage');
    const other = await connectStatefulClient(`${server.baseUrl}/hubs/test`, protocol);
    await other.invoke('SendToGroup', 'survivors', 'still here');
    await expect(groupMessage).resolves.toEqual(['survivors', 'still here']);
    await Promise.all([client.stop(), other.stop()]);
  });

  it('replays what the server sent while the socket was down', async () => {
    const client = await connectStatefulClient(`${proxy.url}/hubs/test`, protocol);
    const broadcasts: string[] = [];
    client.on('Broadcast', (text: string) => broadcasts.push(text));
    const sender = await connectStatefulClient(`${server.baseUrl}/hubs/test`, protocol);
    proxy.cutAll();
    for (const text of ['one', 'two', 'three']) await sender.invoke('Broadcast', text);
    await waitFor(() => broadcasts.length === 3, 8000);
    expect(broadcasts).toEqual(['one', 'two', 'three']);
    await Promise.all([client.stop(), sender.stop()]);
  });

  it('takes the user and roles of the credential a reconnect carries: a revoked role no longer passes @Authorize', async () => {
    const jwt = server.app.get(JwtService);
    let credential = signFor(jwt, 'alice', ['user', 'admin']);
    const client = await connectStatefulClient(`${proxy.url}/hubs/open`, protocol, () => credential);
    const id = client.connectionId;
    await expect(client.invoke('AdminOnly')).resolves.toBe('admin');
    // The role is revoked; the client signs in again and its socket drops.
    credential = signFor(jwt, 'alice', ['user']);
    proxy.cutAll();
    await sleep(100);
    await expect(client.invoke('AdminOnly')).rejects.toThrow("Failed to invoke 'AdminOnly' because user is unauthorized");
    expect(client.connectionId).toBe(id);
    // And back: the next credential's roles count again.
    credential = signFor(jwt, 'alice', ['user', 'owner']);
    proxy.cutAll();
    await sleep(100);
    await expect(client.invoke('AdminOnly')).resolves.toBe('admin');
    expect(client.connectionId).toBe(id);
    await client.stop();
  });

  it('refuses a reconnect to a hub that no longer admits the user, as it would a new connection', async () => {
    const jwt = server.app.get(JwtService);
    let credential = signFor(jwt, 'alice', ['admin']);
    const client = await connectStatefulClient(`${proxy.url}/hubs/admins`, protocol, () => credential);
    await expect(client.invoke('Ping')).resolves.toBe('pong');
    const closed = new Promise<Error | undefined>((resolve) => client.onclose(resolve));
    credential = signFor(jwt, 'alice', ['user']);
    proxy.cutAll();
    await closed;
    expect(client.state).toBe(HubConnectionState.Disconnected);
  });

  it('refuses a reconnect that carries another user\'s credential', async () => {
    const jwt = server.app.get(JwtService);
    let credential = signFor(jwt, 'alice');
    const client = await connectStatefulClient(`${proxy.url}/hubs/private`, protocol, () => credential);
    const id = client.connectionId;
    const closed = new Promise<Error | undefined>((resolve) => client.onclose(resolve));
    // Control: a cut with the same user's (fresh) credential resumes the same connection.
    credential = signFor(jwt, 'alice');
    proxy.cutAll();
    await sleep(100);
    await expect(client.invoke('Ping')).resolves.toBe('pong');
    expect(client.connectionId).toBe(id);
    credential = signFor(jwt, 'bob');
    proxy.cutAll();
    await closed;
    expect(client.state).toBe(HubConnectionState.Disconnected);
  });

  it('closes at the expiry of the credential the latest reconnect carried, not the first one', async () => {
    const jwt = server.app.get(JwtService);
    let credential = signFor(jwt, 'alice', ['user'], 2);
    const client = await connectStatefulClient(`${proxy.url}/hubs/private`, protocol, () => credential);
    let closedAt: number | undefined;
    client.onclose(() => (closedAt = Date.now()));
    credential = signFor(jwt, 'alice', ['user'], 3600);
    proxy.cutAll();
    await sleep(100);
    await expect(client.invoke('Ping')).resolves.toBe('pong');
    await sleep(2200); // past the first credential's expiry
    expect(closedAt).toBeUndefined();
    await expect(client.invoke('Ping')).resolves.toBe('pong');
    await client.stop();
  });
});
