import type { Tracer } from '@opentelemetry/api';
import type { ConnectionRequest } from '../hub/connection-request.js';
import type { HubLifecycle } from '../hub/hub-lifecycle.js';
import type { HubMethod } from '../hub/hub-methods.js';
import type { ConnectionMetrics } from './connection-metrics.js';
import { ConnectionTracing } from './connection-tracing.js';
import { InvocationTelemetry, type InvocationInstruments } from './invocation-telemetry.js';
import type { OpenTelemetryApi } from './open-telemetry-api.js';
import type { BackplaneMeter, HubConnectionsTelemetry, InvocationRefusals, ObservedConnection } from './meters.js';
import type { HubTelemetry } from './telemetry.js';
import type { InvocationSpans } from '../options/telemetry-options.js';

/** The node's instruments one hub records into; each is absent while metrics are off. */
export interface HubInstruments {
  readonly connections: ConnectionMetrics | undefined;
  readonly invocations: InvocationInstruments | undefined;
  readonly backplane: BackplaneMeter | undefined;
}

/** One hub's metrics and spans, of whichever of the two the application registered. */
export class HubTelemetryOf implements HubTelemetry, HubConnectionsTelemetry {
  readonly connections: HubConnectionsTelemetry = this;
  readonly invocationRefusals: InvocationRefusals | undefined;
  readonly backplane: BackplaneMeter | undefined;
  private readonly tracing: ConnectionTracing | undefined;
  private readonly invocations: InvocationTelemetry;

  constructor(api: OpenTelemetryApi, hubName: string, private readonly instruments: HubInstruments, tracer: Tracer | undefined, invocationSpans: InvocationSpans) {
    this.tracing = tracer && new ConnectionTracing(api, tracer, hubName);
    const invocationTracing = this.tracing && invocationSpans !== 'none' ? { tracer: tracer!, connections: this.tracing, propagatedOnly: invocationSpans === 'propagated' } : undefined;
    this.invocations = new InvocationTelemetry(api, hubName, instruments.invocations, invocationTracing);
    this.invocationRefusals = instruments.invocations && this.invocations;
    this.backplane = instruments.backplane;
  }

  opened(request: ConnectionRequest): ObservedConnection {
    const metered = this.instruments.connections?.opened(request.transport);
    const traced = this.tracing?.opened(request);
    return {
      meter: metered?.meter,
      track: (connection) => {
        if (traced) this.tracing!.track(connection, traced);
      },
      closed: (end) => {
        metered?.closed(end);
        traced?.closed();
      },
    };
  }

  methods(methods: ReadonlyMap<string, HubMethod>): Map<string, HubMethod> {
    return new Map([...methods].map(([key, method]) => [key, this.invocations.wrap(method)]));
  }

  lifecycle(lifecycle: HubLifecycle): HubLifecycle {
    return this.tracing ? this.tracing.lifecycle(lifecycle) : lifecycle;
  }
}
