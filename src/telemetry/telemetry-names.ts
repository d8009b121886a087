import type { TransportName } from '../hub/connection-request.js';

/** The instrumentation scope of every meter and tracer of the package. */
export const INSTRUMENTATION_SCOPE = 'nestjs-signalr';

/**
 * ASP.NET Core's two instruments (semantic conventions, stable): same names, units, attributes,
 * values and bucket advice, so that dashboards built for .NET read a Nest server as they are.
 */
export const CONNECTION_DURATION = 'signalr.server.connection.duration';
export const ACTIVE_CONNECTIONS = 'signalr.server.active_connections';
export const ATTR_CONNECTION_STATUS = 'signalr.connection.status';
export const ATTR_TRANSPORT = 'signalr.transport';
export const LONG_SECONDS_BUCKETS = [0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 30, 60, 120, 300];

/** `signalr.transport`'s values, from the client's transport names. */
export const TRANSPORT_VALUES: Readonly<Record<TransportName, string>> = {
  WebSockets: 'web_sockets',
  ServerSentEvents: 'server_sent_events',
  LongPolling: 'long_polling',
};

// Beyond ASP.NET Core: what its users have asked for (dotnet/aspnetcore#2461, #53050).
export const INVOCATIONS = 'signalr.server.invocations';
export const INVOCATION_DURATION = 'signalr.server.invocation.duration';
export const ATTR_INVOCATION_OUTCOME = 'signalr.invocation.outcome';
export const MESSAGES_SENT = 'signalr.server.sent.messages';
export const MESSAGES_RECEIVED = 'signalr.server.received.messages';
export const BYTES_SENT = 'signalr.server.sent.bytes';
export const BYTES_RECEIVED = 'signalr.server.received.bytes';
export const REFUSALS = 'signalr.server.refusals';
export const ATTR_REFUSAL_REASON = 'signalr.refusal.reason';
export const ATTR_REFUSAL_STAGE = 'signalr.refusal.stage';
export const SLOW_CONSUMERS = 'signalr.server.slow_consumers';
export const BACKPLANE_PUBLISH_DURATION = 'signalr.server.backplane.publish.duration';
export const BACKPLANE_OUTAGES = 'signalr.server.backplane.outages';
export const BACKPLANE_DROPPED_MESSAGES = 'signalr.server.backplane.dropped_messages';
export const BACKPLANE_SUBSCRIPTION_GAPS = 'signalr.server.backplane.subscription_gaps';
/** The hub class, on the backplane's instruments (the invocation ones carry `rpc.service`). */
export const ATTR_HUB = 'signalr.hub';

/** The advice of `http.server.request.duration` (ASP.NET Core's ShortSecondsBucketBoundaries). */
export const SHORT_SECONDS_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];
/** The advice of `db.client.operation.duration`: a publish is one Redis command. */
export const DATABASE_SECONDS_BUCKETS = [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10];

// Spans, shaped as ASP.NET Core's (SignalRServerActivitySource, DefaultHubDispatcher).
export const ATTR_RPC_SYSTEM = 'rpc.system';
export const ATTR_RPC_SERVICE = 'rpc.service';
export const ATTR_RPC_METHOD = 'rpc.method';
export const ATTR_ERROR_TYPE = 'error.type';
export const RPC_SYSTEM = 'signalr';
/** The semantic conventions' value for what is not one of a bounded set: an unknown method name. */
export const OTHER_VALUE = '_OTHER';
