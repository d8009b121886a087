// A scripted session with the official client against the real OpenTelemetry SDK (in-memory
// reader and exporter): the names, units, attributes, bucket advice and values of every metric,
// and the shape of every span, on each transport and protocol. Another transport is one more
// entry in TRANSPORTS.
import { HttpTransportType, type HubConnection } from '@microsoft/signalr';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import type { DataPoint, Histogram } from '@opentelemetry/sdk-metrics';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import { afterEach, describe, expect, it } from 'vitest';
import { LONG_SECONDS_BUCKETS, SHORT_SECONDS_BUCKETS } from '../../src/telemetry/telemetry-names.js';
import { connectClient, WIRE_PROTOCOLS, type WireProtocol } from '../support/client.js';
import { startHubApp, type RunningHubApp } from '../support/hub-app.js';
import { OpenTelemetrySdk } from '../support/open-telemetry-sdk.js';
import { RawPollingClient } from '../support/http-transport-client.js';
import { rawHttp, RawHubSocket, RS, upgradeStatus } from '../support/raw-client.js';
import { waitFor } from '../support/wait.js';
import { TelemetryHub, TelemetryProbe } from './telemetry-hub.js';

/** `startPings`: the official client pings once after its handshake, unless its transport keeps alive by itself (long polling). */
const TRANSPORTS = [
  { client: HttpTransportType.WebSockets, attribute: 'web_sockets', startPings: 1 },
  { client: HttpTransportType.ServerSentEvents, attribute: 'server_sent_events', startPings: 1 },
  { client: HttpTransportType.LongPolling, attribute: 'long_polling', startPings: 0 },
] as const;
type Transport = (typeof TRANSPORTS)[number];

const RPC = { 'rpc.system': 'signalr', 'rpc.service': 'TelemetryHub' };
const point = OpenTelemetrySdk.point;

let sdk: OpenTelemetrySdk;
let server: RunningHubApp | undefined;

/** The SDK first, then the app: telemetry binds to the providers registered when the module starts. */
async function start(options = {}): Promise<TelemetryProbe> {
  sdk = OpenTelemetrySdk.register();
  // No keep-alive traffic within a test: every message counted is one the script sent.
  server = await startHubApp([TelemetryHub, TelemetryProbe], { keepAliveIntervalMs: 60_000, clientTimeoutIntervalMs: 120_000, ...options });
  return server.app.get(TelemetryProbe);
}

function running(): RunningHubApp {
  if (!server) throw new Error('No app runs.');
  return server;
}

afterEach(async () => {
  await server?.close();
  await sdk?.shutdown();
});

function connect(transport: Transport, protocol: WireProtocol): Promise<HubConnection> {
  return connectClient(`${running().baseUrl}/hubs/telemetry`, { transport: transport.client }, (connection) => {
    connection.keepAliveIntervalInMilliseconds = 60_000;
    connection.serverTimeoutInMilliseconds = 120_000;
  }, protocol);
}

const named = (name: string) => sdk.spans().filter((span) => span.name === name);
const only = (name: string): ReadableSpan => {
  const spans = named(name);
  expect(spans, name).toHaveLength(1);
  return spans[0];
};

// Server-Sent Events are text only: never MessagePack.
const textOnly = (transport: Transport, protocol: WireProtocol) => transport.client !== HttpTransportType.ServerSentEvents || protocol === 'json';

describe.each(TRANSPORTS.flatMap((transport) => WIRE_PROTOCOLS.filter((protocol) => textOnly(transport, protocol)).map((protocol) => [transport, protocol] as const)))(
  'OpenTelemetry on %o over %s',
  (transport, protocol) => {
    const transportAttributes = { 'signalr.transport': transport.attribute };

    it('measures the connection, its invocations and its traffic as the conventions name them, and traces each call', async () => {
      const probe = await start();
      const client = await connect(transport, protocol);
      await waitFor(() => probe.connected.length === 1, 5000);

      const active = await sdk.metric('signalr.server.active_connections');
      expect(active.descriptor).toMatchObject({ unit: '{connection}', description: 'Number of connections that are currently active on the server.' });
      expect(point(active, transportAttributes)?.value).toBe(1);

      await expect(client.invoke('Add', 2, 3)).resolves.toBe(5);
      await expect(client.invoke('Fail')).rejects.toThrow("An unexpected error occurred invoking 'Fail' on the server.");
      await expect(client.invoke('Add', 1)).rejects.toThrow("Failed to invoke 'Add' due to an error on the server.");
      await expect(client.invoke('Missing')).rejects.toThrow('Method does not exist.');
      await expect(client.invoke('Secret')).rejects.toThrow("Failed to invoke 'Secret' because user is unauthorized");

      const items: number[] = [];
      const streamed = new Promise<void>((resolve, reject) =>
        client.stream('Counter', 3).subscribe({ next: (item: number) => items.push(item), complete: resolve, error: reject }),
      );
      await waitFor(() => items.length === 1, 5000);
      // The stream runs: its span and its duration are not over.
      expect(named('TelemetryHub/Counter')).toEqual([]);
      probe.openStreamGate();
      await streamed;
      expect(items).toEqual([0, 1, 2]);

      await client.stop();
      await waitFor(() => probe.disconnected.length === 1, 5000);

      // ASP.NET Core's two instruments.
      expect(point((await sdk.metric('signalr.server.active_connections')), transportAttributes)?.value).toBe(0);
      const duration = await sdk.metric('signalr.server.connection.duration');
      expect(duration.descriptor).toMatchObject({ unit: 's', description: 'The duration of connections on the server.' });
      const lived = point<Histogram>(duration, { ...transportAttributes, 'signalr.connection.status': 'normal_closure' });
      expect(lived?.value.count).toBe(1);
      expect(lived?.value.buckets.boundaries).toEqual(LONG_SECONDS_BUCKETS);

      // Invocations by method (as the hub declares it, whatever case the client used) and outcome; only those that ran are timed.
      const invocations = await sdk.metric('signalr.server.invocations');
      expect(invocations.descriptor.unit).toBe('{invocation}');
      const counted = (attributes: Record<string, string>) => point<number>(invocations, { ...RPC, ...attributes })?.value;
      expect(counted({ 'rpc.method': 'add', 'signalr.invocation.outcome': 'ok' })).toBe(1);
      expect(counted({ 'rpc.method': 'fail', 'signalr.invocation.outcome': 'hub_error', 'error.type': 'Error' })).toBe(1);
      expect(counted({ 'rpc.method': 'add', 'signalr.invocation.outcome': 'validation' })).toBe(1);
      expect(counted({ 'rpc.method': '_OTHER', 'signalr.invocation.outcome': 'refused' })).toBe(1);
      expect(counted({ 'rpc.method': 'secret', 'signalr.invocation.outcome': 'refused', 'error.type': 'ForbiddenException' })).toBe(1);
      expect(counted({ 'rpc.method': 'Counter', 'signalr.invocation.outcome': 'ok' })).toBe(1);
      expect(invocations.dataPoints).toHaveLength(6);
      const timed = await sdk.metric('signalr.server.invocation.duration');
      expect(timed.descriptor.unit).toBe('s');
      expect(timed.dataPoints.map((data) => data.attributes['rpc.method']).toSorted()).toEqual(['Counter', 'add', 'fail', 'secret']);
      for (const data of timed.dataPoints as DataPoint<Histogram>[]) {
        expect(data.value.count).toBe(1);
        expect(data.value.buckets.boundaries).toEqual(SHORT_SECONDS_BUCKETS);
      }

      // The client's ping and six invocations handed to the hub (its Close is the connection's own); five
      // completions, three items, the stream's completion and the Close answering the client's out.
      expect(point(await sdk.metric('signalr.server.received.messages'), transportAttributes)?.value).toBe(transport.startPings + 6);
      const sent = point<number>(await sdk.metric('signalr.server.sent.messages'), transportAttributes)?.value;
      // A long-polling client sends its Close and its DELETE at once: when the DELETE comes first, the
      // server's Close has no poll left to go out with, and is not counted as written.
      if (transport.client === HttpTransportType.LongPolling) expect([9, 10]).toContain(sent);
      else expect(sent).toBe(10);
      for (const name of ['signalr.server.received.bytes', 'signalr.server.sent.bytes']) {
        const bytes = await sdk.metric(name);
        expect(bytes.descriptor.unit).toBe('By');
        expect(point<number>(bytes, transportAttributes)?.value).toBeGreaterThan(0);
      }

      // Spans: the connection's start, onConnected under it, each call linked to it.
      const opening = only('TelemetryHub connect');
      expect(opening.kind).toBe(SpanKind.SERVER);
      expect(opening.attributes).toEqual({ ...RPC, ...transportAttributes });
      const connected = only('TelemetryHub/onConnected');
      expect(connected.kind).toBe(SpanKind.INTERNAL);
      expect(connected.parentSpanContext?.spanId).toBe(opening.spanContext().spanId);
      const linksToConnect = (span: ReadableSpan) => expect(span.links.map((link) => link.context.spanId)).toEqual([opening.spanContext().spanId]);
      const disconnected = only('TelemetryHub/onDisconnected');
      expect(disconnected.parentSpanContext).toBeUndefined();
      linksToConnect(disconnected);

      const add = named('TelemetryHub/add');
      expect(add).toHaveLength(1);
      expect(add[0].kind).toBe(SpanKind.SERVER);
      expect(add[0].attributes).toEqual({ ...RPC, 'rpc.method': 'add' });
      expect(add[0].status.code).toBe(SpanStatusCode.UNSET);
      expect(add[0].parentSpanContext).toBeUndefined();
      linksToConnect(add[0]);
      const fail = only('TelemetryHub/fail');
      expect(fail.status.code).toBe(SpanStatusCode.ERROR);
      expect(fail.attributes).toEqual({ ...RPC, 'rpc.method': 'fail', 'error.type': 'Error' });
      expect(only('TelemetryHub/secret').attributes['error.type']).toBe('ForbiddenException');
      // Refused before any hub code ran: no span, as ASP.NET Core has none.
      expect(named('TelemetryHub/Missing')).toEqual([]);

      // The stream's span covers its life: the producer's spans are its children.
      const counter = only('TelemetryHub/Counter');
      linksToConnect(counter);
      for (const item of ['item 0', 'item 1', 'item 2']) expect(only(item).parentSpanContext?.spanId).toBe(counter.spanContext().spanId);
    });
  },
);

describe('OpenTelemetry beyond a session', () => {
  it('records a connection whose client fell silent as timed out', async () => {
    const probe = await start({ keepAliveIntervalMs: 100, clientTimeoutIntervalMs: 400 });
    // A raw client sends no keep-alives of its own.
    await RawHubSocket.connected(`${running().baseUrl}/hubs/telemetry`);
    await waitFor(() => probe.disconnected.length === 1, 5000);

    const duration = await sdk.metric('signalr.server.connection.duration');
    expect(point<Histogram>(duration, { 'signalr.transport': 'web_sockets', 'signalr.connection.status': 'timeout' })?.value.count).toBe(1);
  });

  it('records a long-polling connection whose client stopped polling as timed out', async () => {
    const probe = await start({ disconnectTimeoutMs: 200 });
    const client = await RawPollingClient.negotiated(`${running().baseUrl}/hubs/telemetry`);
    await client.connect();
    await waitFor(() => probe.disconnected.length === 1, 5000);

    const duration = await sdk.metric('signalr.server.connection.duration');
    expect(point<Histogram>(duration, { 'signalr.transport': 'long_polling', 'signalr.connection.status': 'timeout' })?.value.count).toBe(1);
  });

  it('records a stateful-reconnect connection whose client did not come back within the reconnect window as timed out', async () => {
    const probe = await start({ reconnectWindowMs: 200 });
    const hub = `${running().baseUrl}/hubs/telemetry`;
    const negotiated = await fetch(`${hub}/negotiate?negotiateVersion=1&useStatefulReconnect=true`, { method: 'POST' });
    const { connectionToken } = (await negotiated.json()) as { connectionToken: string };
    const raw = await RawHubSocket.openUrl(`${hub}?id=${encodeURIComponent(connectionToken)}`);
    // Version 2 of the protocol asks for stateful reconnect.
    raw.send(`{"protocol":"json","version":2}${RS}`);
    await raw.nextFrame();
    await waitFor(() => probe.connected.length === 1, 5000);
    // Dropped without a close handshake: the server waits for the client to resume, which it never does.
    raw.socket.terminate();
    await waitFor(() => probe.disconnected.length === 1, 5000);

    const duration = await sdk.metric('signalr.server.connection.duration');
    expect(point<Histogram>(duration, { 'signalr.transport': 'web_sockets', 'signalr.connection.status': 'timeout' })?.value.count).toBe(1);
  });

  it('takes an invocation span under the trace context the client sent in the invocation headers', async () => {
    await start();
    const traceId = '0af7651916cd43dd8448eb211c80319c';
    const parentId = 'b7ad6b7169203331';
    const raw = await RawHubSocket.connected(`${running().baseUrl}/hubs/telemetry`);
    const headers = { traceparent: `00-${traceId}-${parentId}-01` };
    raw.send(`${JSON.stringify({ type: 1, invocationId: '1', target: 'Add', arguments: [1, 2], headers })}${RS}`);
    await raw.until(() => raw.messages().some((message) => message.type === 3));
    raw.socket.close();
    const add = only('TelemetryHub/add');
    expect(add.spanContext().traceId).toBe(traceId);
    expect(add.parentSpanContext?.spanId).toBe(parentId);
    expect(add.links.map((link) => link.context.spanId)).toEqual([only('TelemetryHub connect').spanContext().spanId]);
  });

  describe('what the application chose to record per invocation', () => {
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const traced = { traceparent: `00-${traceId}-00f067aa0ba902b7-01` };

    /** One `Add` without a trace context and one under `traced`, then the socket closes. */
    async function invokeTwice(): Promise<void> {
      const raw = await RawHubSocket.connected(`${running().baseUrl}/hubs/telemetry`);
      raw.send(`${JSON.stringify({ type: 1, invocationId: '1', target: 'Add', arguments: [1, 2] })}${RS}`);
      raw.send(`${JSON.stringify({ type: 1, invocationId: '2', target: 'Add', arguments: [3, 4], headers: traced })}${RS}`);
      await raw.until(() => raw.messages().filter((message) => message.type === 3).length === 2);
      raw.socket.close();
      await waitFor(() => named('TelemetryHub/onDisconnected').length === 1, 5000);
    }

    it('counts invocations but records no durations when the histogram is off', async () => {
      await start({ telemetry: { invocationDuration: false } });
      await invokeTwice();
      const recorded = (await sdk.metrics()).map((metric) => metric.descriptor.name);
      expect(recorded).not.toContain('signalr.server.invocation.duration');
      expect(point(await sdk.metric('signalr.server.invocations'), { ...RPC, 'rpc.method': 'add', 'signalr.invocation.outcome': 'ok' })?.value).toBe(2);
      expect(named('TelemetryHub/add')).toHaveLength(2);
    });

    it("traces only the invocations whose client propagated a trace context under 'propagated'", async () => {
      await start({ telemetry: { invocationSpans: 'propagated' } });
      await invokeTwice();
      expect(only('TelemetryHub/add').spanContext().traceId).toBe(traceId);
      expect(only('TelemetryHub connect')).toBeDefined();
      expect(point<Histogram>(await sdk.metric('signalr.server.invocation.duration'), { ...RPC, 'rpc.method': 'add', 'signalr.invocation.outcome': 'ok' })?.value.count).toBe(2);
    });

    it('counts every outcome, streams included, with nothing timed or traced per invocation', async () => {
      const probe = await start({ telemetry: { invocationDuration: false, invocationSpans: 'none' } });
      const client = await connect(TRANSPORTS[0], 'json');
      await expect(client.invoke('Add', 2, 3)).resolves.toBe(5);
      await expect(client.invoke('Fail')).rejects.toThrow("An unexpected error occurred invoking 'Fail' on the server.");
      await expect(client.invoke('Secret')).rejects.toThrow("Failed to invoke 'Secret' because user is unauthorized");
      probe.openStreamGate();
      const items: number[] = [];
      await new Promise<void>((resolve, reject) => client.stream('Counter', 3).subscribe({ next: (item: number) => items.push(item), complete: resolve, error: reject }));
      expect(items).toEqual([0, 1, 2]);
      await client.stop();

      const invocations = await sdk.metric('signalr.server.invocations');
      const counted = (attributes: Record<string, string>) => point<number>(invocations, { ...RPC, ...attributes })?.value;
      expect(counted({ 'rpc.method': 'add', 'signalr.invocation.outcome': 'ok' })).toBe(1);
      expect(counted({ 'rpc.method': 'fail', 'signalr.invocation.outcome': 'hub_error', 'error.type': 'Error' })).toBe(1);
      expect(counted({ 'rpc.method': 'secret', 'signalr.invocation.outcome': 'refused', 'error.type': 'ForbiddenException' })).toBe(1);
      expect(counted({ 'rpc.method': 'Counter', 'signalr.invocation.outcome': 'ok' })).toBe(1);
      expect((await sdk.metrics()).map((metric) => metric.descriptor.name)).not.toContain('signalr.server.invocation.duration');
      expect(sdk.spans().filter((span) => span.name.startsWith('TelemetryHub/') && !span.name.includes('/on'))).toEqual([]);
    });

    it("traces no invocation under 'none', but still the connection and the hub's callbacks", async () => {
      await start({ telemetry: { invocationSpans: 'none' } });
      await invokeTwice();
      expect(named('TelemetryHub/add')).toEqual([]);
      expect(sdk.spans().map((span) => span.name).toSorted()).toEqual(['TelemetryHub connect', 'TelemetryHub/onConnected', 'TelemetryHub/onDisconnected']);
    });
  });

  it('counts refusals by reason and by the request refused', async () => {
    await start({ allowedHosts: ['127.0.0.1:*'], maximumConnections: 1 });
    const hub = `${running().baseUrl}/hubs/telemetry`;
    const { port } = new URL(running().baseUrl);
    const negotiate = (headers: [string, string][]) => rawHttp(running().baseUrl, 'POST', '/hubs/telemetry/negotiate', [...headers, ['Content-Length', '0']]);

    expect((await negotiate([['Host', 'evil.example']])).status).toBe(400);
    expect((await negotiate([['Host', `127.0.0.1:${port}`], ['Origin', 'https://evil.example']])).status).toBe(403);
    expect((await upgradeStatus(`${hub}?id=forged`)).status).toBe(404);
    // A poll and an event stream with forged tokens: the same refusal on the HTTP transports.
    expect((await rawHttp(running().baseUrl, 'GET', '/hubs/telemetry?id=forged', [['Host', `127.0.0.1:${port}`]])).status).toBe(404);
    expect((await rawHttp(running().baseUrl, 'GET', '/hubs/telemetry?id=forged', [['Host', `127.0.0.1:${port}`], ['Accept', 'text/event-stream']])).status).toBe(404);
    const holder = await RawHubSocket.connected(hub);
    expect((await negotiate([['Host', `127.0.0.1:${port}`]])).status).toBe(503);
    holder.socket.close();

    const refusals = await sdk.metric('signalr.server.refusals');
    expect(refusals.descriptor.unit).toBe('{refusal}');
    const refused = (reason: string, stage: string) => point<number>(refusals, { 'signalr.refusal.reason': reason, 'signalr.refusal.stage': stage })?.value;
    expect(refused('host', 'negotiate')).toBe(1);
    expect(refused('origin', 'negotiate')).toBe(1);
    expect(refused('token', 'connect')).toBe(3);
    expect(refused('limit', 'negotiate')).toBe(1);
    expect(refusals.dataPoints).toHaveLength(4);
  });

  it('records each connection as ended by the application when it shuts down', async () => {
    const probe = await start();
    await connect(TRANSPORTS[0], 'json');
    await waitFor(() => probe.connected.length === 1, 5000);
    await running().close();
    server = undefined;

    const duration = await sdk.metric('signalr.server.connection.duration');
    expect(point<Histogram>(duration, { 'signalr.transport': 'web_sockets', 'signalr.connection.status': 'app_shutdown' })?.value.count).toBe(1);
  });
});
