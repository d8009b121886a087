import { Hub } from 'nestjs-signalr';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HubEndpoint } from '../../src/transport/hub-endpoint.js';
import { HubPaths } from '../../src/transport/hub-paths.js';
import { ClientPool, WIRE_PROTOCOLS } from '../support/client.js';
import { HTTP_PLATFORMS, startHubApp, type RunningHubApp } from '../support/hub-app.js';
import { negotiate, upgradeStatus } from '../support/raw-client.js';

/** HubPaths reads nothing of an endpoint but its path. */
const endpointAt = (path: string) => ({ path }) as HubEndpoint;

describe('HubPaths', () => {
  it('finds a hub and what follows its path, case-insensitively', () => {
    const paths = new HubPaths();
    const chat = endpointAt('/hubs/Chat');
    paths.add(chat);
    expect(paths.find('/hubs/chat')).toEqual({ endpoint: chat, rest: '' });
    expect(paths.find('/HUBS/CHAT/Negotiate')).toEqual({ endpoint: chat, rest: '/negotiate' });
    expect(paths.find('/hubs/chat/')).toEqual({ endpoint: chat, rest: '/' });
    for (const elsewhere of ['/hubs/chatty', '/hubs', '/hubs/chat/negotiate/more', '/', '']) expect(paths.find(elsewhere)).toBeUndefined();
  });

  it('refuses two hubs whose paths differ only in case', () => {
    const paths = new HubPaths();
    paths.add(endpointAt('/hubs/chat'));
    expect(() => paths.add(endpointAt('/hubs/Chat'))).toThrow(
      'Two hubs are mapped to one path: /hubs/chat and /hubs/Chat (paths match case-insensitively). (SIGNALR_DUPLICATE_HUB_PATH)',
    );
  });
});

@Hub('/hubs/chat')
class ChatHub {
  ping(): string {
    return 'pong';
  }
}

@Hub('/hubs/Chat')
class ShoutedChatHub {}

describe.each(HTTP_PLATFORMS)('hub paths match case-insensitively on %s, as ASP.NET Core routes them', (platform) => {
  let server: RunningHubApp;

  beforeAll(async () => (server = await startHubApp([ChatHub], {}, { platform })));
  afterAll(() => server.close());

  it.each(WIRE_PROTOCOLS)('connects the official client (%s) to /Hubs/CHAT: negotiate and upgrade', async (protocol) => {
    const clients = new ClientPool(protocol);
    const client = await clients.connect(`${server.baseUrl}/Hubs/CHAT`);
    await expect(client.invoke('Ping')).resolves.toBe('pong');
    await clients.stopAll();
  });

  it('upgrades on any case of the path with a token negotiated on another', async () => {
    const { connectionToken } = await negotiate(`${server.baseUrl}/HUBS/chat`);
    expect((await upgradeStatus(`${server.baseUrl}/hubs/cHaT?id=${encodeURIComponent(connectionToken)}`)).status).toBe(101);
  });

  it("keeps hub paths absolute from the server root: Nest's global prefix does not apply", async () => {
    const prefixed = await startHubApp([ChatHub], {}, { platform, configure: (app) => app.setGlobalPrefix('api') });
    const clients = new ClientPool();
    try {
      const client = await clients.connect(`${prefixed.baseUrl}/hubs/chat`);
      await expect(client.invoke('Ping')).resolves.toBe('pong');
      expect((await fetch(`${prefixed.baseUrl}/api/hubs/chat/negotiate`, { method: 'POST' })).status).toBe(404);
    } finally {
      await clients.stopAll();
      await prefixed.close();
    }
  });
});

describe('hub paths at start-up', () => {
  it('refuses two hubs whose paths differ only in case', async () => {
    await expect(startHubApp([ChatHub, ShoutedChatHub])).rejects.toMatchObject({ code: 'SIGNALR_DUPLICATE_HUB_PATH' });
  });
});
