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

/** Builds and starts an unmodified @microsoft/signalr client. */
export async function connectClient(
  url: string,
  options: IHttpConnectionOptions = {},
  configure: (connection: HubConnection) => void = () => undefined,
  protocol: WireProtocol = 'json',
): Promise<HubConnection> {
  const connection = new HubConnectionBuilder()
    .withUrl(url, { transport: HttpTransportType.WebSockets, ...options })
    .withHubProtocol(protocol === 'json' ? new JsonHubProtocol() : new MessagePackHubProtocol())
    .configureLogging(LogLevel.None)
    .build();
  configure(connection);
  await connection.start();
  return connection;
}

/** Starts an unmodified client that asks for stateful reconnect (`withStatefulReconnect()`). */
export async function statefulClient(url: string, protocol: WireProtocol, accessTokenFactory?: () => string): Promise<HubConnection> {
  const connection = new HubConnectionBuilder()
    .withUrl(url, { transport: HttpTransportType.WebSockets, accessTokenFactory })
    .withStatefulReconnect()
    .withHubProtocol(protocol === 'json' ? new JsonHubProtocol() : new MessagePackHubProtocol())
    .configureLogging(LogLevel.None)
    .build();
  await connection.start();
  return connection;
}

/** Connects clients speaking one protocol and stops every one of them at the end of a suite. */
export class ClientPool {
  private readonly connections: HubConnection[] = [];

  constructor(private readonly protocol: WireProtocol = 'json') {}

  async connect(
    url: string,
    options: IHttpConnectionOptions = {},
    configure?: (connection: HubConnection) => void,
  ): Promise<HubConnection> {
    const connection = await connectClient(url, options, configure, this.protocol);
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
