import { register } from 'node:module';
import type { TelemetryOptions } from 'nestjs-signalr';
import type { OpenTelemetryCase } from '../options.js';

/** Resolving the API fails as it does where no package provides it. */
const WITHOUT_API = `data:text/javascript,${encodeURIComponent(`
export async function resolve(specifier, context, next) {
  if (specifier === '@opentelemetry/api') throw Object.assign(new Error('Cannot find package @opentelemetry/api'), { code: 'ERR_MODULE_NOT_FOUND' });
  return next(specifier, context);
}`)}`;

/** What each SDK case registers; `sampled` is the share of traces kept (ParentBased over TraceIdRatioBased). */
const SDK_PARTS: Partial<Record<OpenTelemetryCase, { metrics: boolean; traces: boolean; sampled: number }>> = {
  sdk: { metrics: true, traces: true, sampled: 1 },
  'sdk-metrics': { metrics: true, traces: false, sampled: 0 },
  'sdk-traces': { metrics: false, traces: true, sampled: 1 },
  'sdk-sampled': { metrics: true, traces: true, sampled: 0.01 },
  'sdk-lean': { metrics: true, traces: true, sampled: 1 },
  'sdk-package-off': { metrics: true, traces: true, sampled: 1 },
};

/** The module's `telemetry` option per case; only these two set it (earlier `--src` packages know no such option). */
const PACKAGE_TELEMETRY: Partial<Record<OpenTelemetryCase, false | TelemetryOptions>> = {
  'sdk-lean': { invocationDuration: false, invocationSpans: 'propagated' },
  'sdk-package-off': false,
};

/**
 * Sets up the case the OpenTelemetry cost is measured in (`--opentelemetry`): `absent`, the API
 * not resolvable (as in an application that never installed it); `api`, installed but no SDK
 * registered (the package's default path, and every run before this option); `sdk`, the real
 * SDK registered before the app is created, as an application does: every span sampled and
 * batched, metrics collected every 5 s, both handed to exporters that drop them, so that what is
 * measured is the instrumentation and the SDK, not an exporter's serialization or network.
 * `sdk-metrics` and `sdk-traces` split that cost; `sdk-sampled` keeps 1% of traces, as a busy
 * production service would; `sdk-lean` is `sdk` with the package recording nothing per
 * invocation that costs the SDK's work (no duration histogram; spans only under a propagated
 * trace context, which the load clients never send); `sdk-package-off` is `sdk` with the
 * package left out (`telemetry: false`): the SDK's own cost, which `sdk-lean` adds to. Returns
 * the module's `telemetry` option.
 */
export async function setUpOpenTelemetry(chosen: OpenTelemetryCase): Promise<false | TelemetryOptions | undefined> {
  if (chosen === 'absent') register(WITHOUT_API);
  const parts = SDK_PARTS[chosen];
  if (parts) await registerSdk(parts);
  return PACKAGE_TELEMETRY[chosen];
}

async function registerSdk(parts: { metrics: boolean; traces: boolean; sampled: number }): Promise<void> {
  const [{ context, metrics, propagation, trace }, { AsyncLocalStorageContextManager }, { W3CTraceContextPropagator }, sdkMetrics, sdkTrace] = await Promise.all([
    import('@opentelemetry/api'),
    import('@opentelemetry/context-async-hooks'),
    import('@opentelemetry/core'),
    import('@opentelemetry/sdk-metrics'),
    import('@opentelemetry/sdk-trace'),
  ]);
  const dropped = { code: 0 };
  if (parts.metrics) {
    const exporter = {
      export: (_batch: unknown, done: (result: { code: number }) => void) => done(dropped),
      forceFlush: async () => undefined,
      shutdown: async () => undefined,
    };
    const reader = new sdkMetrics.PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 5000 });
    metrics.setGlobalMeterProvider(new sdkMetrics.MeterProvider({ readers: [reader] }));
  }
  if (parts.traces) {
    const exporter = { export: (_spans: unknown, done: (result: { code: number }) => void) => done(dropped), shutdown: async () => undefined };
    const sampler = new sdkTrace.ParentBasedSampler({ root: new sdkTrace.TraceIdRatioBasedSampler(parts.sampled) });
    trace.setGlobalTracerProvider(new sdkTrace.TracerProvider({ sampler, spanProcessors: [new sdkTrace.BatchSpanProcessor({ exporter })] }));
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    propagation.setGlobalPropagator(new W3CTraceContextPropagator());
    // An application that traces has made a context current (its HTTP requests' spans), which
    // turns on Node's promise hooks for the whole process: every case starts from there.
    context.with(context.active(), () => undefined);
  }
}
