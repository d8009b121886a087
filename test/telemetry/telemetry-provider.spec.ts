// Which telemetry the module binds at start-up, from what the application registered.
import * as api from '@opentelemetry/api';
import { afterEach, describe, expect, it } from 'vitest';
import { HubEndpoints } from '../../src/hub-endpoints.js';
import { SIGNALR_TELEMETRY, telemetryOver } from '../../src/telemetry/telemetry-provider.js';
import { OpenTelemetrySdk } from '../support/open-telemetry-sdk.js';
import { startHubApp, type RunningHubApp } from '../support/hub-app.js';
import { connectClient } from '../support/client.js';
import { TelemetryHub, TelemetryProbe } from './telemetry-hub.js';

let sdk: OpenTelemetrySdk | undefined;
let server: RunningHubApp | undefined;

afterEach(async () => {
  await server?.close();
  await sdk?.shutdown();
  sdk = server = undefined;
});

describe('the telemetry the module binds', () => {
  it('is none with the API alone: no SDK registered, nothing is wrapped or counted', async () => {
    expect(telemetryOver(api)).toBeNull();
    server = await startHubApp([TelemetryHub, TelemetryProbe]);
    expect(server.app.get(SIGNALR_TELEMETRY)).toBeNull();
    expect(server.app.get(HubEndpoints)).toBeDefined();
  });

  it('is none when the application leaves the package out of its SDK (`telemetry: false`)', async () => {
    sdk = OpenTelemetrySdk.register();
    server = await startHubApp([TelemetryHub, TelemetryProbe], { telemetry: false });
    expect(server.app.get(SIGNALR_TELEMETRY)).toBeNull();
    const client = await connectClient(`${server.baseUrl}/hubs/telemetry`);
    await expect(client.invoke('Add', 1, 2)).resolves.toBe(3);
    await client.stop();

    expect(await sdk.metrics()).toEqual([]);
    expect(sdk.spans()).toEqual([]);
  });

  it('records metrics and no spans when the application registered only a meter provider', async () => {
    sdk = OpenTelemetrySdk.register({ metrics: true, traces: false });
    const telemetry = telemetryOver(api);
    expect(telemetry?.refusals).toBeDefined();
    server = await startHubApp([TelemetryHub, TelemetryProbe]);
    const client = await connectClient(`${server.baseUrl}/hubs/telemetry`);
    await expect(client.invoke('Add', 1, 2)).resolves.toBe(3);
    await client.stop();

    expect(OpenTelemetrySdk.point(await sdk.metric('signalr.server.invocations'), {
      'rpc.system': 'signalr', 'rpc.service': 'TelemetryHub', 'rpc.method': 'add', 'signalr.invocation.outcome': 'ok',
    })?.value).toBe(1);
    expect(sdk.spans()).toEqual([]);
  });

  it('records spans and no metrics when the application registered only a tracer provider', async () => {
    sdk = OpenTelemetrySdk.register({ metrics: false, traces: true });
    expect(telemetryOver(api)?.refusals).toBeUndefined();
    server = await startHubApp([TelemetryHub, TelemetryProbe]);
    const client = await connectClient(`${server.baseUrl}/hubs/telemetry`);
    await expect(client.invoke('Add', 1, 2)).resolves.toBe(3);
    await client.stop();

    expect(sdk.spans().map((span) => span.name)).toContain('TelemetryHub/add');
    expect(await sdk.metrics()).toEqual([]);
  });
});
