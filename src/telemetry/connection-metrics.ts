import type { Attributes, Counter, Histogram, Meter, UpDownCounter } from '@opentelemetry/api';
import type { Payload } from '../connection/outgoing-batch.js';
import type { TransportName } from '../hub/connection-request.js';
import type { ConnectionEnd, ConnectionMeter } from './meters.js';
import {
  ACTIVE_CONNECTIONS,
  ATTR_CONNECTION_STATUS,
  ATTR_TRANSPORT,
  BYTES_RECEIVED,
  BYTES_SENT,
  CONNECTION_DURATION,
  LONG_SECONDS_BUCKETS,
  MESSAGES_RECEIVED,
  MESSAGES_SENT,
  SLOW_CONSUMERS,
  TRANSPORT_VALUES,
} from './telemetry-names.js';

/**
 * The traffic of every connection on one transport, as plain sums: a frame costs an addition or
 * two, and the metric reader collects the sums when it exports (asynchronous counters).
 */
class TransportTally implements ConnectionMeter {
  messagesSent = 0;
  messagesReceived = 0;
  bytesSent = 0;
  bytesReceived = 0;

  constructor(
    readonly attributes: Attributes,
    private readonly slowConsumers: Counter,
  ) {}

  sent(frame: Payload, messages: number): void {
    this.messagesSent += messages;
    this.bytesSent += typeof frame === 'string' ? Buffer.byteLength(frame) : frame.length;
  }

  received(bytes: number): void {
    this.bytesReceived += bytes;
  }

  handed(): void {
    this.messagesReceived++;
  }

  closedAsSlowConsumer(): void {
    this.slowConsumers.add(1, this.attributes);
  }
}

/** One connection's place in the connection metrics: counted as active from its transport's hand-over. */
export interface MeteredConnection {
  readonly meter: ConnectionMeter;
  closed(end: ConnectionEnd): void;
}

/** The node's connection instruments: ASP.NET Core's two, traffic, and slow consumers closed. */
export class ConnectionMetrics {
  private readonly active: UpDownCounter;
  private readonly duration: Histogram;
  private readonly tallies: ReadonlyMap<TransportName, TransportTally>;

  constructor(meter: Meter) {
    this.active = meter.createUpDownCounter(ACTIVE_CONNECTIONS, {
      unit: '{connection}',
      description: 'Number of connections that are currently active on the server.',
    });
    this.duration = meter.createHistogram(CONNECTION_DURATION, {
      unit: 's',
      description: 'The duration of connections on the server.',
      advice: { explicitBucketBoundaries: LONG_SECONDS_BUCKETS },
    });
    const slowConsumers = meter.createCounter(SLOW_CONSUMERS, {
      unit: '{connection}',
      description: 'Connections closed because their client did not read what was sent to it fast enough.',
    });
    this.tallies = new Map(
      (Object.keys(TRANSPORT_VALUES) as TransportName[]).map((name) => [name, new TransportTally({ [ATTR_TRANSPORT]: TRANSPORT_VALUES[name] }, slowConsumers)]),
    );
    this.observeTraffic(meter);
  }

  /** As ASP.NET Core counts: active from the transport's start, its duration measured from there. */
  opened(transport: TransportName): MeteredConnection {
    const tally = this.tallies.get(transport)!;
    const { attributes } = tally;
    this.active.add(1, attributes);
    const startedAt = performance.now();
    return {
      meter: tally,
      closed: (end) => {
        this.active.add(-1, attributes);
        this.duration.record((performance.now() - startedAt) / 1000, { ...attributes, [ATTR_CONNECTION_STATUS]: end });
      },
    };
  }

  private observeTraffic(meter: Meter): void {
    const instruments = {
      messagesSent: meter.createObservableCounter(MESSAGES_SENT, { unit: '{message}', description: 'Hub protocol messages written to clients.' }),
      messagesReceived: meter.createObservableCounter(MESSAGES_RECEIVED, {
        unit: '{message}',
        description: 'Hub protocol messages from clients handed to their hub: invocations, stream items, completions, cancellations, pings.',
      }),
      bytesSent: meter.createObservableCounter(BYTES_SENT, { unit: 'By', description: 'Bytes of the frames written to clients.' }),
      bytesReceived: meter.createObservableCounter(BYTES_RECEIVED, { unit: 'By', description: 'Bytes of the frames read from clients.' }),
    };
    meter.addBatchObservableCallback(
      (result) => {
        for (const tally of this.tallies.values()) {
          for (const key of Object.keys(instruments) as (keyof typeof instruments)[]) result.observe(instruments[key], tally[key], tally.attributes);
        }
      },
      Object.values(instruments),
    );
  }
}
