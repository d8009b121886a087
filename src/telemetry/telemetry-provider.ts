import { Logger, type Provider } from '@nestjs/common';
import { createRequire } from 'node:module';
import type { Meter, Tracer, TracerProvider } from '@opentelemetry/api';
import { SignalRTelemetry } from './signalr-telemetry.js';
import type { Telemetry } from './telemetry.js';
import { INSTRUMENTATION_SCOPE } from './telemetry-names.js';
import type { OpenTelemetryApi } from './open-telemetry-api.js';
import type { SignalRModuleOptions } from '../options/signalr-module-options.js';
import type { TelemetryOptions } from '../options/telemetry-options.js';
import { SIGNALR_MODULE_OPTIONS } from '../signalr.module-definition.js';

/** The module's telemetry: null when the application has no OpenTelemetry SDK to hand it to. */
export const SIGNALR_TELEMETRY = Symbol('SignalRTelemetry');

/**
 * Imported at module init, not statically: `@opentelemetry/api` is an optional peer, and an
 * application without it must still load the package. Dynamic, not top-level await: Nest apps
 * on CommonJS load the package through require(esm), which refuses modules with top-level await.
 */
export const telemetryProvider: Provider = {
  provide: SIGNALR_TELEMETRY,
  useFactory: async (options: SignalRModuleOptions): Promise<Telemetry | null> => {
    if (options.telemetry === false) return null;
    let api: OpenTelemetryApi;
    try {
      api = await import('@opentelemetry/api');
    } catch {
      return null;
    }
    return telemetryOver(api, options.telemetry);
  },
  inject: [SIGNALR_MODULE_OPTIONS],
};

/**
 * Bound to the providers registered by now, as OpenTelemetry asks of an SDK (set up before the
 * application is created): with the API alone, or no SDK yet, nothing is measured or traced,
 * and connections and messages take the paths they take without the API.
 */
export function telemetryOver(api: OpenTelemetryApi, options: TelemetryOptions = {}): Telemetry | null {
  const version = packageVersion();
  const meter: Meter = api.metrics.getMeter(INSTRUMENTATION_SCOPE, version);
  const metered = meter !== api.createNoopMeter();
  const tracer = registeredTracer(api.trace.getTracerProvider(), version);
  if (!metered && !tracer) return null;
  new Logger('SignalR:Telemetry').log(`OpenTelemetry: ${[metered && 'metrics', tracer && 'traces'].filter(Boolean).join(' and ')} on.`);
  return new SignalRTelemetry(api, metered ? meter : undefined, tracer, options);
}

/** The API hands out a proxy that stays a no-op until an SDK registers: only its delegate tells. */
function registeredTracer(provider: TracerProvider, version: string | undefined): Tracer | undefined {
  const proxy = provider as TracerProvider & { getDelegateTracer?(name: string, version?: string): Tracer | undefined };
  return proxy.getDelegateTracer ? proxy.getDelegateTracer(INSTRUMENTATION_SCOPE, version) : provider.getTracer(INSTRUMENTATION_SCOPE, version);
}

/** The package's own version, for the instrumentation scope; resolved through its `exports`. */
function packageVersion(): string | undefined {
  try {
    return (createRequire(import.meta.url)(`${INSTRUMENTATION_SCOPE}/package.json`) as { version: string }).version;
  } catch {
    return undefined;
  }
}
