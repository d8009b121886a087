import type { Span } from '@opentelemetry/api';
import { errorTypeOf } from './invocation-outcome.js';
import type { OpenTelemetryApi } from './open-telemetry-api.js';
import { ATTR_ERROR_TYPE } from './telemetry-names.js';

/** As ASP.NET Core marks a failed activity: `error.type` and an error status. */
export function markFailed(api: OpenTelemetryApi, span: Span, error: unknown): void {
  span.setAttribute(ATTR_ERROR_TYPE, errorTypeOf(error));
  span.setStatus({ code: api.SpanStatusCode.ERROR });
}
