import type { HttpRequest, HttpResponse, HubConnection } from '@microsoft/signalr';

// Every place the client extension relies on internals of `@microsoft/signalr`, for want of a
// public way. Pinned by test/client-extension/signalr-client-internals.spec.ts, which names what
// moved and the client version it moved in.

const MESSAGE_BUFFER = '_messageBuffer';
const LATEST_RECEIVED = '_latestReceivedSequenceId';

/**
 * How many messages the connection received, as stateful reconnect numbers them. The client
 * keeps the count in its private message buffer and offers no public way to read it; counting
 * beside it would mean redoing its sequence rules (duplicates dropped after a reconnect, the
 * restart a Sequence message orders), where any drift would lose messages without a sound.
 * Undefined when it is not there: the socket then reconnects without resuming, as it would
 * without the extension.
 */
export function receivedCount(connection: HubConnection): number | undefined {
  const buffer: unknown = Reflect.get(connection, MESSAGE_BUFFER);
  const received: unknown = typeof buffer === 'object' && buffer !== null ? Reflect.get(buffer, LATEST_RECEIVED) : undefined;
  return typeof received === 'number' ? received : undefined;
}

const HTTP_CONNECTION = 'connection';

/** What the client's access-token wrapper asks of the HTTP client it wraps. */
export interface InnerHttpClient {
  send(request: HttpRequest): Promise<HttpResponse>;
  getCookieString(url: string): string;
}

const isHttpClient = (value: unknown): value is InnerHttpClient =>
  typeof value === 'object' && value !== null && typeof Reflect.get(value, 'send') === 'function' && typeof Reflect.get(value, 'getCookieString') === 'function';

/**
 * Puts `wrap(inner)` under the access-token wrapper of a connection built but not started, so that
 * every request of the connection (negotiate first) goes through it with its `Authorization`
 * header set: the client offers no public way to see the negotiate response. Found by shape, not
 * by name: the browser build (`signalr.min.js`) renames the private fields that hold them. False
 * when they are not there: see test/client-extension/signalr-client-internals.spec.ts.
 */
export function wrapInnerHttpClient(connection: HubConnection, wrap: (inner: InnerHttpClient) => InnerHttpClient): boolean {
  const httpConnection: unknown = Reflect.get(connection, HTTP_CONNECTION);
  if (typeof httpConnection !== 'object' || httpConnection === null) return false;
  // Before start the connection holds one HTTP client (the access-token wrapper), and that wrapper the one it wraps.
  const accessTokenClient = Object.values(httpConnection).find(isHttpClient);
  const innerKey = accessTokenClient && Object.keys(accessTokenClient).find((key) => isHttpClient(Reflect.get(accessTokenClient, key)));
  if (!accessTokenClient || innerKey === undefined) return false;
  return Reflect.set(accessTokenClient, innerKey, wrap(Reflect.get(accessTokenClient, innerKey) as InnerHttpClient));
}
