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
const HTTP_CLIENT = '_httpClient';
const INNER_CLIENT = '_innerClient';
const ACCESS_TOKEN = '_accessToken';

/** What the client's access-token wrapper asks of the HTTP client it wraps. */
export interface InnerHttpClient {
  send(request: HttpRequest): Promise<HttpResponse>;
  getCookieString(url: string): string;
}

/** The access-token wrapper every HTTP request of a connection goes through. */
export interface AccessTokenClient {
  /**
   * Puts `wrap(inner)` under it, on a connection built but not started: every request (negotiate
   * first) then goes through it with its `Authorization` header set. The client offers no public
   * way to see the negotiate response.
   */
  wrapInner(wrap: (inner: InnerHttpClient) => InnerHttpClient): void;
  /**
   * Makes `token` the one later requests (polls, sends) carry. The client keeps the token of its
   * first request and asks for another only on a 401, which its fetch client throws rather than
   * returns: a token that expired would end a long-polling or SSE connection at its next request.
   */
  adoptAccessToken(token: string): void;
}

/** Undefined when the wrapper is not where it was: see test/client-extension/signalr-client-internals.spec.ts. */
export function accessTokenClientOf(connection: HubConnection): AccessTokenClient | undefined {
  const httpConnection: unknown = Reflect.get(connection, HTTP_CONNECTION);
  const client: unknown = typeof httpConnection === 'object' && httpConnection !== null ? Reflect.get(httpConnection, HTTP_CLIENT) : undefined;
  if (typeof client !== 'object' || client === null) return undefined;
  const inner: unknown = Reflect.get(client, INNER_CLIENT);
  if (typeof inner !== 'object' || inner === null || typeof (inner as InnerHttpClient).send !== 'function') return undefined;
  return {
    wrapInner: (wrap) => void Reflect.set(client, INNER_CLIENT, wrap(inner as InnerHttpClient)),
    adoptAccessToken: (token) => void Reflect.set(client, ACCESS_TOKEN, token),
  };
}
