import { flag, integerBetween, listOf, MAX_TIMER_MS, milliseconds, nested, oneOf, positiveInteger, type OptionRules } from './option-rules.js';

/** The classic transports, named as the jQuery client names them, in its fallback order. */
export const CLASSIC_TRANSPORTS = ['webSockets', 'serverSentEvents', 'longPolling'] as const;

export type ClassicTransportName = (typeof CLASSIC_TRANSPORTS)[number];

/**
 * The classic SignalR 2.x endpoint, which serves the unmodified jQuery client (npm `signalr`
 * 2.4.3) from the same hubs. Timeouts default to classic SignalR's, so the client behaves as it
 * did against ASP.NET.
 */
export interface ClassicEndpointOptions {
  /**
   * Where the endpoint is served; the jQuery client's default URL.
   * @default '/signalr'
   */
  path?: string;
  /**
   * The transports offered; `foreverFrame` is always refused, so the client falls back.
   * @default ['webSockets', 'serverSentEvents', 'longPolling']
   */
  transports?: readonly ClassicTransportName[];
  /**
   * Answer JSONP requests (`callback=`): they cross origins without CORS, so they are refused
   * with 403 unless turned on.
   * @default false
   */
  jsonp?: boolean;
  /**
   * Serve the generated proxy at `{path}/hubs` (and `{path}/js`), listing only the hubs and
   * methods the requester may call. Off: 404.
   * @default false
   */
  hubsProxy?: boolean;
  /**
   * A WebSocket or event-stream client is never left longer than this without a message: a
   * keep-alive (`{}`) fills the silence. Negotiate announces twice this as the client's
   * keep-alive timeout, after which it drops the transport and reconnects.
   * @default 10000 ms (classic SignalR's KeepAlive)
   */
  keepAliveMs?: number;
  /**
   * A connection without an open receive request (socket, stream or poll) for this long ends.
   * @default 30000 ms (classic SignalR's DisconnectTimeout)
   */
  disconnectTimeoutMs?: number;
  /**
   * A long poll with nothing to send is answered empty after this long.
   * @default 110000 ms (classic SignalR's ConnectionTimeout; the client's poll timeout is 10 s more)
   */
  connectionTimeoutMs?: number;
  /**
   * How long the client waits for a transport to start before it falls back to the next one.
   * @default 5000 ms
   */
  transportConnectTimeoutMs?: number;
  /**
   * Messages kept per connection for a client that reconnects or polls late; older ones are lost to it.
   * @default 1000 (classic SignalR's DefaultMessageBufferSize)
   */
  messageBufferSize?: number;
  /**
   * Largest hub invocation read from a client (a WebSocket frame, or the body of `/send`), in
   * bytes; a larger frame closes the socket, a larger body is refused with 413.
   * @default 65536 bytes (classic SignalR's MaxIncomingWebSocketMessageSize)
   */
  maximumReceiveMessageSize?: number;
}

export type ResolvedClassicEndpointOptions = Required<ClassicEndpointOptions>;

export const DEFAULT_CLASSIC_ENDPOINT_OPTIONS: ResolvedClassicEndpointOptions = Object.freeze({
  path: '/signalr',
  transports: CLASSIC_TRANSPORTS,
  jsonp: false,
  hubsProxy: false,
  keepAliveMs: 10_000,
  disconnectTimeoutMs: 30_000,
  connectionTimeoutMs: 110_000,
  transportConnectTimeoutMs: 5_000,
  messageBufferSize: 1000,
  maximumReceiveMessageSize: 65_536,
});

const path = (value: unknown) =>
  typeof value === 'string' && value.startsWith('/') && !value.endsWith('/') && !value.includes('?')
    ? undefined
    : "must be a path starting with '/', with no trailing '/' or query";

export const CLASSIC_ENDPOINT_OPTION_RULES: OptionRules<ClassicEndpointOptions> = {
  path,
  transports: listOf(oneOf(...CLASSIC_TRANSPORTS), 'classic transport names'),
  jsonp: flag,
  hubsProxy: flag,
  // Classic SignalR refuses a keep-alive under 2 s.
  keepAliveMs: integerBetween(2000, MAX_TIMER_MS, 'milliseconds'),
  disconnectTimeoutMs: integerBetween(6000, MAX_TIMER_MS, 'milliseconds'),
  connectionTimeoutMs: milliseconds,
  transportConnectTimeoutMs: milliseconds,
  messageBufferSize: positiveInteger('messages'),
  maximumReceiveMessageSize: positiveInteger('bytes'),
};

/** `classic: true` or an options object: either turns the endpoint on. */
export const classicOptionRule = (value: unknown) => (typeof value === 'boolean' ? undefined : nested(CLASSIC_ENDPOINT_OPTION_RULES)(value));

/** The endpoint's options with their defaults; undefined while it is off. */
export function resolveClassicEndpointOptions(option: boolean | ClassicEndpointOptions | undefined): ResolvedClassicEndpointOptions | undefined {
  if (!option) return undefined;
  const given = option === true ? {} : option;
  const defined = Object.fromEntries(Object.entries(given).filter(([, value]) => value !== undefined));
  return { ...DEFAULT_CLASSIC_ENDPOINT_OPTIONS, ...defined };
}
