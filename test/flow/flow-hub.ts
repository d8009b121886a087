import { Injectable } from '@nestjs/common';
import { setImmediate as nextTurn } from 'node:timers/promises';
import {
  Caller,
  Clients,
  Groups,
  Hub,
  HubMethod,
  UploadStream,
  type GroupManager,
  type HubCallerClients,
  type HubCallerContext,
  type OnHubConnected,
  type OnHubDisconnected,
} from 'nestjs-signalr';
import { Observable, range } from 'rxjs';

/** What the package holds for a connection; the hub's caller context is the connection itself. */
interface Backlog {
  unwrittenBytes(): number;
  unacknowledgedBytes(): number;
}

/** What the hub saw, and the most the package ever held for one client while the hub produced. */
@Injectable()
export class FlowProbe {
  readonly callers = new Map<string, HubCallerContext>();
  readonly disconnected = new Set<string>();
  /** Largest backlog of any live connection, sampled each time the hub produced something. */
  maxUnwritten = 0;
  maxUnacknowledged = 0;
  produced = 0;
  /** Lets a test hold onConnected open. */
  connectGate: Promise<void> | undefined;

  sample(): void {
    for (const [id, caller] of this.callers) {
      if (this.disconnected.has(id)) continue;
      const backlog = caller as unknown as Backlog;
      this.maxUnwritten = Math.max(this.maxUnwritten, backlog.unwrittenBytes());
      this.maxUnacknowledged = Math.max(this.maxUnacknowledged, backlog.unacknowledgedBytes());
    }
  }

  reset(): void {
    this.maxUnwritten = this.maxUnacknowledged = this.produced = 0;
    this.connectGate = undefined;
  }
}

@Hub('/hubs/flow')
export class FlowHub implements OnHubConnected, OnHubDisconnected {
  constructor(private readonly probe: FlowProbe) {}

  async onConnected(caller: HubCallerContext): Promise<void> {
    this.probe.callers.set(caller.connectionId, caller);
    await this.probe.connectGate;
  }

  onDisconnected(caller: HubCallerContext): void {
    this.probe.disconnected.add(caller.connectionId);
  }

  async join(room: string, @Caller() caller: HubCallerContext, @Groups() groups: GroupManager): Promise<void> {
    await groups.addToGroup(caller.connectionId, room);
  }

  echo(value: unknown): unknown {
    return value;
  }

  /**
   * Room traffic as a chat produces it: one message per turn of the event loop, numbered, until
   * `until` has been disconnected (or `count` were sent). Resolves with how many were sent.
   */
  async flood(room: string, count: number, size: number, until: string, @Clients() clients: HubCallerClients): Promise<number> {
    const pad = 'x'.repeat(size);
    let sent = 0;
    while (sent < count && !this.probe.disconnected.has(until)) {
      await clients.group(room).send('said', sent++, pad);
      this.probe.sample();
      await nextTurn();
    }
    return sent;
  }

  async *numbered(count: number, size: number, @Caller() caller: HubCallerContext): AsyncGenerator<{ n: number; pad: string }> {
    const pad = 'y'.repeat(size);
    for (let n = 0; n < count; n++) {
      this.probe.produced++;
      const backlog = caller as unknown as Backlog;
      this.probe.maxUnwritten = Math.max(this.probe.maxUnwritten, backlog.unwrittenBytes());
      yield { n, pad };
    }
  }

  async *endless(): AsyncGenerator<number> {
    for (let n = 0; ; n++) {
      yield n;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  @HubMethod()
  burst(count: number): Observable<number> {
    return range(0, count);
  }

  async sum(@UploadStream() numbers: AsyncIterable<number>): Promise<number> {
    let total = 0;
    for await (const n of numbers) total += n;
    return total;
  }
}

/** The same hub with short transport timeouts, a large outbound limit and a small frame limit. */
@Hub('/hubs/flow-brief', {
  disconnectTimeoutMs: 200,
  transportSendTimeoutMs: 300,
  maximumBufferedBytesPerClient: 64 * 1024 * 1024,
  maximumReceiveFrameSize: 64 * 1024,
})
export class BriefFlowHub extends FlowHub {}
