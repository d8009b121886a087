import {
  HubConnectionBuilder,
  HttpTransportType,
  LogLevel,
  type HubConnection,
  type IHttpConnectionOptions,
} from '@microsoft/signalr';

/** Builds and starts an unmodified @microsoft/signalr client. */
export async function connectClient(
  url: string,
  options: IHttpConnectionOptions = {},
  configure: (connection: HubConnection) => void = () => undefined,
): Promise<HubConnection> {
  const connection = new HubConnectionBuilder()
    .withUrl(url, { transport: HttpTransportType.WebSockets, ...options })
    .configureLogging(LogLevel.None)
    .build();
  configure(connection);
  await connection.start();
  return connection;
}

/** Connects clients and stops every one of them at the end of a suite. */
export class ClientPool {
  private readonly connections: HubConnection[] = [];

  async connect(...args: Parameters<typeof connectClient>): Promise<HubConnection> {
    const connection = await connectClient(...args);
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
