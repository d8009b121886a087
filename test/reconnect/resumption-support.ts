import { HttpTransportType, HubConnectionBuilder, JsonHubProtocol, LogLevel, type HubConnection } from '@microsoft/signalr';
import { MessagePackHubProtocol } from '@microsoft/signalr-protocol-msgpack';
import { JwtService } from '@nestjs/jwt';
import { ConnectionResumption } from 'nestjs-signalr/client';
import type { SignalRModuleOptions } from 'nestjs-signalr';
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { WebSocket } from 'ws';
import { nextCall, type WireProtocol } from '../support/client.js';
import { startHubApp, type RunningHubApp } from '../support/hub-app.js';
import { signFor, TEST_JWT_SECRET, TestAuthModule } from '../support/jwt-auth.js';
import { RawHubSocket } from '../support/raw-client.js';
import { sleep, waitFor } from '../support/wait.js';
import { RoomEvents, RoomsHub } from './resumption-hub.js';

/** Helpers of the resumption suites: nodes sharing a key ring, resumable clients, raw resumptions. */

export const GROUPS_TOKEN = 'nestjs-signalr:groups-token';
export const KEYS = [randomBytes(32)];
export const jwt = new JwtService({ secret: TEST_JWT_SECRET });
/** Users `canRejoin` keeps out of the room `vip`. */
export const bannedFromVip = new Set<string>();

/** How long the resumption suites wait for the server or a client to get somewhere. */
export const PATIENCE_MS = 10_000;

/** A node of the cluster: same key ring as every other, its own process state. */
export function startNode(options: SignalRModuleOptions = {}): Promise<RunningHubApp> {
  return startHubApp(
    [RoomsHub, RoomEvents],
    {
      keys: KEYS,
      authStrategies: ['jwt'],
      canRejoin: (user, room) => !(room === 'vip' && bannedFromVip.has((user as { sub: string }).sub)),
      ...options,
    },
    { imports: [TestAuthModule] },
  );
}

/** Resolves once `node` has ended the connection (a client's stop resolves before the server reads its close). */
export function endedOn(node: RunningHubApp, connectionId: string | null): Promise<void> {
  return waitFor(() => node.app.get(RoomEvents).disconnected.has(connectionId ?? ''), PATIENCE_MS);
}

export const portOf = (node: RunningHubApp) => (node.app.getHttpServer().address() as AddressInfo).port;

export interface ResumableClient {
  readonly connection: HubConnection;
  /** Every groups token received, oldest first. */
  readonly tokens: string[];
  /** Every WebSocket URL the client opened, first connect then reconnects. */
  readonly socketUrls: URL[];
}

export async function resumableClient(hubUrl: string, protocol: WireProtocol, credential?: () => string): Promise<ResumableClient> {
  const socketUrls: URL[] = [];
  const RecordingWebSocket = class extends WebSocket {
    constructor(url: string, ...rest: ConstructorParameters<typeof WebSocket> extends [unknown, ...infer R] ? R : never) {
      socketUrls.push(new URL(url));
      super(url, ...rest);
    }
  };
  const resumption = new ConnectionResumption(hubUrl, {
    transport: HttpTransportType.WebSockets,
    accessTokenFactory: credential,
    WebSocket: RecordingWebSocket,
  });
  const connection = resumption.attach(
    new HubConnectionBuilder()
      .withUrl(resumption.url, resumption.options)
      .withStatefulReconnect()
      .withHubProtocol(protocol === 'json' ? new JsonHubProtocol() : new MessagePackHubProtocol())
      .configureLogging(LogLevel.None)
      .build(),
  );
  const tokens: string[] = [];
  connection.on(GROUPS_TOKEN, (token: string) => tokens.push(token));
  await connection.start();
  await waitFor(() => tokens.length > 0, PATIENCE_MS);
  return { connection, tokens, socketUrls };
}

/** Runs `change` and waits for the groups token it causes. */
export async function afterNewToken(client: ResumableClient, change: () => Promise<unknown>): Promise<string> {
  const seen = client.tokens.length;
  await change();
  await waitFor(() => client.tokens.length > seen, PATIENCE_MS);
  return client.tokens.at(-1)!;
}

/** The connection token the client negotiated, as it presents it on every socket. */
export const connectionTokenOf = (client: ResumableClient) => client.socketUrls[0].searchParams.get('id')!;

/** Whether `client` receives what another client sends to `room` on `node`. */
export async function isInRoom(node: RunningHubApp, room: string, client: { received: () => Promise<unknown> }): Promise<boolean> {
  const sender = await resumableClient(`${node.baseUrl}/hubs/rooms`, 'json');
  try {
    const text = `probe ${randomBytes(4).toString('hex')}`;
    const arrival = client.received();
    await sender.connection.invoke('SendToRoom', room, text);
    return await Promise.race([arrival.then(() => true), sleep(1000).then(() => false)]);
  } finally {
    await sender.connection.stop();
  }
}

export const roomMessagesOf = (connection: HubConnection) => ({ received: () => nextCall(connection, 'RoomMessage') });

export const bearer = (user: string) => ({ Authorization: `Bearer ${signFor(jwt, user)}` });

export function resumeUrl(node: RunningHubApp, connectionToken: string, groupsToken: string, received = 0): string {
  const query = new URLSearchParams({ id: connectionToken, resume: groupsToken, received: String(received) });
  return `${node.baseUrl}/hubs/rooms?${query}`;
}

/** Opens a resuming socket by hand, as the extension would, and watches it for room messages. */
export async function rawResume(url: string, headers: Record<string, string>) {
  const raw = await RawHubSocket.openUrl(url, headers);
  const received = async () => {
    const seen = raw.messages().length;
    await raw.until(() => raw.messages().slice(seen).some((message) => message.target === 'RoomMessage'), 2000);
  };
  return Object.assign(raw, { received });
}
