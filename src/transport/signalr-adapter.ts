import type { INestApplicationContext, WsMessageHandler } from '@nestjs/common';
import { AbstractWsAdapter } from '@nestjs/websockets';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { EMPTY, type Observable } from 'rxjs';
import { SignalRError, SignalRErrorCode } from '../errors/signalr-error-codes.js';
import { HubEndpoints } from '../hub-endpoints.js';
import { isHubGatewayOptions } from '../hub/hub-metadata.js';
import type { HubEndpoint } from './hub-endpoint.js';

type RequestListener = (request: IncomingMessage, response: ServerResponse) => void;

/**
 * The Nest WebSocket adapter for hubs: `app.useWebSocketAdapter(new SignalRAdapter(app))`.
 * It shares the application's HTTP server, answers negotiate requests and WebSocket upgrades on
 * hub paths, and leaves every other request and upgrade to whoever else listens for them.
 */
export class SignalRAdapter extends AbstractWsAdapter<HubEndpoint> {
  private readonly endpoints = new Map<string, HubEndpoint>();
  private readonly server: Server;
  private detach: (() => void) | undefined;

  constructor(private readonly app: INestApplicationContext) {
    super(app);
    this.server = this.httpServer as Server;
  }

  create(port: number, options?: unknown): HubEndpoint {
    if (!isHubGatewayOptions(options)) {
      throw new SignalRError(
        SignalRErrorCode.InvalidHubDefinition,
        'SignalRAdapter serves @Hub() classes only; a plain @WebSocketGateway() needs another adapter.',
      );
    }
    if (port !== 0) {
      throw new SignalRError(SignalRErrorCode.InvalidHubDefinition, `Hub ${options.path} must share the HTTP server (no port).`);
    }
    if (this.endpoints.has(options.path)) {
      throw new SignalRError(SignalRErrorCode.DuplicateHubPath, `Two hubs are mapped to ${options.path}.`);
    }
    const endpoint = this.registry().endpointFor(options.signalrHub);
    this.endpoints.set(options.path, endpoint);
    this.detach ??= this.attachToServer();
    return endpoint;
  }

  // Hubs accept connections through the upgrade listener and dispatch their own messages; the
  // gateway hooks below have nothing to bind.
  override bindClientConnect(): void {}

  bindMessageHandlers(_client: unknown, _handlers: WsMessageHandler[], _transform: (data: unknown) => Observable<unknown>): Observable<unknown> {
    return EMPTY;
  }

  override async close(endpoint: HubEndpoint): Promise<void> {
    await new Promise<void>((resolve) => endpoint.close(resolve));
    this.endpoints.delete(endpoint.path);
  }

  override async dispose(): Promise<void> {
    this.detach?.();
    this.detach = undefined;
  }

  private registry(): HubEndpoints {
    try {
      return this.app.get(HubEndpoints, { strict: false });
    } catch {
      throw new SignalRError(SignalRErrorCode.AdapterMissing, 'Import SignalRModule.forRoot() in the root module to serve hubs.');
    }
  }

  /**
   * Wraps the server's request listeners rather than adding a route, so negotiate works under any
   * HTTP adapter and before the framework's own 404 handling; other requests pass untouched.
   */
  private attachToServer(): () => void {
    const previousListeners = this.server.listeners('request') as RequestListener[];
    const onRequest: RequestListener = (request, response) => {
      const { pathname, query } = splitUrl(request.url);
      for (const endpoint of this.endpoints.values()) {
        if (endpoint.handleRequest(request, response, pathname, query)) return;
      }
      for (const listener of previousListeners) listener.call(this.server, request, response);
    };
    const onUpgrade = (request: IncomingMessage, socket: Duplex, head: Buffer) => {
      const { pathname, query } = splitUrl(request.url);
      for (const endpoint of this.endpoints.values()) {
        if (endpoint.handleUpgrade(request, socket, head, pathname, query)) return;
      }
    };
    this.server.removeAllListeners('request');
    this.server.on('request', onRequest);
    this.server.on('upgrade', onUpgrade);
    return () => {
      this.server.off('request', onRequest);
      this.server.off('upgrade', onUpgrade);
      for (const listener of previousListeners) this.server.on('request', listener);
    };
  }
}

function splitUrl(url = '/'): { pathname: string; query: URLSearchParams } {
  const queryStart = url.indexOf('?');
  return queryStart === -1
    ? { pathname: url, query: new URLSearchParams() }
    : { pathname: url.slice(0, queryStart), query: new URLSearchParams(url.slice(queryStart + 1)) };
}
