// The sample's OpenTelemetry export (README, Observability): off unless the environment asks,
// and then the library's metrics and spans reach an OTLP endpoint, here a collector on loopback.
import * as api from '@opentelemetry/api';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createSampleApp } from '../../sample-app/bootstrap.js';
import { startOpenTelemetry } from '../../sample-app/observability/open-telemetry.js';
import { telemetryOver } from '../../src/telemetry/telemetry-provider.js';
import { ClientPool } from '../support/client.js';
import { listenOnLoopback, type RunningHubApp } from '../support/hub-app.js';

const OTEL_VARIABLES = ['OTEL_TRACES_EXPORTER', 'OTEL_METRICS_EXPORTER', 'OTEL_EXPORTER_OTLP_ENDPOINT', 'OTEL_METRIC_EXPORT_INTERVAL'];

/** An OTLP/HTTP receiver: what each signal's path received, as text (the exporters send JSON). */
class LoopbackCollector {
  readonly received = new Map<string, string>();
  private readonly server: Server = createServer((request, reply) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      this.received.set(request.url!, (this.received.get(request.url!) ?? '') + body);
      reply.writeHead(200, { 'Content-Type': 'application/json' }).end('{}');
    });
  });

  async listen(): Promise<string> {
    this.server.listen(0, '127.0.0.1');
    await once(this.server, 'listening');
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

let server: RunningHubApp | undefined;
const clients = new ClientPool();

afterEach(async () => {
  await clients.stopAll();
  await server?.close();
  server = undefined;
  for (const name of OTEL_VARIABLES) delete process.env[name];
  api.metrics.disable();
  api.trace.disable();
  api.context.disable();
  api.propagation.disable();
});

async function signedInClient(baseUrl: string) {
  const response = await fetch(`${baseUrl}/auth/login`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ username: 'alice', password: 'alice-pass' }),
  });
  const { access_token: token } = (await response.json()) as { access_token: string };
  return clients.connect(`${baseUrl}/hubs/chat`, { accessTokenFactory: () => token });
}

describe('the sample app and OpenTelemetry', () => {
  it('registers no SDK when the environment asks for no export', async () => {
    await startOpenTelemetry();
    expect(telemetryOver(api)).toBeNull();
  });

  it('exports the hub metrics and spans to the OTLP endpoint the environment names', async () => {
    const collector = new LoopbackCollector();
    Object.assign(process.env, {
      OTEL_TRACES_EXPORTER: 'otlp',
      OTEL_METRICS_EXPORTER: 'otlp',
      OTEL_EXPORTER_OTLP_ENDPOINT: await collector.listen(),
      OTEL_METRIC_EXPORT_INTERVAL: '200',
    });
    try {
      await startOpenTelemetry();
      server = await listenOnLoopback(await createSampleApp({ logger: false }));
      const client = await signedInClient(server.baseUrl);
      await expect(client.invoke('Whoami')).resolves.toEqual({ name: 'alice', roles: ['user'] });

      await vi.waitFor(() => expect(collector.received.get('/v1/metrics')).toContain('signalr.server.active_connections'), { timeout: 10_000 });
      expect(collector.received.get('/v1/metrics')).toContain('nestjs-signalr-sample');
      // The span processor batches: what it holds goes out when the application shuts down.
      await clients.stopAll();
      await server.close();
      server = undefined;
      const traces = collector.received.get('/v1/traces');
      expect(traces).toContain('ChatHub/whoami');
      expect(traces).toContain('ChatHub connect');
    } finally {
      await collector.close();
    }
  });
});
