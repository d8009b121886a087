import type { Context, Link, Tracer } from '@opentelemetry/api';
import type { ConnectionRequest } from '../hub/connection-request.js';
import type { HubCallerContext } from '../hub/hub-caller-context.js';
import type { HubLifecycle } from '../hub/hub-lifecycle.js';
import type { OpenTelemetryApi } from './open-telemetry-api.js';
import { ATTR_RPC_SERVICE, ATTR_RPC_SYSTEM, ATTR_TRANSPORT, RPC_SYSTEM, TRANSPORT_VALUES } from './telemetry-names.js';
import { markFailed } from './span-failure.js';

/** The span a connection's start is traced under, and what its later spans link to. */
export interface TracedConnection {
  readonly context: Context;
  readonly links: readonly Link[];
  /** Ends the start's span, if it still runs (the connection ended before onConnected returned). */
  closed(): void;
}

const NO_LINKS: readonly Link[] = [];

/**
 * One hub's connection spans. A connection's start is one SERVER span, `{Hub} connect`, from the
 * transport's hand-over until the hub's onConnected returned, under the request that opened it
 * (the HTTP server span an instrumentation made, or its `traceparent` header: upgrades have no
 * HTTP span); onConnected runs in a child of it. Later spans of the connection (its invocations,
 * onDisconnected) are not its children, as in ASP.NET Core: they link to it.
 */
export class ConnectionTracing {
  private readonly traced = new WeakMap<HubCallerContext, TracedConnection>();

  constructor(
    private readonly api: OpenTelemetryApi,
    private readonly tracer: Tracer,
    private readonly hubName: string,
  ) {}

  opened(request: ConnectionRequest): TracedConnection {
    const { api } = this;
    const active = api.context.active();
    const parent = api.trace.getSpan(active) ? active : api.propagation.extract(api.ROOT_CONTEXT, request.headers);
    const span = this.tracer.startSpan(
      `${this.hubName} connect`,
      {
        kind: api.SpanKind.SERVER,
        attributes: { [ATTR_RPC_SYSTEM]: RPC_SYSTEM, [ATTR_RPC_SERVICE]: this.hubName, [ATTR_TRANSPORT]: TRANSPORT_VALUES[request.transport] },
      },
      parent,
    );
    let running = true;
    return {
      context: api.trace.setSpan(parent, span),
      links: [{ context: span.spanContext() }],
      closed: () => {
        if (running) span.end();
        running = false;
      },
    };
  }

  track(connection: HubCallerContext, traced: TracedConnection): void {
    this.traced.set(connection, traced);
  }

  /** The links of a span of the connection's: to its start. */
  linksOf(caller: HubCallerContext): readonly Link[] {
    return this.traced.get(caller)?.links ?? NO_LINKS;
  }

  /** onConnected in a child of the start's span, which ends with it; onDisconnected linked to it. */
  lifecycle(lifecycle: HubLifecycle): HubLifecycle {
    const { api } = this;
    return {
      onConnected: async (caller) => {
        const traced = this.traced.get(caller);
        const parent = traced?.context ?? api.ROOT_CONTEXT;
        const span = this.tracer.startSpan(`${this.hubName}/onConnected`, { kind: api.SpanKind.INTERNAL }, parent);
        try {
          await api.context.with(api.trace.setSpan(parent, span), () => lifecycle.onConnected(caller));
        } catch (error) {
          // Throwing refuses the connection: its start failed too.
          markFailed(api, span, error);
          const start = api.trace.getSpan(parent);
          if (start) markFailed(api, start, error);
          throw error;
        } finally {
          span.end();
          traced?.closed();
        }
      },
      onDisconnected: async (caller) => {
        const span = this.tracer.startSpan(
          `${this.hubName}/onDisconnected`,
          { kind: api.SpanKind.INTERNAL, links: [...this.linksOf(caller)] },
          api.ROOT_CONTEXT,
        );
        try {
          await api.context.with(api.trace.setSpan(api.ROOT_CONTEXT, span), () => lifecycle.onDisconnected(caller));
        } catch (error) {
          markFailed(api, span, error);
          throw error;
        } finally {
          span.end();
        }
      },
      onAuthenticationRefreshed: (caller) => lifecycle.onAuthenticationRefreshed(caller),
    };
  }
}
