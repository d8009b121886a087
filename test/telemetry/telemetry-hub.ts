import { Injectable } from '@nestjs/common';
import { trace } from '@opentelemetry/api';
import { Authorize, Hub, HubMethod, type HubCallerContext, type OnHubConnected, type OnHubDisconnected } from 'nestjs-signalr';

/** What the hub saw, and the gate its stream waits at. */
@Injectable()
export class TelemetryProbe {
  readonly connected: string[] = [];
  readonly disconnected: string[] = [];
  private releaseStream: () => void = () => undefined;
  streamGate = new Promise<void>((resolve) => (this.releaseStream = resolve));

  openStreamGate(): void {
    this.releaseStream();
  }
}

@Hub('/hubs/telemetry')
export class TelemetryHub implements OnHubConnected, OnHubDisconnected {
  constructor(private readonly probe: TelemetryProbe) {}

  onConnected(caller: HubCallerContext): void {
    this.probe.connected.push(caller.connectionId);
  }

  onDisconnected(caller: HubCallerContext): void {
    this.probe.disconnected.push(caller.connectionId);
  }

  add(a: number, b: number): number {
    return a + b;
  }

  fail(): never {
    throw new Error('the hub failed');
  }

  @Authorize()
  secret(): string {
    return 'secret';
  }

  /** Its first item at once, the rest once the test opens the gate; each in a span of the application's. */
  @HubMethod({ name: 'Counter' })
  async *counter(count: number): AsyncIterable<number> {
    for (let i = 0; i < count; i++) {
      if (i === 1) await this.probe.streamGate;
      yield trace.getTracer('telemetry-hub').startActiveSpan(`item ${i}`, (span) => {
        span.end();
        return i;
      });
    }
  }
}
