import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

// The untyped packages are loaded by path, as a page's script tags load them.
const JQUERY_SOURCE = readFileSync(require.resolve('jquery/dist/jquery.js'), 'utf8');
const SIGNALR_SOURCE = readFileSync(require.resolve('signalr/jquery.signalR.js'), 'utf8');
const { JSDOM } = require('jsdom') as { JSDOM: new (html: string, options: object) => { window: PageWindow } };
const EventSourceShim = require('eventsource') as unknown;

/** A jQuery Deferred's promise: jQuery 3's is a thenable, so it can be awaited. */
export type Deferred<T = unknown> = PromiseLike<T>;

/** The parts of the jQuery client's hub proxy that tests use. */
export interface ClassicHubProxy {
  on(event: string, handler: (...args: unknown[]) => void): ClassicHubProxy;
  invoke(method: string, ...args: unknown[]): Deferred;
  readonly state: Record<string, unknown>;
  readonly hubName: string;
}

/** The parts of the jQuery client's hub connection that tests use. */
export interface ClassicHubConnection {
  id: string;
  qs: Record<string, string> | string;
  messageId: string | null;
  groupsToken: string | null;
  readonly transport: { readonly name: string; lostConnection(connection: ClassicHubConnection): void } | null;
  readonly state: number;
  createHubProxy(name: string): ClassicHubProxy;
  start(options?: { transport?: string | string[]; waitForPageLoad?: boolean; jsonp?: boolean }): Deferred<ClassicHubConnection>;
  stop(async?: boolean, notifyServer?: boolean): void;
  error(handler: (error: Error & { source?: unknown; context?: { status?: number; responseText?: string } }) => void): ClassicHubConnection;
  disconnected(handler: () => void): ClassicHubConnection;
  reconnecting(handler: () => void): ClassicHubConnection;
  reconnected(handler: () => void): ClassicHubConnection;
  stateChanged(handler: (change: { oldState: number; newState: number }) => void): ClassicHubConnection;
}

export interface ClassicJQuery {
  hubConnection(url: string, options?: { useDefaultPath?: boolean; qs?: Record<string, string>; logging?: boolean }): ClassicHubConnection;
  readonly signalR: { readonly connectionState: Record<'connecting' | 'connected' | 'reconnecting' | 'disconnected', number> };
}

interface PageWindow {
  readonly document: { readonly readyState: string };
  jQuery: ClassicJQuery;
  EventSource?: unknown;
  eval(source: string): unknown;
  addEventListener(event: 'load', listener: () => void): void;
  close(): void;
}

/**
 * A page at `baseUrl` running the unmodified jQuery client (npm `signalr` 2.4.3 on `jquery`), in
 * jsdom: its XMLHttpRequest and WebSocket are real network clients, and EventSource, which jsdom
 * lacks, is the `eventsource` package's. Same-origin with the server, as a page it served.
 */
export class ClassicPage {
  private constructor(private readonly window: PageWindow) {}

  /** `scriptTags`: the page loads and runs `<script src>` (what jQuery's JSONP requests are), as a browser does. */
  static async open(baseUrl: string, options: { eventSource?: boolean; scriptTags?: boolean } = {}): Promise<ClassicPage> {
    const scripts = options.scriptTags ? { runScripts: 'dangerously', resources: 'usable' } : { runScripts: 'outside-only' };
    const { window } = new JSDOM('<!doctype html><html><head></head><body></body></html>', { url: `${baseUrl}/`, ...scripts });
    if (window.document.readyState !== 'complete') await new Promise<void>((resolve) => window.addEventListener('load', resolve));
    if (options.eventSource !== false) window.EventSource = EventSourceShim;
    window.eval(JQUERY_SOURCE);
    window.eval(SIGNALR_SOURCE);
    return new ClassicPage(window);
  }

  get $(): ClassicJQuery {
    return this.window.jQuery;
  }

  /** Runs a script on the page (the generated proxy). */
  run(source: string): void {
    this.window.eval(source);
  }

  /** What a page script would see as `$.connection` once the generated proxy ran. */
  get connectionGlobal(): Record<string, ClassicHubProxy & { client: Record<string, Function>; server: Record<string, (...args: unknown[]) => Deferred> }> & { hub: ClassicHubConnection } {
    return (this.window.jQuery as unknown as { connection: never }).connection;
  }

  close(): void {
    this.window.close();
  }
}

/** Connects a hub connection of `page` to `/signalr` at `baseUrl` on `transport`, as the given user (a JWT) or anonymously. */
export function classicConnection(page: ClassicPage, baseUrl: string, accessToken?: string): ClassicHubConnection {
  return page.$.hubConnection(`${baseUrl}/signalr`, { useDefaultPath: false, qs: accessToken ? { access_token: accessToken } : {} });
}

/** The hubs a generated `/signalr/hubs` proxy lists, sorted. */
export const hubsInProxy = (source: string) => [...source.matchAll(/proxies\["(\w+)"\] = this\.createHubProxy/g)].map((match) => match[1]).toSorted();

/** The methods a generated proxy lists for `hub`, sorted, as the proxy names them. */
export const methodsInProxy = (source: string, hub: string) =>
  [...(source.split(`proxies["${hub}"].server = {`)[1]?.split('};')[0] ?? '').matchAll(/"(\w+)": function/g)].map((match) => match[1]).toSorted();

/** The pages and connections a suite opens, each connection on a page of its own; stopped and closed after each test. */
export class ClassicPages {
  private readonly pages: ClassicPage[] = [];
  private readonly connections: ClassicHubConnection[] = [];

  /** A connection (not started) of a new page at `baseUrl`, as the given user (a JWT) or anonymously. */
  async connection(baseUrl: string, accessToken?: string): Promise<ClassicHubConnection> {
    const page = await ClassicPage.open(baseUrl);
    this.pages.push(page);
    const connection = classicConnection(page, baseUrl, accessToken);
    this.connections.push(connection);
    return connection;
  }

  closeAll(): void {
    for (const connection of this.connections.splice(0)) connection.stop();
    for (const page of this.pages.splice(0)) page.close();
  }
}
