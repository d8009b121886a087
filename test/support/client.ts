import {
  HubConnectionBuilder,
  HttpTransportType,
  JsonHubProtocol,
  LogLevel,
  type HubConnection,
  type IHttpConnectionOptions,
} from '@microsoft/signalr';
import { MessagePackHubProtocol } from '@microsoft/signalr-protocol-msgpack';

export type WireProtocol = 'json' | 'messagepack';

/** The wire formats the server speaks; interop suites run once for each. */
export const WIRE_PROTOCOLS: readonly WireProtocol[] = ['json', 'messagepack'];

export type TransportName = 'WebSockets' | 'ServerSentEvents' | 'LongPolling';

/** The transports the server offers, in the order negotiate lists them. */
export const TRANSPORT_NAMES: readonly TransportName[] = ['WebSockets', 'ServerSentEvents', 'LongPolling'];

/** Every transport with every wire format it carries: Server-Sent Events are text only, so never MessagePack. */
export const TRANSPORTS_AND_PROTOCOLS: readonly (readonly [TransportName, WireProtocol])[] = TRANSPORT_NAMES.flatMap((transport) =>
  WIRE_PROTOCOLS.filter((protocol) => transport !== 'ServerSentEvents' || protocol === 'json').map((protocol) => [transport, protocol] as const),
);

/** Builds and starts an unmodified @microsoft/signalr client. */
export async function connectClient(
  url: string,
  options: IHttpConnectionOptions = {},
  configure: (connection: HubConnection) => void = () => undefined,
  protocol: WireProtocol = 'json',
  stateful = false,
): Promise<HubConnection> {
  const builder = new HubConnectionBuilder()
    .withUrl(url, { transport: HttpTransportType.WebSockets, ...options })
    .withHubProtocol(protocol === 'json' ? new JsonHubProtocol() : new MessagePackHubProtocol())
    .configureLogging(LogLevel.None);
  const connection = (stateful ? builder.withStatefulReconnect() : builder).build();
  configure(connection);
  await connection.start();
  return connection;
}

/** A client with stateful reconnect: a dropped socket resumes the same connection. */
export function connectStatefulClient(url: string, protocol: WireProtocol, accessTokenFactory?: () => string): Promise<HubConnection> {
  return connectClient(url, { accessTokenFactory }, undefined, protocol, true);
}

/** Connects clients speaking one protocol and stops every one of them at the end of a suite. */
export class ClientPool {
  private readonly connections: HubConnection[] = [];

  constructor(
    private readonly protocol: WireProtocol = 'json',
    private readonly stateful = false,
    private readonly transport: TransportName = 'WebSockets',
  ) {}

  async connect(
    url: string,
    options: IHttpConnectionOptions = {},
    configure?: (connection: HubConnection) => void,
  ): Promise<HubConnection> {
    const transport = HttpTransportType[this.transport];
    const connection = await connectClient(url, { transport, ...options }, configure, this.protocol, this.stateful);
    this.connections.push(connection);
    return connection;
  }

  async stopAll(): Promise<void> {
    await Promise.all(this.connections.splice(0).map((connection) => connection.stop()));
  }
}

/** Resolves with the arguments of the next call of `method` on the client. */
export function nextCall(connection: HubConnection, method: string): Promise<unknown[]> {
  return new Promise((resolve) => {
    const handler = (...args: unknown[]) => {
      connection.off(method, handler);
      resolve(args);
    };
    connection.on(method, handler);
  });
}

/** Every item of a server stream (`connection.stream(...)`), once it completed. */
export function collect<T>(stream: { subscribe(observer: { next(v: T): void; complete(): void; error(e: unknown): void }): unknown }): Promise<T[]> {
  return new Promise((resolve, reject) => {
    const items: T[] = [];
    stream.subscribe({ next: (value) => items.push(value), complete: () => resolve(items), error: reject });
  });
}

