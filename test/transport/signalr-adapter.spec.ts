import { MessageBody, SubscribeMessage, WebSocketGateway, type WsResponse } from '@nestjs/websockets';
import { Hub } from 'nestjs-signalr';
import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { ClientPool } from '../support/client.js';
import { HTTP_PLATFORMS, startHubApp, type RunningHubApp } from '../support/hub-app.js';
import { upgradeStatus } from '../support/raw-client.js';

@Hub('/hubs/chat')
class ChatHub {
  ping(): string {
    return 'pong';
  }
}

/** A plain Nest gateway, as `@nestjs/platform-ws` serves it. */
@WebSocketGateway({ path: '/ws' })
class EchoGateway {
  @SubscribeMessage('echo')
  echo(@MessageBody() data: unknown): WsResponse<unknown> {
    return { event: 'echoed', data };
  }
}

@WebSocketGateway({ path: '/hubs/Chat' })
class GatewayOnTheHubPath {}

async function openGateway(url: string): Promise<WebSocket> {
  const socket = new WebSocket(url.replace(/^http/, 'ws'));
  await once(socket, 'open');
  return socket;
}

describe.each(HTTP_PLATFORMS)('SignalRAdapter: a hub and a plain ws gateway in one application on %s', (platform) => {
  let server: RunningHubApp;
  const clients = new ClientPool();

  beforeAll(async () => (server = await startHubApp([ChatHub, EchoGateway], {}, { platform })));
  afterAll(async () => {
    await clients.stopAll();
    await server.close();
  });

  it('serves each on its own path, to its own client', async () => {
    const hubClient = await clients.connect(`${server.baseUrl}/hubs/chat`);
    const gatewayClient = await openGateway(`${server.baseUrl}/ws`);
    const answer = once(gatewayClient, 'message');
    gatewayClient.send(JSON.stringify({ event: 'echo', data: { text: 'hi' } }));
    expect(JSON.parse(String((await answer)[0]))).toEqual({ event: 'echoed', data: { text: 'hi' } });
    await expect(hubClient.invoke('Ping')).resolves.toBe('pong');
    gatewayClient.close();
  });

  it("ends an upgrade on a path neither serves, as WsAdapter does once it has gateways", async () => {
    await expect(upgradeStatus(`${server.baseUrl}/elsewhere`)).rejects.toThrow('socket hang up');
  });

  it('closes the gateway and its clients with the application', async () => {
    const separate = await startHubApp([ChatHub, EchoGateway], {}, { platform });
    const gatewayClient = await openGateway(`${separate.baseUrl}/ws`);
    const closed = once(gatewayClient, 'close');
    await separate.close();
    await closed;
    expect(gatewayClient.readyState).toBe(WebSocket.CLOSED);
  });
});

describe('SignalRAdapter: paths', () => {
  it('refuses to start with a gateway on a hub path, whatever the case, in either order', async () => {
    for (const providers of [
      [ChatHub, GatewayOnTheHubPath],
      [GatewayOnTheHubPath, ChatHub],
    ]) {
      await expect(startHubApp(providers)).rejects.toMatchObject({
        code: 'SIGNALR_DUPLICATE_HUB_PATH',
        message: expect.stringContaining('A hub and a WebSocket gateway are both mapped to /hubs/'),
      });
    }
  });
});
