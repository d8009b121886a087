import { Injectable, NotFoundException, type ArgumentsHost, type OnModuleInit } from '@nestjs/common';
import { BaseExceptionFilter, ExternalContextCreator, HttpAdapterHost } from '@nestjs/core';
import { HubEndpoints } from '../hub-endpoints.js';
import { httpPlatformOf, type HttpPlatform, type PlatformArgs } from './http-platform.js';
import { splitUrl } from './hub-paths.js';

/**
 * A hub's HTTP requests (negotiate, the proxy files, and on its own path the event streams,
 * polls, sends and deletes of Server-Sent Events and long polling), served inside the
 * application's HTTP pipeline, as a route of its own would be: after its middleware (`app.use`,
 * `app.enableCors`, the modules' middleware, Fastify's hooks), through its global guards,
 * interceptors and exception filters. Only requests for a hub's resources are taken, and only
 * those no route of the application answers or a route with a parameter or a wildcard would (a
 * catch-all, an SPA fallback, which ASP.NET Core ranks below the hub's literal paths), so
 * unknown paths keep the platform's 404. An event stream's handler returns when the stream
 * ends, a poll's when it is answered. Guards see `context.getClass()` as `HubRequests` and
 * `getHandler()` as its `serve` method.
 *
 * A CORS preflight is answered before the guards, as a CORS layer would answer it: browsers send
 * no credentials with one. The hub's own checks (Host, Origin, authentication, `@Authorize`,
 * the connection token, caps) run inside, with their own statuses.
 */
@Injectable()
export class HubRequests implements OnModuleInit {
  private platform: HttpPlatform | undefined;

  constructor(
    private readonly hubs: HubEndpoints,
    private readonly adapterHost: HttpAdapterHost,
    private readonly contextCreator: ExternalContextCreator,
  ) {}

  /** Hubs were created with the gateways, the application's routes and middleware are in place, its 404 is not yet. */
  onModuleInit(): void {
    const { httpAdapter } = this.adapterHost;
    if (!httpAdapter || this.hubs.served.size === 0) return;
    const platform = (this.platform = httpPlatformOf(httpAdapter));
    const enhancers = { guards: true, interceptors: true, filters: true };
    const pipeline = this.contextCreator.create(this, this.serve, 'serve', undefined, undefined, undefined, undefined, enhancers, 'http');
    // What no filter of the application caught is answered as Nest's router answers it.
    const unfiltered = new BaseExceptionFilter(httpAdapter);
    platform.mount((args) => {
      const request = platform.request(args);
      const { pathname } = splitUrl(request.url);
      const { classic } = this.hubs;
      const target = classic?.operationOf(pathname) ? undefined : this.hubs.served.find(pathname);
      if (!target) {
        if (!classic?.operationOf(pathname)) return undefined;
        if (classic.answerPreflight(request, platform.reply(args))) return Promise.resolve();
      } else if (!target.endpoint.servesHttp(target.rest)) return undefined;
      else if (target.endpoint.answerPreflight(request, platform.reply(args), target.rest)) return Promise.resolve();
      return pipeline(...args).then(
        () => undefined,
        (error: unknown) => unfiltered.catch(error, httpArgumentsHost(args)),
      );
    }, [...this.hubs.served.httpPaths(), ...(this.hubs.classic?.httpPaths ?? [])]);
  }

  /** The handler the application's guards and interceptors run around. */
  async serve(...args: PlatformArgs): Promise<void> {
    const platform = this.platform!;
    const request = platform.request(args);
    const { pathname, query } = splitUrl(request.url);
    const classic = this.hubs.classic?.operationOf(pathname);
    if (classic) return this.hubs.classic!.serveHttp(request, platform.reply(args), classic, query);
    const target = this.hubs.served.find(pathname);
    // The hub closed while the application's guards ran: the path is no longer served.
    if (!target) throw new NotFoundException();
    await target.endpoint.serveHttp(request, platform.reply(args), target.rest, query);
  }
}

const notHttp = () => {
  throw new TypeError('A hub request is an HTTP request.');
};

/** The arguments of a route handler, as Nest's exception filters read them. */
function httpArgumentsHost(args: PlatformArgs): ArgumentsHost {
  const http = { getRequest: <T>() => args[0] as T, getResponse: <T>() => args[1] as T, getNext: <T>() => args[2] as T };
  return {
    getArgs: <T extends unknown[]>() => [...args] as T,
    getArgByIndex: <T>(index: number) => args[index] as T,
    getType: <T extends string>() => 'http' as T,
    switchToHttp: () => http,
    switchToRpc: notHttp,
    switchToWs: notHttp,
  };
}
