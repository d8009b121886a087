import type { INestApplicationContext } from '@nestjs/common';
import { WsAdapter } from '@nestjs/platform-ws';
import { EventEmitter } from 'node:events';
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { rootModuleMissing } from '../errors/setup-errors.js';
import { SignalRError, SignalRErrorCode } from '../errors/signalr-error-codes.js';
import { HubEndpoints } from '../hub-endpoints.js';
import { isHubGatewayOptions } from '../hub/hub-metadata.js';
import type { ClassicEndpoint } from './classic/classic-endpoint.js';
import { HubEndpoint } from './hub-endpoint.js';
import { splitUrl, type HubPaths } from './hub-paths.js';

type WsAdapterOptions = ConstructorParameters<typeof WsAdapter>[1];
type GatewayOptions = Parameters<WsAdapter['create']>[1];

/**
 * The Nest WebSocket adapter for hubs: `app.useWebSocketAdapter(new SignalRAdapter(app))`.
 * It is `@nestjs/platform-ws`'s `WsAdapter`, so plain `@WebSocketGateway()` gateways work beside
 * the hubs, on other paths. It shares the application's HTTP server: an upgrade on a hub's path
 * (case-insensitively) goes to the hub, any other to the ws gateways on that server, and, when
 * there are none, to whoever else listens for upgrades. Negotiate is served by `HubRequests`.
 */
export class SignalRAdapter extends WsAdapter {
  /** Stands in for the HTTP server towards `WsAdapter`, which sees only the upgrades no hub took. */
  private readonly gatewayUpgrades = new EventEmitter();
  /** Paths of the ws gateways on the application's server, lower-cased. */
  private readonly gatewayPaths = new Set<string>();
  private hubs: HubPaths | undefined;
  private classic: ClassicEndpoint | undefined;
  private detach: (() => void) | undefined;

  constructor(
    private readonly app: INestApplicationContext,
    options?: WsAdapterOptions,
  ) {
    super(app, options);
  }

  override create(port: number, options?: GatewayOptions): unknown {
    if (!isHubGatewayOptions(options)) return this.createGateway(port, options);
    if (port !== 0) {
      throw new SignalRError(SignalRErrorCode.InvalidHubDefinition, `Hub ${options.path} must share the HTTP server (no port).`);
    }
    if (this.gatewayPaths.has(options.path.toLowerCase())) throw pathTakenByGateway(options.path);
    const registry = this.registry();
    const endpoint = registry.endpointFor(options.signalrHub);
    registry.served.add(endpoint);
    this.hubs = registry.served;
    this.classic = registry.classic;
    this.attachToServer();
    return endpoint;
  }

  override async close(server: unknown): Promise<void> {
    if (!(server instanceof HubEndpoint)) return super.close(server);
    await new Promise<void>((resolve) => server.close(resolve));
    this.hubs?.delete(server);
  }

  override async dispose(): Promise<void> {
    this.detach?.();
    this.detach = undefined;
    await super.dispose();
  }

  // Gateways on the application's server are handed the stand-in, so that WsAdapter, which ends
  // every upgrade on a path none of its gateways has, never sees a hub's.
  protected override ensureHttpServerExists(port: number, httpServer?: Server): Server | undefined {
    if (httpServer === undefined || httpServer !== this.httpServer) return super.ensureHttpServerExists(port, httpServer);
    this.attachToServer();
    return super.ensureHttpServerExists(port, this.gatewayUpgrades as Server);
  }

  private createGateway(port: number, options: GatewayOptions): unknown {
    const sharesServer = port === 0 && !options?.server;
    const path = typeof options?.path === 'string' ? withLeadingSlash(options.path) : undefined;
    if (sharesServer && path !== undefined) {
      if (this.hubs?.find(path)?.rest === '') throw pathTakenByGateway(path);
      this.gatewayPaths.add(path.toLowerCase());
    }
    return super.create(port, options);
  }

  private registry(): HubEndpoints {
    try {
      return this.app.get(HubEndpoints, { strict: false });
    } catch {
      throw rootModuleMissing('SignalRAdapter');
    }
  }

  private attachToServer(): void {
    if (this.detach) return;
    const server = this.httpServer as Server;
    const onUpgrade = (request: IncomingMessage, socket: Duplex, head: Buffer) => {
      const { pathname, query } = splitUrl(request.url);
      const classic = this.classic?.operationOf(pathname);
      if (classic) return this.classic!.upgrade(request, socket, head, classic, query);
      const target = this.hubs?.find(pathname);
      if (target?.rest === '') target.endpoint.upgrade(request, socket, head, query);
      else this.gatewayUpgrades.emit('upgrade', request, socket, head);
    };
    server.on('upgrade', onUpgrade);
    this.detach = () => server.off('upgrade', onUpgrade);
  }
}

const withLeadingSlash = (path: string) => (path.startsWith('/') ? path : `/${path}`);

function pathTakenByGateway(path: string): SignalRError {
  return new SignalRError(SignalRErrorCode.DuplicateHubPath, `A hub and a WebSocket gateway are both mapped to ${path} (paths match case-insensitively).`);
}
