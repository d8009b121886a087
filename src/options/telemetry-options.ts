import { flag, nested, oneOf, type OptionRule, type OptionRules } from './option-rules.js';

/**
 * Which invocation spans are made: every invocation's, only those of invocations whose client
 * propagated a trace context (a `traceparent` in the invocation's headers, as OpenTelemetry's
 * own instrumentations do with `requireParentSpan`), or none.
 */
export type InvocationSpans = 'all' | 'propagated' | 'none';

/**
 * What the package records per hub invocation once the application registered an OpenTelemetry
 * SDK. Counts, connection metrics and the spans of connections, `onConnected` and
 * `onDisconnected` are always on: they cost nothing per message. The two below cost the SDK's
 * work on every call, a real share of a call that does little (see the README's figures).
 */
export interface TelemetryOptions {
  /**
   * Record `signalr.server.invocation.duration` for every invocation.
   * @default true
   */
  invocationDuration?: boolean;
  /**
   * Which invocations get a `{Hub}/{method}` SERVER span.
   * @default 'all'
   */
  invocationSpans?: InvocationSpans;
}

export const DEFAULT_INVOCATION_SPANS: InvocationSpans = 'all';

const TELEMETRY_OPTION_RULES: OptionRules<TelemetryOptions> = {
  invocationDuration: flag,
  invocationSpans: oneOf('all', 'propagated', 'none'),
};

export const telemetryOptionRule: OptionRule = (value) => (value === false ? undefined : nested(TELEMETRY_OPTION_RULES)(value));
