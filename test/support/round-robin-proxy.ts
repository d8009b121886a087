import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { waitFor } from './wait.js';

/** One request the proxy passed on: to which target, and how that target answered. */
export interface ProxiedRequest {
  readonly method: string;
  /** Path and query. */
  readonly url: string;
  readonly target: number;
  status?: number;
  /**
   * Why no answer came, whichever happened first: its client left (the target was left too), or
   * the target could not be reached or broke off (the client's connection was dropped).
   */
  unanswered?: 'left' | 'failed';
}

/**
 * An HTTP load balancer without sticky sessions on 127.0.0.1: each request goes to the next
 * target in turn, whatever connection it belongs to. Streams both ways (an event stream, a held
 * poll), and a client that leaves before its answer leaves the target too. No WebSocket upgrades.
 */
export class RoundRobinProxy {
  readonly requests: ProxiedRequest[] = [];
  private next = 0;
  private readonly dropped = new Set<number>();

  private constructor(
    private readonly server: Server,
    private readonly targets: readonly string[],
  ) {}

  static async start(targets: readonly string[]): Promise<RoundRobinProxy> {
    let proxy: RoundRobinProxy | undefined;
    const server = createServer((incoming, outgoing) => proxy!.pass(incoming, outgoing));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    proxy = new RoundRobinProxy(server, targets);
    return proxy;
  }

  /**
   * The requests passed on whose path and query start with `prefix`, once each has its answer,
   * was left by its client or failed: one sent just before the caller looked may still be on its
   * way, and is not unanswered.
   */
  async answered(prefix: string, timeoutMs = 10_000): Promise<ProxiedRequest[]> {
    const matching = this.requests.filter((request) => request.url.startsWith(prefix));
    await waitFor(() => matching.every((request) => request.status !== undefined || request.unanswered !== undefined), timeoutMs);
    return matching;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  /** Sends nothing more to a target, as a balancer whose health check found it gone. */
  drop(target: number): void {
    this.dropped.add(target);
  }

  /** Sends requests to a dropped target again. */
  admit(target: number): void {
    this.dropped.delete(target);
  }

  private pass(incoming: IncomingMessage, outgoing: ServerResponse): void {
    let target = this.next++ % this.targets.length;
    while (this.dropped.has(target)) target = this.next++ % this.targets.length;
    const record: ProxiedRequest = { method: incoming.method!, url: incoming.url!, target };
    this.requests.push(record);
    const { hostname, port } = new URL(this.targets[target]);
    const upstream = httpRequest({ host: hostname, port, method: incoming.method, path: incoming.url, headers: incoming.headers }, (answer) => {
      record.status = answer.statusCode;
      outgoing.writeHead(answer.statusCode!, answer.headers);
      answer.pipe(outgoing);
    });
    const unanswered = (why: 'left' | 'failed') => {
      if (record.status === undefined) record.unanswered ??= why;
    };
    upstream.on('error', () => {
      unanswered('failed');
      outgoing.destroy();
    });
    // Its client left before the answer ended: the target sees it leave.
    outgoing.on('close', () => {
      if (outgoing.writableFinished) return;
      unanswered('left');
      upstream.destroy();
    });
    incoming.pipe(upstream);
  }
}
