/** The application's `@opentelemetry/api`, as imported at module init (it is an optional peer). */
export type OpenTelemetryApi = typeof import('@opentelemetry/api');
