import { MAX_LENGTH_PREFIX_SIZE } from '../protocol/messagepack-framing.js';
import { flag, invalidOptions, listOf, milliseconds, oneOf, optionProblems, positiveInteger, type OptionRules } from './option-rules.js';

/** The transports a hub can offer, in the order negotiate lists them (ASP.NET Core's order). */
export const HUB_TRANSPORTS = ['WebSockets', 'ServerSentEvents', 'LongPolling'] as const;

/** A transport, named as the client's `HttpTransportType` names it. */
export type TransportName = (typeof HUB_TRANSPORTS)[number];

/**
 * Limits and timeouts of a hub. Every field can be set for the whole module
 * (`SignalRModule.forRoot`) and again for one hub (`@Hub(path, options)`); the hub wins.
 * Defaults follow ASP.NET Core's `HubOptions`, so clients behave as they would against it.
 */
export interface HubOptions {
  /**
   * The server sends a Ping after this long without sending anything.
   * @default 15000 ms
   */
  keepAliveIntervalMs?: number;
  /**
   * The connection is closed when the client sent nothing (not even a Ping) for this long.
   * @default 30000 ms
   */
  clientTimeoutIntervalMs?: number;
  /**
   * The client must complete its handshake, and the hub's `onConnected` must return, within this
   * time; the connection is closed otherwise.
   * @default 15000 ms
   */
  handshakeTimeoutMs?: number;
  /**
   * Largest message accepted from a client, in bytes; a larger one closes the connection.
   * @default 32768 bytes
   */
  maximumReceiveMessageSize?: number;
  /**
   * Largest WebSocket frame read from a client. The official client sends whatever queued up
   * while a send was in flight as one frame, so a frame may hold many messages, each within
   * `maximumReceiveMessageSize`. ASP.NET Core reads frames as streams; here a frame is read whole,
   * so this bounds what one client makes the server allocate at once. A larger frame is refused
   * unread (WebSocket close 1009).
   * @default 1048576 bytes (1 MiB)
   */
  maximumReceiveFrameSize?: number;
  /**
   * Hub method invocations a client may have running at once; further ones wait in order.
   * @default 1
   */
  maximumParallelInvocationsPerClient?: number;
  /**
   * Invocations that may wait behind the running ones before the client is considered abusive
   * and its connection is closed.
   * @default 100
   */
  maximumQueuedInvocationsPerClient?: number;
  /**
   * Items an upload stream buffers before the client is told to slow down (the socket is paused).
   * @default 10
   */
  streamBufferCapacity?: number;
  /**
   * How long the server waits for a client's answer to a client-result invocation.
   * @default 30000 ms
   */
  clientResultTimeoutMs?: number;
  /**
   * Bytes of unacknowledged messages a stateful-reconnect connection keeps for replay before its
   * streams and invocations wait for the client's Ack (the socket is still read, so Acks get
   * through). A client over it that acknowledges nothing for `clientTimeoutIntervalMs` loses its
   * socket and may resume.
   * @default 100000 bytes
   */
  statefulReconnectBufferSize?: number;
  /**
   * How long a stateful-reconnect connection whose socket dropped waits for its client to come
   * back, keeping its id, groups and unacknowledged messages.
   * @default 15000 ms
   */
  reconnectWindowMs?: number;
  /**
   * Bytes the server holds for one client that does not read them fast enough: what the socket has
   * not written yet plus, for stateful reconnect, what the client has not acknowledged. A client
   * past it is a slow consumer: it is closed with a Close message saying so, and nothing more is
   * queued for it. Streams and the client's own invocations wait long before that, as soon as
   * the socket holds `STREAM_PAUSE_BYTES`.
   * @default 4194304 bytes (4 MiB)
   */
  maximumBufferedBytesPerClient?: number;
  /**
   * Streams one client may have open at once, server-to-client and upload streams together;
   * they do not count against `maximumParallelInvocationsPerClient`. A call that would open more
   * is answered with an error completion.
   * @default 16
   */
  maximumConcurrentStreamsPerClient?: number;
  /**
   * Items an Observable returned by a streaming method may have waiting for a slow client. An
   * Observable cannot be paused (async iterables are: they are simply not asked for more), so
   * past this the stream ends with an error completion rather than growing without bound.
   * @default 1000
   */
  maximumQueuedObservableItems?: number;
  /**
   * Deepest nesting of arrays and objects (maps) accepted in a message, JSON or MessagePack.
   * @default 32
   */
  maximumNestingDepth?: number;
  /**
   * Groups one connection may be in at once; a join past it rejects with `SIGNALR_TOO_MANY_GROUPS`
   * (and a hub method that lets it propagate answers its caller with that message). Each group
   * costs memory on the node and, with Redis, a channel subscription and a stored set member:
   * unbounded, a client that joins in a loop grows them all, and its groups token stops fitting.
   * Rejoining a group the connection is in does not count. ASP.NET Core has no such limit.
   * @default 100
   */
  maximumGroupsPerConnection?: number;
  /**
   * The transports clients may connect over. Negotiate lists them in ASP.NET Core's order
   * (WebSockets, ServerSentEvents, LongPolling) whatever the order here, and the client takes the
   * first it supports; a request over another is refused with 404
   * `<transport> transport not supported by this end point type`.
   * @default ['WebSockets', 'ServerSentEvents', 'LongPolling'] (all of them, as ASP.NET Core)
   */
  transports?: readonly TransportName[];
  /**
   * How long a long poll waits for messages before it is answered empty (200) and the client
   * polls again; below the official client's own 100 s timeout of a poll.
   * @default 90000 ms
   */
  longPollingTimeoutMs?: number;
  /**
   * A long-polling connection with no poll open for this long is closed: long polling has no
   * pings, so a poll within this time is how its client shows it is there.
   * @default 15000 ms
   */
  disconnectTimeoutMs?: number;
  /**
   * A write to a Server-Sent Events stream or a poll's answer that the client has not taken
   * within this time closes the connection (a reader that stalled). WebSockets have the outbound
   * limit and the client timeout instead.
   * @default 10000 ms
   */
  transportSendTimeoutMs?: number;
  /**
   * Serve ASP.NET Core 11's authentication refresh: negotiate announces the credential's
   * `tokenLifetimeSeconds`, and `POST {hub}/refresh` gives a live connection a newer credential of
   * the same user, so that expiry does not close it. Only while the module's
   * `closeOnCredentialExpiry` is on: a connection that expiry never closes has nothing to refresh.
   * @default true
   */
  authenticationRefresh?: boolean;
  /**
   * Authentication refreshes one connection may ask for within a minute; one more is refused with
   * 429 `{"error":"too_many_refreshes"}` and the connection keeps its credential. The official
   * clients refresh at half a short lifetime: 120 lets a 2-second token refresh every second.
   * @default 120
   */
  maximumAuthenticationRefreshesPerMinute?: number;
}

export type ResolvedHubOptions = Required<HubOptions>;

export const DEFAULT_HUB_OPTIONS: ResolvedHubOptions = Object.freeze({
  keepAliveIntervalMs: 15_000,
  clientTimeoutIntervalMs: 30_000,
  handshakeTimeoutMs: 15_000,
  maximumReceiveMessageSize: 32 * 1024,
  maximumParallelInvocationsPerClient: 1,
  maximumQueuedInvocationsPerClient: 100,
  streamBufferCapacity: 10,
  clientResultTimeoutMs: 30_000,
  statefulReconnectBufferSize: 100_000,
  reconnectWindowMs: 15_000,
  maximumNestingDepth: 32,
  maximumBufferedBytesPerClient: 4 * 1024 * 1024,
  maximumConcurrentStreamsPerClient: 16,
  maximumQueuedObservableItems: 1000,
  maximumReceiveFrameSize: 1024 * 1024,
  maximumGroupsPerConnection: 100,
  transports: HUB_TRANSPORTS,
  longPollingTimeoutMs: 90_000,
  disconnectTimeoutMs: 15_000,
  transportSendTimeoutMs: 10_000,
  authenticationRefresh: true,
  maximumAuthenticationRefreshesPerMinute: 120,
});

/**
 * Streams and the client's own invocations wait while the socket holds this many unwritten bytes,
 * and go on once it is down to `STREAM_RESUME_BYTES`: ASP.NET Core's transport pauses its writers
 * at the same 64 KiB (`TransportMaxBufferSize`) and resumes them at half.
 */
export const STREAM_PAUSE_BYTES = 64 * 1024;
export const STREAM_RESUME_BYTES = STREAM_PAUSE_BYTES / 2;

/**
 * What a client may have sent, already read, while the hub's onConnected runs (its socket is paused
 * meanwhile): ASP.NET Core's `ApplicationMaxBufferSize`, or one frame of the largest allowed size.
 */
export const PRE_CONNECT_BUFFER_BYTES = 64 * 1024;

const bytes = positiveInteger('bytes');

/** What each hub option accepts; the relations between them are `hubOptionProblems`'. */
export const HUB_OPTION_RULES: OptionRules<HubOptions> = {
  keepAliveIntervalMs: milliseconds,
  clientTimeoutIntervalMs: milliseconds,
  handshakeTimeoutMs: milliseconds,
  maximumReceiveMessageSize: bytes,
  maximumReceiveFrameSize: bytes,
  maximumParallelInvocationsPerClient: positiveInteger('invocations'),
  maximumQueuedInvocationsPerClient: positiveInteger('invocations'),
  streamBufferCapacity: positiveInteger('items'),
  clientResultTimeoutMs: milliseconds,
  statefulReconnectBufferSize: bytes,
  reconnectWindowMs: milliseconds,
  maximumBufferedBytesPerClient: bytes,
  maximumConcurrentStreamsPerClient: positiveInteger('streams'),
  maximumQueuedObservableItems: positiveInteger('items'),
  maximumNestingDepth: positiveInteger('levels'),
  maximumGroupsPerConnection: positiveInteger('groups'),
  transports: (value) => {
    const problem = listOf(oneOf(...HUB_TRANSPORTS), 'transport names')(value);
    return problem ?? ((value as unknown[]).length === 0 ? 'must list at least one transport' : undefined);
  },
  longPollingTimeoutMs: milliseconds,
  disconnectTimeoutMs: milliseconds,
  transportSendTimeoutMs: milliseconds,
  authenticationRefresh: flag,
  maximumAuthenticationRefreshesPerMinute: positiveInteger('refreshes'),
};

/** A hub's own options (`@Hub(path, options)`): known, of their type and in range; how they fit the module's is asked when it is served. */
export function checkHubOptions(hubPath: string, options: unknown): void {
  const problems = optionProblems(HUB_OPTION_RULES, options);
  if (problems.length > 0) throw invalidOptions(`@Hub('${hubPath}')`, problems);
}

/**
 * Later layers win; an `undefined` field means "not set here" and never erases an earlier one.
 * Layers may carry other options too (the module's): only hub options are taken. Each value was
 * checked against `HUB_OPTION_RULES` where it was set; here, how they fit together.
 */
export function resolveHubOptions(layers: readonly (HubOptions | undefined)[], where = 'a hub'): ResolvedHubOptions {
  const resolved = mergeHubOptions(...layers);
  const problems = hubOptionProblems(resolved);
  if (problems.length > 0) throw invalidOptions(where, problems);
  return resolved;
}

/** The layers over the defaults, unchecked. */
export function mergeHubOptions(...layers: (HubOptions | undefined)[]): ResolvedHubOptions {
  const merged: Record<string, unknown> = { ...DEFAULT_HUB_OPTIONS };
  for (const layer of layers) {
    for (const key of Object.keys(DEFAULT_HUB_OPTIONS)) {
      const value = (layer as Record<string, unknown> | undefined)?.[key];
      if (value !== undefined) merged[key] = value;
    }
  }
  return merged as ResolvedHubOptions;
}

/** Where the resolved hub options contradict each other. */
export function hubOptionProblems(options: ResolvedHubOptions): string[] {
  const problems: string[] = [];
  // The official client pings every 15 s (its keepAliveIntervalInMilliseconds, by convention the
  // server's keep-alive): a timeout no longer than that closes healthy clients between two pings.
  // ASP.NET Core recommends twice the keep-alive.
  if (options.clientTimeoutIntervalMs <= options.keepAliveIntervalMs) {
    problems.push(
      `'clientTimeoutIntervalMs' (${options.clientTimeoutIntervalMs}) must be longer than 'keepAliveIntervalMs' (${options.keepAliveIntervalMs}), ` +
        'or clients are closed between two pings; twice the keep-alive is the usual value',
    );
  }
  // The largest framing of a message is MessagePack's length prefix (JSON needs one byte).
  const smallestFrame = options.maximumReceiveMessageSize + MAX_LENGTH_PREFIX_SIZE;
  if (options.maximumReceiveFrameSize < smallestFrame) {
    problems.push(
      `'maximumReceiveFrameSize' (${options.maximumReceiveFrameSize}) must hold one message of 'maximumReceiveMessageSize' and its framing (${smallestFrame} bytes)`,
    );
  }
  // Below these, the hard limit would close clients before streams or Acks could ever slow down.
  const floor = Math.max(2 * STREAM_PAUSE_BYTES, options.statefulReconnectBufferSize);
  if (options.maximumBufferedBytesPerClient < floor) {
    problems.push(
      `'maximumBufferedBytesPerClient' (${options.maximumBufferedBytesPerClient}) must be at least ${floor} bytes ` +
        `(twice the ${STREAM_PAUSE_BYTES}-byte stream pause threshold, and 'statefulReconnectBufferSize')`,
    );
  }
  return problems;
}
