import type { HubConnection, IHttpConnectionOptions } from '@microsoft/signalr';
import { receivedCount } from './signalr-client-internals.js';

// Wire names shared with the server (src/transport): kept as literals so this file stays free
// of server code and can be bundled for browsers on its own.
const GROUPS_TOKEN_METHOD = 'nestjs-signalr:groups-token';
const OPT_IN = 'groupsToken';
const RESUME = 'resume';
const RECEIVED = 'received';

type WebSocketConstructor = new (...args: unknown[]) => object;

/**
 * The client reads a `WebSocket` constructor from its options at run time (how it gets `ws` in
 * Node) but leaves it out of its published typings.
 */
export type ResumableConnectionOptions = IHttpConnectionOptions & { readonly WebSocket?: unknown };

/**
 * Lets a `@microsoft/signalr` connection with `withStatefulReconnect()` resume, with its groups,
 * on a server node that lost its state (restarted, or another node behind the load balancer).
 *
 * ```ts
 * const resumption = new ConnectionResumption('/hubs/chat', { accessTokenFactory });
 * const connection = resumption.attach(
 *   new HubConnectionBuilder().withUrl(resumption.url, resumption.options).withStatefulReconnect().build(),
 * );
 * ```
 *
 * It opts in on the hub URL, keeps the latest groups token the server sends, and when the client
 * reconnects a dropped socket it adds that token and the number of messages received to the
 * WebSocket URL. A node that still holds the connection ignores both.
 */
export class ConnectionResumption {
  /** The hub URL with the opt-in: give it to `withUrl`. */
  readonly url: string;
  /** The HTTP options with the WebSocket wrapper: give them to `withUrl`. */
  readonly options: ResumableConnectionOptions;
  private connection: HubConnection | undefined;
  private groupsToken: { connectionId: string | null; token: string } | undefined;

  constructor(url: string, options: ResumableConnectionOptions = {}) {
    this.url = `${url}${url.includes('?') ? '&' : '?'}${OPT_IN}=true`;
    const BaseWebSocket = (options.WebSocket ?? browserWebSocket()) as WebSocketConstructor | undefined;
    if (!BaseWebSocket) {
      throw new TypeError('Outside a browser, pass options.WebSocket: the WebSocket class of the ws package, as the client itself uses.');
    }
    const ResumingWebSocket = resumingWebSocket(BaseWebSocket, (socketUrl) => this.resumeUrl(socketUrl));
    this.options = { ...options, WebSocket: ResumingWebSocket };
  }

  /** Listens for groups tokens on the connection built with `url` and `options`; returns it. */
  attach(connection: HubConnection): HubConnection {
    this.connection = connection;
    connection.on(GROUPS_TOKEN_METHOD, (token: unknown) => {
      if (typeof token === 'string') this.groupsToken = { connectionId: connection.connectionId, token };
    });
    return connection;
  }

  /** The first socket of a connection goes out as is; a reconnecting one carries what a new node needs. */
  private resumeUrl(socketUrl: string): string {
    const connection = this.connection;
    const kept = this.groupsToken;
    // A token is only good for the connection it was issued to: a new connection starts without one.
    if (!connection || !kept || kept.connectionId !== connection.connectionId) return socketUrl;
    const received = receivedCount(connection);
    if (received === undefined) return socketUrl;
    return `${socketUrl}&${RESUME}=${encodeURIComponent(kept.token)}&${RECEIVED}=${received}`;
  }
}

/** A WebSocket class that rewrites the URL of every socket it opens. */
function resumingWebSocket(Base: WebSocketConstructor, rewrite: (url: string) => string): WebSocketConstructor {
  return class extends Base {
    constructor(...[url, ...rest]: unknown[]) {
      super(rewrite(String(url)), ...rest);
    }
  };
}

/**
 * In Node the client hands credentials to `ws` as headers, which a global WebSocket (Node 22's)
 * would drop: there, only an explicit constructor will do.
 */
function browserWebSocket(): unknown {
  const runtime = globalThis as { WebSocket?: unknown; process?: { versions?: { node?: string } } };
  return runtime.process?.versions?.node === undefined ? runtime.WebSocket : undefined;
}
