/**
 * What a request of a Server-Sent Events or long-polling connection asks of the node holding the
 * connection, when it reached another node: deliver a POST's body, answer a poll, end the
 * connection on its client's DELETE, end it for a body over the limit, or give it the newer
 * credential of an authentication refresh.
 */
export type RelayedVerb = 'send' | 'poll' | 'remove' | 'terminate' | 'refresh';

export interface RelayedRequest {
  readonly verb: RelayedVerb;
  /** A POST's body, read and bounded by the node it reached; a refresh's credential. */
  readonly body?: Uint8Array;
}

/** The HTTP answer the holding node gives, which the asking node writes to its client. */
export interface RelayedAnswer {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | number>>;
  readonly body: Uint8Array;
}

/** One forwarded request on the node holding the connection. */
export interface RelayedExchange {
  readonly request: RelayedRequest;
  /** Sends the answer back; undefined when this node no longer holds the connection. */
  answer(answer: RelayedAnswer | undefined): void;
  /** Called once if the asking node's client left before the answer (a poll it gave up on). */
  onCancel(listener: () => void): void;
}

/**
 * What became of a forwarded request: its answer; `no-owner` when no node holds the connection
 * (or Redis could not take the request), for the asking node to answer as if it were its own;
 * `no-answer` when the holding node did not answer in time or the client left.
 */
export type RelayOutcome = RelayedAnswer | 'no-owner' | 'no-answer';

/**
 * Hands the requests of a connection that reached one node to the node that holds it, for
 * lifetime managers that span nodes (the Redis one), so that SSE and long polling need no sticky
 * sessions. The asking node has checked each request completely before it forwards it.
 */
export interface ConnectionRelay {
  /**
   * This node holds the connection: forwarded requests for it go to `handler` until the returned
   * release is called. Resolves once other nodes can reach this one with them.
   */
  serve(connectionId: string, handler: (exchange: RelayedExchange) => void): Promise<() => void>;
  /**
   * Forwards a request to the node holding the connection and awaits its answer for `holdMs` (how
   * long that node may keep it: a poll's timeout) plus the backplane's command timeout. Aborting
   * `signal` (the client left) cancels it there.
   */
  forward(connectionId: string, request: RelayedRequest, holdMs: number, signal: AbortSignal): Promise<RelayOutcome>;
}
