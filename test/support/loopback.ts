import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';
import type { HubRuntime } from '../../src/connection/hub-runtime.js';
import { HubExceptionFilter } from '../../src/errors/hub-exception-filter.js';
import { HubDispatcher } from '../../src/hub/hub-dispatcher.js';
import type { HubLifetimeManager } from '../../src/lifetime/hub-lifetime-manager.js';
import { DEFAULT_HUB_OPTIONS, type ResolvedHubOptions } from '../../src/options/hub-options.js';
import { JsonHubProtocol } from '../../src/protocol/json-hub-protocol.js';

/** A raw client on a real loopback socket: every WebSocket frame it receives, and how the socket ended. */
export class FrameLog {
  readonly frames: string[] = [];
  readonly closed: Promise<number>;

  constructor(readonly socket: WebSocket) {
    socket.on('message', (data: Buffer) => this.frames.push(data.toString('utf8')));
    this.closed = new Promise((resolve) => socket.on('close', (code: number) => resolve(code)));
  }

  async framesAfterQuiet(count: number): Promise<string[]> {
    while (this.frames.length < count) await new Promise((resolve) => setTimeout(resolve, 5));
    await new Promise((resolve) => setTimeout(resolve, 50)); // nothing more may follow
    return this.frames.splice(0);
  }
}

/** A real ws server on 127.0.0.1 whose accepted sockets are handed out in order. */
export class Loopback {
  private readonly accepted: WebSocket[] = [];
  private waiting: ((socket: WebSocket) => void) | undefined;

  private constructor(private readonly server: WebSocketServer) {
    server.on('connection', (socket: WebSocket) => {
      if (this.waiting) this.waiting(socket);
      else this.accepted.push(socket);
      this.waiting = undefined;
    });
  }

  static async start(): Promise<Loopback> {
    const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await once(server, 'listening');
    return new Loopback(server);
  }

  /** Opens a client and resolves with it and the server's side of the same socket. */
  async connect(): Promise<{ client: FrameLog; serverSide: WebSocket }> {
    const { port } = this.server.address() as AddressInfo;
    const client = new FrameLog(new WebSocket(`ws://127.0.0.1:${port}`));
    const serverSide = this.accepted.shift() ?? (await new Promise<WebSocket>((resolve) => (this.waiting = resolve)));
    await once(client.socket, 'open').catch(() => undefined);
    return { client, serverSide };
  }

  /** Ends every socket still open, then the server, which waits for its sockets to go. */
  close(): Promise<void> {
    for (const socket of this.server.clients) socket.terminate();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/**
 * The hub-wide parts a connection is built with, minus a real hub: for unit specs of the
 * connection's own behaviour. Its lifetime manager and hub accept every connection.
 */
export function bareRuntime(overrides: Partial<ResolvedHubOptions> = {}, parts: Partial<HubRuntime> = {}): HubRuntime {
  const options = { ...DEFAULT_HUB_OPTIONS, ...overrides };
  const json = new JsonHubProtocol();
  return {
    path: '/hubs/fake',
    options,
    protocols: new Map([[json.name, json]]),
    dispatcher: new HubDispatcher(new Map(), options, new HubExceptionFilter(false)),
    lifetimeManager: { onConnected: async () => {}, onDisconnected: async () => {} } as unknown as HubLifetimeManager,
    groups: {} as HubRuntime['groups'],
    allowStatefulReconnect: true,
    callerClients: () => ({}) as ReturnType<HubRuntime['callerClients']>,
    onConnected: async () => {},
    onDisconnected: async () => {},
    groupsTokenLifetimeMs: 600_000,
    issueGroupsToken: () => undefined,
    forget: () => {},
    clock: { now: Date.now(), resolutionMs: 1000 },
    ...parts,
  };
}
