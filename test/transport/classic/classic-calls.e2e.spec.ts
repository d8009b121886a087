import { JwtService } from '@nestjs/jwt';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ClientPool } from '../../support/client.js';
import { ClassicPages, type ClassicHubProxy } from '../../support/classic-client.js';
import { startHubApp, type RunningHubApp } from '../../support/hub-app.js';
import { signFor, TestAuthModule } from '../../support/jwt-auth.js';
import { CLASSIC_HUBS } from './classic-hubs.js';

const TRANSPORTS = ['webSockets', 'serverSentEvents', 'longPolling'] as const;

/** What an invocation's Deferred rejected with (the jQuery client's error object), or undefined if it resolved. */
const rejectionOf = async (call: PromiseLike<unknown>) =>
  (await Promise.resolve(call).then(() => undefined, (error: unknown) => error)) as { message: string; source?: unknown; data?: unknown } | undefined;

describe('what classic calls carry beyond the modern protocol: hub state, error data, no client results', () => {
  let server: RunningHubApp;
  let jwt: JwtService;
  const pages = new ClassicPages();
  const modernClients = new ClientPool();

  /** A started connection of alice's to `hubs` (each with a handler, so that the client names it). */
  const start = async (transport: string, ...hubs: string[]) => {
    const connection = await pages.connection(server.baseUrl, signFor(jwt, 'alice'));
    const proxies = hubs.map((hub) => connection.createHubProxy(hub).on('nothing', () => undefined));
    await connection.start({ transport });
    return proxies;
  };

  beforeAll(async () => {
    // Far longer than any test waits: a client result that waited for it would fail the test.
    server = await startHubApp(CLASSIC_HUBS, { authStrategies: ['jwt'], classic: true, clientResultTimeoutMs: 600_000 }, { imports: [TestAuthModule] });
    jwt = server.app.get(JwtService);
  });

  afterEach(async () => {
    await modernClients.stopAll();
    pages.closeAll();
  });

  afterAll(() => server.close());

  describe.each(TRANSPORTS)('over %s', (transport) => {
    it("shows the caller's hub state to the method and sends back what it changed, which the proxy merges", async () => {
      const [chat] = (await start(transport, 'chatHub')) as [ClassicHubProxy];
      Object.assign(chat.state, { name: 'alice', forget: 'me', kept: { deep: [1] } });
      await expect(chat.invoke('greet')).resolves.toBe('hello alice');
      // A removed entry comes back as null, as classic SignalR's state tracker sent it.
      expect(chat.state).toEqual({ name: 'alice', forget: null, kept: { deep: [1] }, calls: 1 });
      await expect(chat.invoke('greet')).resolves.toBe('hello alice');
      expect(chat.state.calls).toBe(2);
    });

    it('refuses hub state over 4096 characters, sent by the client or set by the method, and leaves the proxy state as it was', async () => {
      const [chat] = (await start(transport, 'chatHub')) as [ClassicHubProxy];
      const tooLarge = 'The hub state is larger than 4096 characters.';
      expect((await rejectionOf(chat.invoke('grow', 5000)))?.message).toBe(tooLarge);
      expect(chat.state).toEqual({});
      await chat.invoke('grow', 4000);
      expect(chat.state.blob).toHaveLength(4000);
      chat.state.blob = 'x'.repeat(5000);
      expect((await rejectionOf(chat.invoke('greet')))?.message).toBe(tooLarge);
      expect(chat.state.calls).toBeUndefined();
    });

    it('refuses hub state for a hub that opts out, on a connection with another hub that takes it', async () => {
      const [chat, stateless] = (await start(transport, 'chatHub', 'StatelessHub')) as [ClassicHubProxy, ClassicHubProxy];
      await expect(stateless.invoke('sawState')).resolves.toBe(false);
      stateless.state.name = 'alice';
      expect((await rejectionOf(stateless.invoke('sawState')))?.message).toBe("'StatelessHub' Hub does not accept hub state.");
      chat.state.name = 'alice';
      await expect(chat.invoke('greet')).resolves.toBe('hello alice');
    });

    it("passes a HubException's data as the error's data, and no data for any other error", async () => {
      const [chat] = (await start(transport, 'chatHub')) as [ClassicHubProxy];
      const refused = await rejectionOf(chat.invoke('refuse'));
      expect(refused).toMatchObject({ message: 'not a member of that room', source: 'HubException', data: { room: 'lobby', rooms: ['a', 'b'] } });
      const failed = await rejectionOf(chat.invoke('fail'));
      expect(failed).toMatchObject({ source: 'Exception' });
      expect(failed?.data).toBeUndefined();
    });

    it('fails a call asking the classic client for a result at once, with a clear error, instead of waiting for the timeout', async () => {
      const [chat] = (await start(transport, 'chatHub')) as [ClassicHubProxy];
      const asked: unknown[] = [];
      chat.on('confirm', () => asked.push('confirm'));
      await expect(chat.invoke('askCaller')).resolves.toBe('failed: Classic SignalR clients cannot return results.');
      expect(asked).toEqual([]);
    });
  });

  it('refuses hub state a method left that JSON cannot carry, and leaves out error data it cannot carry', async () => {
    const [chat] = (await start('longPolling', 'chatHub')) as [ClassicHubProxy];
    expect((await rejectionOf(chat.invoke('unwritable', 'state')))?.message).toBe('The hub state cannot be written as JSON.');
    expect(chat.state).toEqual({});
    const refused = await rejectionOf(chat.invoke('unwritable', 'data'));
    expect(refused).toMatchObject({ message: 'no data for you', source: 'HubException' });
    expect(refused?.data).toBeUndefined();
    await expect(chat.invoke('greet')).resolves.toBe('hello undefined');
  });

  it('shows a modern caller no hub state, and sends it the message of a HubException only', async () => {
    const modern = await modernClients.connect(`${server.baseUrl}/hubs/chat`, { accessTokenFactory: () => signFor(jwt, 'alice') });
    await expect(modern.invoke('Greet')).resolves.toBe('no state');
    await expect(modern.invoke('Refuse')).rejects.toThrow("An unexpected error occurred invoking 'Refuse' on the server. HubException: not a member of that room");
  });
});
