import { register } from 'node:module';
import type { OpenTelemetryCase } from '../options.js';

/** Resolving the API fails as it does where no package provides it. */
const WITHOUT_API = `data:text/javascript,${encodeURIComponent(`
export async function resolve(specifier, context, next) {
  if (specifier === '@opentelemetry/api') throw Object.assign(new Error('Cannot find package @opentelemetry/api'), { code: 'ERR_MODULE_NOT_FOUND' });
  return next(specifier, context);
}`)}`;

/**
 * Sets up the case the OpenTelemetry cost is measured in (`--opentelemetry`): `absent`, the API
 * not resolvable (as in an application that never installed it); `api`, installed but no SDK
 * registered (the package's default path, and every run before this option); `sdk`, the real
 * SDK registered before the app is created, as an application does: every span sampled and
 * batched, metrics collected every 5 s, both handed to exporters that drop them, so that what is
 * measured is the instrumentation and the SDK, not an exporter's serialization or network.
 */

export async function setUpOpenTelemetry(chosen: OpenTelemetryCase): Promise<void> {
  if (chosen === 'absent') register(WITHOUT_API);
  if (chosen === 'sdk') await registerSdk();
}

async function registerSdk(): Promise<void> {
  const [{ context, metrics, propagation, trace }, { AsyncLocalStorageContextManager }, { W3CTraceContextPropagator }, sdkMetrics, sdkTrace] = await Promise.all([
    import('@opentelemetry/api'),
    import('@opentelemetry/context-async-hooks'),
    import('@opentelemetry/core'),
    import('@opentelemetry/sdk-metrics'),
    import('@opentelemetry/sdk-trace'),
  ]);
  const dropped = { code: 0 };
  const metricExporter = {
    export: (_batch: unknown, done: (result: { code: number }) => void) => done(dropped),
    forceFlush: async () => undefined,
    shutdown: async () => undefined,
  };
  const spanExporter = { export: (_spans: unknown, done: (result: { code: number }) => void) => done(dropped), shutdown: async () => undefined };
  const reader = new sdkMetrics.PeriodicExportingMetricReader({ exporter: metricExporter, exportIntervalMillis: 5000 });
  metrics.setGlobalMeterProvider(new sdkMetrics.MeterProvider({ readers: [reader] }));
  trace.setGlobalTracerProvider(new sdkTrace.TracerProvider({ spanProcessors: [new sdkTrace.BatchSpanProcessor({ exporter: spanExporter })] }));
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
}
