import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createSampleApp } from '../../sample-app/bootstrap.js';
import { ClassicPage, classicConnection, hubsInProxy, methodsInProxy, type ClassicHubConnection } from '../support/classic-client.js';
import { listenOnLoopback, type RunningHubApp } from '../support/hub-app.js';
import { sampleTokenOf } from '../support/sample-login.js';
import { waitFor } from '../support/wait.js';

const failureOf = async (call: PromiseLike<unknown>) => (await Promise.resolve(call).then(() => undefined, (error: unknown) => error)) as { message: string };

describe('sample app classic endpoint (contract: sample-app-contract.md, "Classic endpoint")', () => {
  let server: RunningHubApp;
  const pages: ClassicPage[] = [];
  const connections: ClassicHubConnection[] = [];
  const tokenOf = (username: string) => sampleTokenOf(server.baseUrl, username);
  const open = async (username?: string) => {
    const page = await ClassicPage.open(server.baseUrl);
    pages.push(page);
    const connection = classicConnection(page, server.baseUrl, username ? await tokenOf(username) : undefined);
    connections.push(connection);
    return connection;
  };

  beforeAll(async () => {
    server = await listenOnLoopback(await createSampleApp({ logger: false }));
  });

  afterEach(() => {
    for (const connection of connections.splice(0)) connection.stop();
    for (const page of pages.splice(0)) page.close();
  });

  afterAll(() => server.close());

  describe.each(['webSockets', 'serverSentEvents', 'longPolling'])('over %s', (transport) => {
    it('serves chatHub: the same methods, rooms and announcements, method names in any case', async () => {
      const alice = await open('alice');
      const admin = await open('admin');
      const seen: unknown[][] = [];
      const aliceChat = alice.createHubProxy('chatHub');
      aliceChat.on('receiveMessage', (...args) => seen.push(['message', ...args]));
      aliceChat.on('announcement', (...args) => seen.push(['announcement', ...args]));
      const adminChat = admin.createHubProxy('chatHub');
      adminChat.on('receiveMessage', () => undefined);
      await alice.start({ transport });
      await admin.start({ transport });
      expect(alice.transport?.name).toBe(transport);
      await expect(aliceChat.invoke('WHOAMI')).resolves.toEqual({ name: 'alice', roles: ['user'] });
      await aliceChat.invoke('joinRoom', 'general');
      await aliceChat.invoke('SendToRoom', 'general', 'hello');
      expect((await failureOf(aliceChat.invoke('announce', 'no'))).message).toBe("Failed to invoke 'announce' because user is unauthorized");
      expect((await failureOf(aliceChat.invoke('SendToRoom', 'elsewhere', 'x'))).message).toContain('not a member');
      await adminChat.invoke('Announce', 'maintenance at noon');
      await waitFor(() => seen.length === 2, 5000);
      expect(seen).toEqual([
        ['message', 'general', 'alice', 'hello'],
        ['announcement', 'admin', 'maintenance at noon'],
      ]);
      expect((await failureOf(aliceChat.invoke('Fail'))).message).toBe("An unexpected error occurred invoking 'Fail' on the server.");
    });

    it('serves publicHub to anonymous callers, Secret only to signed-in ones', async () => {
      const anonymous = await open();
      const publicHub = anonymous.createHubProxy('publicHub');
      publicHub.on('nothing', () => undefined);
      await anonymous.start({ transport });
      await expect(publicHub.invoke('Ping')).resolves.toBe('pong');
      expect((await failureOf(publicHub.invoke('Secret'))).message).toBe("Failed to invoke 'Secret' because user is unauthorized");
    });
  });

  it('accepts the JWT in an Authorization header too, and refuses chatHub to anonymous callers', async () => {
    const query = `clientProtocol=2.1&connectionData=${encodeURIComponent('[{"name":"chathub"}]')}`;
    const withHeader = await fetch(`${server.baseUrl}/signalr/negotiate?${query}`, { headers: { Authorization: `Bearer ${await tokenOf('bob')}` } });
    expect(withHeader.status).toBe(200);
    expect((await fetch(`${server.baseUrl}/signalr/negotiate?${query}`)).status).toBe(401);
  });

  it('lists in /signalr/hubs only what the requester may call', async () => {
    const anonymous = await (await fetch(`${server.baseUrl}/signalr/hubs`)).text();
    expect(hubsInProxy(anonymous)).toEqual(['publicHub']);
    expect(methodsInProxy(anonymous, 'publicHub')).toEqual(['ping']);
    const alice = await (await fetch(`${server.baseUrl}/signalr/hubs`, { headers: { Authorization: `Bearer ${await tokenOf('alice')}` } })).text();
    expect(hubsInProxy(alice)).toEqual(['chatHub', 'publicHub']);
    expect(methodsInProxy(alice, 'chatHub')).not.toContain('announce');
    expect(methodsInProxy(alice, 'chatHub')).toContain('sendToRoom');
  });

  it('refuses cross-origin requests with 403 and keeps JSONP off', async () => {
    const query = `clientProtocol=2.1&connectionData=${encodeURIComponent('[{"name":"publichub"}]')}`;
    expect((await fetch(`${server.baseUrl}/signalr/negotiate?${query}`, { headers: { Origin: 'https://evil.example.test' } })).status).toBe(403);
    expect((await fetch(`${server.baseUrl}/signalr/negotiate?${query}&callback=cb`)).status).toBe(403);
  });

  it('serves /classic.html on the jQuery client, with its scripts from the sample itself', async () => {
    const page = await fetch(`${server.baseUrl}/classic.html`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    const html = await page.text();
    expect(html).toContain('data-client="classic"');
    for (const script of ['/vendor/jquery.min.js', '/vendor/jquery.signalR.min.js', '/classic-connection.js', '/chat.js']) {
      const response = await fetch(`${server.baseUrl}${script}`);
      expect(response.status, script).toBe(200);
      expect(response.headers.get('content-type'), script).toContain('text/javascript');
    }
  });
});
