// What the package's OpenTelemetry wrapper adds to one invocation, with the real SDK registered
// (metrics read on demand, every span sampled and dropped at export, the AsyncLocalStorage
// context manager already switched on, as in an application that traces its HTTP requests).
// The end-to-end benchmark (`--opentelemetry=sdk-lean` against `sdk-package-off`) cannot tell
// a few percent apart on a shared machine; this measures the same difference to the nanosecond.
import * as api from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { InMemoryMetricExporter, MeterProvider, PeriodicExportingMetricReader, AggregationTemporality } from '@opentelemetry/sdk-metrics';
import { BatchSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { bench, describe } from 'vitest';
import type { HubCallerContext } from '../src/hub/hub-caller-context.js';
import type { HubInvocationContext } from '../src/hub/hub-invocation-context.js';
import type { HubMethod } from '../src/hub/hub-methods.js';
import type { TelemetryOptions } from '../src/options/telemetry-options.js';
import { telemetryOver } from '../src/telemetry/telemetry-provider.js';

const dropped = { code: 0 };
api.metrics.setGlobalMeterProvider(
  new MeterProvider({ readers: [new PeriodicExportingMetricReader({ exporter: new InMemoryMetricExporter(AggregationTemporality.DELTA), exportIntervalMillis: 60_000 })] }),
);
api.trace.setGlobalTracerProvider(
  new TracerProvider({ spanProcessors: [new BatchSpanProcessor({ exporter: { export: (_spans, done) => done(dropped), shutdown: async () => undefined } })] }),
);
api.context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
api.propagation.setGlobalPropagator(new W3CTraceContextPropagator());
api.context.with(api.context.active(), () => undefined);

const echo: HubMethod = {
  descriptor: { wireName: 'echo', streaming: false } as HubMethod['descriptor'],
  invoke: async (_caller, invocation) => invocation.arguments[0],
};

function wrapped(options: TelemetryOptions): HubMethod {
  return telemetryOver(api, options)!.forHub('BenchHub').methods(new Map([['echo', echo]])).get('echo')!;
}

const caller = {} as HubCallerContext;
const invocation = { arguments: [1], headers: undefined } as unknown as HubInvocationContext;
const lean = wrapped({ invocationDuration: false, invocationSpans: 'propagated' });
const durations = wrapped({ invocationSpans: 'none' });
const defaults = wrapped({});
// Long runs: the machine is shared, and the SDK's batching and collection come in bursts.
const RUN = { time: 3000, warmupTime: 1000 };

describe('one invocation of a method that answers at once, with the OpenTelemetry SDK registered', () => {
  bench('unwrapped (telemetry: false)', async () => {
    await echo.invoke(caller, invocation);
  }, RUN);

  bench("lean: { invocationDuration: false, invocationSpans: 'propagated' }", async () => {
    await lean.invoke(caller, invocation);
  }, RUN);

  bench("duration histogram, no spans: { invocationSpans: 'none' }", async () => {
    await durations.invoke(caller, invocation);
  }, RUN);

  bench('defaults: histogram and a span', async () => {
    await defaults.invoke(caller, invocation);
  }, RUN);
});
