import { SignalRError, SignalRErrorCode } from '../errors/signalr-error-codes.js';
import type { HubEndpoint } from './hub-endpoint.js';

/** A request path resolved to a hub. */
export interface HubTarget {
  readonly endpoint: HubEndpoint;
  /** What follows the hub's path, lower-cased: `''` for the hub itself, `'/negotiate'`, `'/proxy.js'`, ... */
  readonly rest: string;
}

/**
 * The hubs an application serves, by path. Paths match case-insensitively, as ASP.NET Core's
 * routing matches them: `/hubs/Chat` reaches the hub at `/hubs/chat`, so two hubs whose paths
 * differ only in case would be one path.
 */
export class HubPaths {
  private readonly byPath = new Map<string, HubEndpoint>();

  get size(): number {
    return this.byPath.size;
  }

  /** The paths the hubs answer HTTP requests on. */
  httpPaths(): string[] {
    return [...this.byPath.values()].flatMap((endpoint) => endpoint.httpPaths);
  }

  add(endpoint: HubEndpoint): void {
    const key = endpoint.path.toLowerCase();
    const holder = this.byPath.get(key);
    if (holder) {
      throw new SignalRError(SignalRErrorCode.DuplicateHubPath, `Two hubs are mapped to one path: ${holder.path} and ${endpoint.path} (paths match case-insensitively).`);
    }
    this.byPath.set(key, endpoint);
  }

  delete(endpoint: HubEndpoint): void {
    this.byPath.delete(endpoint.path.toLowerCase());
  }

  /** The hub at `pathname`, or the hub one segment above it (its negotiate and proxy files). */
  find(pathname: string): HubTarget | undefined {
    const path = pathname.toLowerCase();
    const hub = this.byPath.get(path);
    if (hub) return { endpoint: hub, rest: '' };
    const lastSlash = path.lastIndexOf('/');
    const parent = lastSlash > 0 ? this.byPath.get(path.slice(0, lastSlash)) : undefined;
    return parent && { endpoint: parent, rest: path.slice(lastSlash) };
  }
}

/** A request URL's path and query, as received: the path is not decoded. */
export function splitUrl(url = '/'): { pathname: string; query: URLSearchParams } {
  const queryStart = url.indexOf('?');
  return queryStart === -1
    ? { pathname: url, query: new URLSearchParams() }
    : { pathname: url.slice(0, queryStart), query: new URLSearchParams(url.slice(queryStart + 1)) };
}
