// The chat page's connection on the classic jQuery client (`/classic.html`, npm `signalr` 2.4.3):
// hub `chatHub` on the classic endpoint at /signalr, the same hub as /hubs/chat.
const $ = window.jQuery;
const CLASSIC_TRANSPORTS = { WebSockets: 'webSockets', ServerSentEvents: 'serverSentEvents', LongPolling: 'longPolling' };

export async function connectChat({ accessToken, transport, receiveMessage, announcement, state }) {
  const connection = $.hubConnection('/signalr', { useDefaultPath: false, qs: { access_token: accessToken() } });
  const chat = connection.createHubProxy('chatHub');
  // Handlers are registered before start: the client names only hubs with handlers in connectionData.
  chat.on('receiveMessage', receiveMessage);
  chat.on('announcement', announcement);
  connection.reconnecting(() => state('reconnecting'));
  connection.reconnected(() => state('connected'));
  connection.disconnected(() => state('disconnected'));
  await new Promise((resolve, reject) => connection.start(transport ? { transport: CLASSIC_TRANSPORTS[transport] } : {}).done(resolve).fail(reject));
  return {
    invoke: (method, ...args) => new Promise((resolve, reject) => chat.invoke(method, ...args).done(resolve).fail(reject)),
    stop: async () => connection.stop(),
  };
}
