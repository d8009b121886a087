import type { Counter, Histogram, Meter, Tracer } from '@opentelemetry/api';
import { ConnectionMetrics } from './connection-metrics.js';
import { HubTelemetryOf } from './hub-telemetry.js';
import { InvocationCounts } from './invocation-counts.js';
import type { InvocationInstruments } from './invocation-telemetry.js';
import type { OpenTelemetryApi } from './open-telemetry-api.js';
import { DEFAULT_INVOCATION_SPANS, type TelemetryOptions } from '../options/telemetry-options.js';
import type { RefusalMeter, RefusalReason, RefusalStage } from './meters.js';
import type { HubTelemetry, Telemetry } from './telemetry.js';
import {
  ATTR_HUB,
  ATTR_REFUSAL_REASON,
  ATTR_REFUSAL_STAGE,
  BACKPLANE_DROPPED_MESSAGES,
  BACKPLANE_OUTAGES,
  BACKPLANE_PUBLISH_DURATION,
  BACKPLANE_SUBSCRIPTION_GAPS,
  DATABASE_SECONDS_BUCKETS,
  INVOCATION_DURATION,
  REFUSALS,
  SHORT_SECONDS_BUCKETS,
} from './telemetry-names.js';

/** The node's instruments, shared by every hub; each hub's view adds its name to what it records. */
interface NodeInstruments {
  readonly connections: ConnectionMetrics;
  readonly invocations: InvocationInstruments;
  readonly backplane: {
    readonly publishDuration: Histogram;
    readonly droppedMessages: Counter;
    readonly subscriptionGaps: Counter;
    readonly outages: Counter;
  };
}

/** The module's telemetry, over the application's OpenTelemetry API and whichever SDK parts it registered. */
export class SignalRTelemetry implements Telemetry {
  readonly refusals: RefusalMeter | undefined;
  private readonly instruments: NodeInstruments | undefined;

  constructor(
    private readonly api: OpenTelemetryApi,
    meter: Meter | undefined,
    private readonly tracer: Tracer | undefined,
    private readonly options: TelemetryOptions,
  ) {
    if (!meter) return;
    this.instruments = instrumentsOf(meter, options.invocationDuration ?? true);
    const refusals = meter.createCounter(REFUSALS, {
      unit: '{refusal}',
      description: 'Requests into a hub refused before any hub code ran (negotiate, a proxy file, or a connection request).',
    });
    this.refusals = {
      refused: (reason: RefusalReason, stage: RefusalStage) => refusals.add(1, { [ATTR_REFUSAL_REASON]: reason, [ATTR_REFUSAL_STAGE]: stage }),
    };
  }

  forHub(hubName: string): HubTelemetry {
    const { instruments } = this;
    const backplane = instruments && {
      published: (seconds: number) => instruments.backplane.publishDuration.record(seconds, { [ATTR_HUB]: hubName }),
      dropped: () => instruments.backplane.droppedMessages.add(1, { [ATTR_HUB]: hubName }),
      subscriptionGap: () => instruments.backplane.subscriptionGaps.add(1, { [ATTR_HUB]: hubName }),
      outage: () => instruments.backplane.outages.add(1, { [ATTR_HUB]: hubName }),
    };
    const invocationSpans = this.options.invocationSpans ?? DEFAULT_INVOCATION_SPANS;
    return new HubTelemetryOf(this.api, hubName, { connections: instruments?.connections, invocations: instruments?.invocations, backplane }, this.tracer, invocationSpans);
  }
}

function instrumentsOf(meter: Meter, invocationDuration: boolean): NodeInstruments {
  return {
    connections: new ConnectionMetrics(meter),
    invocations: {
      counts: new InvocationCounts(meter),
      duration: invocationDuration
        ? meter.createHistogram(INVOCATION_DURATION, {
            unit: 's',
            description: 'The duration of hub method invocations that ran; for a stream, until it ended.',
            advice: { explicitBucketBoundaries: SHORT_SECONDS_BUCKETS },
          })
        : undefined,
    },
    backplane: {
      publishDuration: meter.createHistogram(BACKPLANE_PUBLISH_DURATION, {
        unit: 's',
        description: "The time the backplane took to answer a publish for the hub's other nodes.",
        advice: { explicitBucketBoundaries: DATABASE_SECONDS_BUCKETS },
      }),
      droppedMessages: meter.createCounter(BACKPLANE_DROPPED_MESSAGES, {
        unit: '{message}',
        description: "Messages for a hub's other nodes that the backplane could not take.",
      }),
      subscriptionGaps: meter.createCounter(BACKPLANE_SUBSCRIPTION_GAPS, {
        unit: '{gap}',
        description: "Times a node found its backplane subscriptions broken: other nodes' messages did not reach it until they were restored.",
      }),
      outages: meter.createCounter(BACKPLANE_OUTAGES, {
        unit: '{outage}',
        description: "Times a hub's backplane became unreachable.",
      }),
    },
  };
}
