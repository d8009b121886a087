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
