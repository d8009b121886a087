import { JwtService } from '@nestjs/jwt';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ClientPool, nextCall } from '../../support/client.js';
import { ClassicPage, classicConnection, type ClassicHubConnection } from '../../support/classic-client.js';
import { HTTP_PLATFORMS, startHubApp, type RunningHubApp } from '../../support/hub-app.js';
import { signFor, TestAuthModule } from '../../support/jwt-auth.js';
import { waitFor } from '../../support/wait.js';
import { CLASSIC_HUBS, ClassicHubEvents } from './classic-hubs.js';

const TRANSPORTS = ['webSockets', 'serverSentEvents', 'longPolling'] as const;

describe.each(HTTP_PLATFORMS)('the classic endpoint with the jQuery client 2.4.3, on %s', (platform) => {
  let server: RunningHubApp;
  let jwt: JwtService;
  const pages: ClassicPage[] = [];
  const modernClients = new ClientPool();
  const connections: ClassicHubConnection[] = [];

  const open = async (user?: string, roles?: string[]) => {
    const page = await ClassicPage.open(server.baseUrl);
    pages.push(page);
    const connection = classicConnection(page, server.baseUrl, user ? signFor(jwt, user, roles) : undefined);
    connections.push(connection);
    return connection;
  };

  beforeAll(async () => {
    server = await startHubApp(CLASSIC_HUBS, { authStrategies: ['jwt'], classic: true }, { imports: [TestAuthModule], platform });
    jwt = server.app.get(JwtService);
  });

  afterEach(async () => {
    await modernClients.stopAll();
    for (const connection of connections.splice(0)) connection.stop();
    for (const page of pages.splice(0)) page.close();
  });

  afterAll(async () => {
    await server.close();
  });

  describe.each(TRANSPORTS)('over %s', (transport) => {
    it('connects, runs onConnected on start, invokes with any case of the method name, and ends with onDisconnected', async () => {
      const events = server.app.get(ClassicHubEvents);
      const connection = await open('alice');
      const chat = connection.createHubProxy('chatHub');
      chat.on('receiveMessage', () => undefined);
      await connection.start({ transport });
      expect(connection.transport?.name).toBe(transport);
      expect(events.connected).toContain(connection.id);
      await expect(chat.invoke('whoami')).resolves.toBe('alice');
      await expect(chat.invoke('ECHO', { text: 'hi', list: [1, 2] })).resolves.toEqual({ text: 'hi', list: [1, 2] });
      const { id } = connection;
      connection.stop();
      await waitFor(() => events.disconnected.includes(id), 5000);
    });

    it('delivers group messages sent by the hub through the lifetime manager', async () => {
      const alice = await open('alice');
      const bob = await open('bob');
      const received: unknown[][] = [];
      const aliceChat = alice.createHubProxy('chathub');
      aliceChat.on('receiveMessage', (...args) => received.push(args));
      const bobChat = bob.createHubProxy('ChatHub');
      bobChat.on('receiveMessage', () => undefined);
      await alice.start({ transport });
      await bob.start({ transport });
      await aliceChat.invoke('joinRoom', 'lobby');
      await bobChat.invoke('sendToRoom', 'lobby', 'hello alice');
      await waitFor(() => received.length === 1, 5000);
      expect(received[0]).toEqual(['lobby', 'bob', 'hello alice']);
    });

    it("passes a HubException's message and data flagged as a hub error, and sanitizes any other error", async () => {
      const connection = await open('alice');
      const chat = connection.createHubProxy('chatHub');
      chat.on('receiveMessage', () => undefined);
      await connection.start({ transport });
      const refused = (await Promise.resolve(chat.invoke('refuse')).then(() => undefined, (error: unknown) => error)) as { message: string; source?: unknown; data?: unknown };
      expect(refused).toMatchObject({ message: 'not a member of that room', source: 'HubException', data: { room: 'lobby', rooms: ['a', 'b'] } });
      const failed = (await Promise.resolve(chat.invoke('fail')).then(() => undefined, (error: unknown) => error)) as { message: string };
      expect(failed.message).toBe("An unexpected error occurred invoking 'fail' on the server.");
      expect(JSON.stringify(failed)).not.toContain('hunter2');
    });

    it('keeps its rooms across a reconnect, and delivers what was sent while it was away once', async () => {
      const alice = await open('alice');
      const bob = await open('bob');
      const received: unknown[][] = [];
      const aliceChat = alice.createHubProxy('chatHub');
      aliceChat.on('receiveMessage', (...args) => received.push(args));
      const bobChat = bob.createHubProxy('chatHub');
      bobChat.on('receiveMessage', () => undefined);
      await alice.start({ transport });
      await bob.start({ transport });
      await aliceChat.invoke('joinRoom', 'lobby');
      const { id } = alice;
      const reconnected = new Promise<void>((resolve) => alice.reconnected(resolve));
      alice.reconnecting(() => void bobChat.invoke('sendToRoom', 'lobby', 'while away'));
      alice.transport!.lostConnection(alice);
      await reconnected;
      expect(alice.id).toBe(id);
      await bobChat.invoke('sendToRoom', 'lobby', 'after');
      await waitFor(() => received.length >= 2, 10_000);
      expect(received.map((args) => args[2])).toEqual(['while away', 'after']);
    });

    it('shares a room with a modern client: each sees the other', async () => {
      const alice = await open('alice');
      const aliceChat = alice.createHubProxy('chatHub');
      const seenByAlice: unknown[][] = [];
      aliceChat.on('receiveMessage', (...args) => seenByAlice.push(args));
      await alice.start({ transport });
      await aliceChat.invoke('joinRoom', 'mixed');
      const bob = await modernClients.connect(`${server.baseUrl}/hubs/chat`, { accessTokenFactory: () => signFor(jwt, 'bob') });
      await bob.invoke('JoinRoom', 'mixed');
      const fromClassic = nextCall(bob, 'ReceiveMessage');
      await aliceChat.invoke('sendToRoom', 'mixed', 'hi from jQuery');
      expect(await fromClassic).toEqual(['mixed', 'alice', 'hi from jQuery']);
      await bob.invoke('SendToRoom', 'mixed', 'hi from @microsoft/signalr');
      await waitFor(() => seenByAlice.length === 2, 5000);
      expect(seenByAlice).toEqual([
        ['mixed', 'alice', 'hi from jQuery'],
        ['mixed', 'bob', 'hi from @microsoft/signalr'],
      ]);
    });
  });
});
