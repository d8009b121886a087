import type { ConnectionRequest } from 'nestjs-signalr';

/** The request of a connection that unit tests build without a socket: anonymous, from loopback. */
export const ANONYMOUS_REQUEST: ConnectionRequest = Object.freeze({
  transport: 'WebSockets',
  headers: Object.freeze({}),
  cookies: Object.freeze({}),
  query: Object.freeze({}),
  remoteAddress: '127.0.0.1',
  user: undefined,
});
