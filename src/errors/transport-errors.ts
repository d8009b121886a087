import type { TransportName } from '../options/hub-options.js';

/** ASP.NET Core's answers to requests their connection's transport does not allow, word for word. */
export const transportErrors = {
  connectionIdRequired: 'Connection ID required',
  notSupported: (transport: TransportName) => `${transport} transport not supported by this end point type`,
  cannotChange: 'Cannot change transports mid-connection',
  postOnWebSocket: 'POST requests are not allowed for WebSocket connections.',
  deleteNotLongPolling: 'Cannot terminate this connection using the DELETE endpoint.',
} as const;
