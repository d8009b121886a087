import { createServer, Socket, type AddressInfo, type Server } from 'node:net';

/**
 * A TCP proxy on 127.0.0.1 in front of a test server, able to cut every connection through it
 * at once: what a flaky network does to a WebSocket, without closing frames.
 */
export class CuttingProxy {
  private readonly pairs = new Set<[Socket, Socket]>();

  private constructor(
    private readonly server: Server,
    readonly port: number,
    private targetPort: number,
  ) {}

  static async start(targetPort: number): Promise<CuttingProxy> {
    let proxy: CuttingProxy | undefined;
    const server = createServer((client) => {
      const upstream = new Socket();
      const pair: [Socket, Socket] = [client, upstream];
      proxy!.pairs.add(pair);
      const drop = () => {
        proxy!.pairs.delete(pair);
        client.destroy();
        upstream.destroy();
      };
      client.on('error', drop).on('close', drop);
      upstream.on('error', drop).on('close', drop);
      upstream.connect(proxy!.targetPort, '127.0.0.1', () => {
        client.pipe(upstream);
        upstream.pipe(client);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    proxy = new CuttingProxy(server, (server.address() as AddressInfo).port, targetPort);
    return proxy;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** New connections go to another server from now on: what a load balancer does when a node leaves. */
  retarget(targetPort: number): void {
    this.targetPort = targetPort;
  }

  /** Destroys both sides of every open connection, as a network failure would. */
  cutAll(): number {
    const count = this.pairs.size;
    for (const [client, upstream] of this.pairs) {
      client.destroy();
      upstream.destroy();
    }
    this.pairs.clear();
    return count;
  }

  async close(): Promise<void> {
    this.cutAll();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
