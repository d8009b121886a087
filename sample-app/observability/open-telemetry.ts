import { Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';

/** What the environment asks for, in OpenTelemetry's own variable names; unset or `none` is off. */
type Exporter = 'console' | 'otlp';

let stop: (() => Promise<void>) | undefined;

/**
 * Registers the OpenTelemetry SDK when `OTEL_TRACES_EXPORTER` or `OTEL_METRICS_EXPORTER` asks
 * for `console` or `otlp`; the OTLP exporters read `OTEL_EXPORTER_OTLP_ENDPOINT` (and the
 * per-signal variables) themselves. Must run before the Nest application is created: the library
 * binds to the SDK registered when its module starts. With neither set, no SDK package is even
 * loaded, and the library costs nothing.
 */
export async function startOpenTelemetry(): Promise<void> {
  const { env } = process;
  const traces = exporterOf(env, 'OTEL_TRACES_EXPORTER');
  const metrics = exporterOf(env, 'OTEL_METRICS_EXPORTER');
  if (!traces && !metrics) return;
  const [api, { resourceFromAttributes }] = await Promise.all([import('@opentelemetry/api'), import('@opentelemetry/resources')]);
  const resource = resourceFromAttributes({ 'service.name': env.OTEL_SERVICE_NAME || 'nestjs-signalr-sample' });
  const stops: (() => Promise<void>)[] = [];
  if (traces) {
    const [{ TracerProvider, BatchSpanProcessor, ConsoleSpanExporter }, { AsyncLocalStorageContextManager }, { W3CTraceContextPropagator }] = await Promise.all([
      import('@opentelemetry/sdk-trace'),
      import('@opentelemetry/context-async-hooks'),
      import('@opentelemetry/core'),
    ]);
    const exporter = traces === 'console' ? new ConsoleSpanExporter() : new (await import('@opentelemetry/exporter-trace-otlp-http')).OTLPTraceExporter();
    const provider = new TracerProvider({ resource, spanProcessors: [new BatchSpanProcessor({ exporter })] });
    api.trace.setGlobalTracerProvider(provider);
    api.context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    api.propagation.setGlobalPropagator(new W3CTraceContextPropagator());
    stops.push(() => provider.shutdown());
  }
  if (metrics) {
    const { MeterProvider, PeriodicExportingMetricReader, ConsoleMetricExporter } = await import('@opentelemetry/sdk-metrics');
    const exporter = metrics === 'console' ? new ConsoleMetricExporter() : new (await import('@opentelemetry/exporter-metrics-otlp-http')).OTLPMetricExporter();
    const exportIntervalMillis = Number(env.OTEL_METRIC_EXPORT_INTERVAL) || 60_000;
    const provider = new MeterProvider({ resource, readers: [new PeriodicExportingMetricReader({ exporter, exportIntervalMillis })] });
    api.metrics.setGlobalMeterProvider(provider);
    stops.push(() => provider.shutdown());
  }
  stop = async () => void (await Promise.all(stops.map((stopOne) => stopOne())));
  new Logger('OpenTelemetry').log(`Exporting ${[traces && `traces to ${traces}`, metrics && `metrics to ${metrics}`].filter(Boolean).join(' and ')}.`);
}

/** Flushes what the SDK holds when the application shuts down; nothing when none was started. */
@Injectable()
export class OpenTelemetryShutdown implements OnApplicationShutdown {
  async onApplicationShutdown(): Promise<void> {
    await stop?.();
    stop = undefined;
  }
}

function exporterOf(env: NodeJS.ProcessEnv, name: string): Exporter | undefined {
  const value = env[name]?.trim().toLowerCase();
  if (!value || value === 'none') return undefined;
  if (value === 'console' || value === 'otlp') return value;
  throw new Error(`${name} must be console, otlp or none, got ${JSON.stringify(env[name])}.`);
}
