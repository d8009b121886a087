import { context, metrics, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { MeterProvider, MetricReader, type DataPoint, type MetricData } from '@opentelemetry/sdk-metrics';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider, type ReadableSpan } from '@opentelemetry/sdk-trace';

/** Collects whenever asked, in memory: what a Prometheus scrape does, without the HTTP. */
class CollectingReader extends MetricReader {
  protected async onShutdown(): Promise<void> {}
  protected async onForceFlush(): Promise<void> {}
}

/**
 * The real OpenTelemetry SDK, registered globally as an application registers it before creating
 * its Nest app: metrics read on demand, spans kept in memory, W3C trace context propagated.
 */
export class OpenTelemetrySdk {
  private readonly reader = new CollectingReader();
  private readonly exporter = new InMemorySpanExporter();
  private readonly meterProvider = new MeterProvider({ readers: [this.reader] });
  private readonly tracerProvider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter: this.exporter })] });

  /** `parts` registers only the metrics or only the traces, as an application may. */
  static register(parts: { metrics?: boolean; traces?: boolean } = {}): OpenTelemetrySdk {
    const sdk = new OpenTelemetrySdk();
    if (parts.metrics ?? true) metrics.setGlobalMeterProvider(sdk.meterProvider);
    if (parts.traces ?? true) {
      trace.setGlobalTracerProvider(sdk.tracerProvider);
      context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
      propagation.setGlobalPropagator(new W3CTraceContextPropagator());
    }
    return sdk;
  }

  async metrics(): Promise<MetricData[]> {
    const { resourceMetrics } = await this.reader.collect();
    return resourceMetrics.scopeMetrics.flatMap((scope) => scope.metrics);
  }

  /** The metric of that name; fails the test if it was never recorded. */
  async metric(name: string): Promise<MetricData> {
    const found = (await this.metrics()).find((metric) => metric.descriptor.name === name);
    if (!found) throw new Error(`No metric ${name} was recorded.`);
    return found;
  }

  /** The data point of `metric` whose attributes are exactly `attributes`. */
  static point<T>(metric: MetricData, attributes: Record<string, unknown>): DataPoint<T> | undefined {
    return (metric.dataPoints as DataPoint<T>[]).find((point) => sameAttributes(point.attributes, attributes));
  }

  spans(): ReadableSpan[] {
    return this.exporter.getFinishedSpans();
  }

  async shutdown(): Promise<void> {
    metrics.disable();
    trace.disable();
    context.disable();
    propagation.disable();
    await Promise.all([this.meterProvider.shutdown(), this.tracerProvider.shutdown()]);
  }
}

function sameAttributes(actual: Record<string, unknown>, expected: Record<string, unknown>): boolean {
  const keys = Object.keys(expected);
  return Object.keys(actual).length === keys.length && keys.every((key) => actual[key] === expected[key]);
}
