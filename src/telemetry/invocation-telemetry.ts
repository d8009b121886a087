import type { Attributes, Context, Histogram, Span, Tracer } from '@opentelemetry/api';
import type { HubCallerContext } from '../hub/hub-caller-context.js';
import type { HubInvocationContext } from '../hub/hub-invocation-context.js';
import type { HubInvoker } from '../hub/hub-invoker.js';
import type { HubMethod } from '../hub/hub-methods.js';
import type { ConnectionTracing } from './connection-tracing.js';
import type { InvocationCounts } from './invocation-counts.js';
import { errorTypeOf, outcomeOf, type InvocationOutcome } from './invocation-outcome.js';
import type { OpenTelemetryApi } from './open-telemetry-api.js';
import { markFailed } from './span-failure.js';
import { endedWith } from './stream-end.js';
import type { InvocationRefusals } from './meters.js';
import { ATTR_ERROR_TYPE, ATTR_INVOCATION_OUTCOME, ATTR_RPC_METHOD, ATTR_RPC_SERVICE, ATTR_RPC_SYSTEM, OTHER_VALUE, RPC_SYSTEM } from './telemetry-names.js';

export interface InvocationInstruments {
  readonly counts: InvocationCounts;
  /** Absent when the application turned the histogram off (`telemetry.invocationDuration`). */
  readonly duration: Histogram | undefined;
}

export interface InvocationTracing {
  readonly tracer: Tracer;
  readonly connections: ConnectionTracing;
  /** Only invocations under a trace context their client propagated are traced. */
  readonly propagatedOnly: boolean;
}

/** What one finished invocation reports. */
type Finish = (error: unknown, failed: boolean) => void;

interface Traced {
  readonly span: Span;
  readonly context: Context;
}

/**
 * One hub's invocations: counted by outcome, timed, and traced as ASP.NET Core traces them (a
 * SERVER span `{Hub}/{method}` with `rpc.*`, under the client's `traceparent` header if it sent
 * one, else a root, linked to the connection's start). A stream's span and duration run until
 * its last item, its error or its cancellation. Methods are wrapped once, at start-up.
 */
export class InvocationTelemetry implements InvocationRefusals {
  constructor(
    private readonly api: OpenTelemetryApi,
    private readonly hubName: string,
    private readonly instruments: InvocationInstruments | undefined,
    private readonly tracing: InvocationTracing | undefined,
  ) {}

  wrap(method: HubMethod): HubMethod {
    const { wireName, streaming } = method.descriptor;
    const attributes = this.attributesOf(wireName);
    const okAttributes = { ...attributes, [ATTR_INVOCATION_OUTCOME]: 'ok' satisfies InvocationOutcome };
    const counts = this.instruments?.counts;
    const okCount = counts?.tally(okAttributes);
    const duration = this.instruments?.duration;
    const inner = method.invoke;
    const spanName = `${this.hubName}/${wireName}`;
    const finishOf = (startedAt: number, traced: Traced | undefined): Finish => (error, failed) => {
      if (counts) {
        const outcomeAttributes = failed ? { ...attributes, [ATTR_INVOCATION_OUTCOME]: outcomeOf(error), [ATTR_ERROR_TYPE]: errorTypeOf(error) } : okAttributes;
        (failed ? counts.tally(outcomeAttributes) : okCount!).count++;
        duration?.record((performance.now() - startedAt) / 1000, outcomeAttributes);
      }
      if (!traced) return;
      if (failed) markFailed(this.api, traced.span, error);
      traced.span.end();
    };
    const measured: HubInvoker = async (caller, context) => {
      const startedAt = duration ? performance.now() : 0;
      const traced = this.startSpan(spanName, attributes, caller, context);
      const finish = finishOf(startedAt, traced);
      let result: unknown;
      try {
        result = traced ? await this.api.context.with(traced.context, inner, undefined, caller, context) : await inner(caller, context);
      } catch (error) {
        finish(error, true);
        throw error;
      }
      if (streaming && isAsyncIterable(result)) return endedWith(result, finish, traced && ((step) => this.api.context.with(traced.context, step)));
      finish(undefined, false);
      return result;
    };
    // Nothing to time and no span to make: counted as the invocation settles, without an async
    // frame of its own, since every promise costs more once the SDK's context manager hooks them.
    const count = finishOf(0, undefined);
    const counted: HubInvoker = (caller, context) =>
      inner(caller, context).then(
        (result) => (streaming && isAsyncIterable(result) ? endedWith(result, count, undefined) : (count(undefined, false), result)),
        (error: unknown) => {
          count(error, true);
          throw error;
        },
      );
    return { descriptor: method.descriptor, invoke: this.choose(measured, counts ? counted : inner) };
  }

  /** `measured` where an invocation is timed or traced, else `plain`; with spans only under a propagated context, per call. */
  private choose(measured: HubInvoker, plain: HubInvoker): HubInvoker {
    if (this.instruments?.duration || (this.tracing && !this.tracing.propagatedOnly)) return measured;
    if (!this.tracing) return plain;
    return (caller, context) => (context.headers ? measured(caller, context) : plain(caller, context));
  }

  refused(wireName: string | undefined, outcome: 'refused' | 'validation'): void {
    if (this.instruments) this.instruments.counts.tally({ ...this.attributesOf(wireName ?? OTHER_VALUE), [ATTR_INVOCATION_OUTCOME]: outcome }).count++;
  }

  private attributesOf(wireName: string): Attributes {
    return { [ATTR_RPC_SYSTEM]: RPC_SYSTEM, [ATTR_RPC_SERVICE]: this.hubName, [ATTR_RPC_METHOD]: wireName };
  }

  private startSpan(spanName: string, attributes: Attributes, caller: HubCallerContext, invocation: HubInvocationContext): Traced | undefined {
    if (!this.tracing) return undefined;
    const { api } = this;
    // As ASP.NET Core: nothing current is inherited (a long-polling send's HTTP span, say), only
    // what the client propagated in the invocation's headers.
    const parent: Context = invocation.headers ? api.propagation.extract(api.ROOT_CONTEXT, invocation.headers) : api.ROOT_CONTEXT;
    if (this.tracing.propagatedOnly && !api.trace.getSpanContext(parent)) return undefined;
    const span = this.tracing.tracer.startSpan(
      spanName,
      { kind: api.SpanKind.SERVER, attributes, links: [...this.tracing.connections.linksOf(caller)] },
      parent,
    );
    return { span, context: api.trace.setSpan(parent, span) };
  }
}

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return typeof value === 'object' && value !== null && Symbol.asyncIterator in value;
}
