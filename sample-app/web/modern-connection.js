// The chat page's connection on the official client (`/`): the hub at /hubs/chat.
const { HttpTransportType, HubConnectionBuilder, HubConnectionState, LogLevel } = window.signalR;

export async function connectChat({ accessToken, transport, receiveMessage, announcement, state }) {
  // Stateful reconnect is carried by WebSockets only; the client asks for it there alone.
  const connection = new HubConnectionBuilder()
    .withUrl('/hubs/chat', { accessTokenFactory: accessToken, ...(transport ? { transport: HttpTransportType[transport] } : {}) })
    .withStatefulReconnect()
    .withAutomaticReconnect()
    .configureLogging(LogLevel.Warning)
    .build();
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
