// The chat page's connection on the official client (`/`): the hub at /hubs/chat, its tokens
// refreshed before they expire by the package's client extension (ASP.NET Core 11's
// authentication refresh, until the official client 11 reaches npm).
import { AuthenticationRefresh } from './vendor/nestjs-signalr/authentication-refresh.js';

const { HttpTransportType, HubConnectionBuilder, HubConnectionState, LogLevel } = window.signalR;
const HUB = '/hubs/chat';

export async function connectChat({ accessToken, renewAccessToken, transport, receiveMessage, announcement, state }) {
  const refresh = new AuthenticationRefresh(HUB, {
    accessTokenFactory: renewAccessToken,
    // Not retried, as the official clients: the server closes the connection at the old token's end and the client reconnects.
    onRefreshFailed: (error) => console.warn(`Authentication refresh failed: ${error.message}`),
  });
  // Stateful reconnect is carried by WebSockets only; the client asks for it there alone.
  const connection = refresh.attach(
    new HubConnectionBuilder()
      .withUrl(HUB, { accessTokenFactory: accessToken, ...(transport ? { transport: HttpTransportType[transport] } : {}) })
      .withStatefulReconnect()
      .withAutomaticReconnect()
      .configureLogging(LogLevel.Warning)
      .build(),
  );
  connection.on('ReceiveMessage', receiveMessage);
  connection.on('Announcement', announcement);
  connection.onreconnecting(() => state('reconnecting'));
  connection.onreconnected(() => state('connected'));
  connection.onclose(() => state('disconnected'));
  await connection.start();
  return {
    invoke: (method, ...args) => connection.invoke(method, ...args),
    stop: async () => {
      if (connection.state !== HubConnectionState.Disconnected) await connection.stop();
    },
  };
}
