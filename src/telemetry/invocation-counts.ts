import type { Attributes, Meter } from '@opentelemetry/api';
import { INVOCATIONS } from './telemetry-names.js';

/** A count kept as a plain number: the hot path adds to it, the metric reader reads it. */
export interface Tally {
  count: number;
}

/**
 * `signalr.server.invocations` as an asynchronous counter over plain tallies, one per set of
 * attributes: a synchronous counter would hash the attributes on every invocation, which costs
 * more than the invocation itself does without it.
 */
export class InvocationCounts {
  private readonly tallies = new Map<string, Tally & { readonly attributes: Attributes }>();

  constructor(meter: Meter) {
    meter
      .createObservableCounter(INVOCATIONS, {
        unit: '{invocation}',
        description: 'Hub method invocations by outcome: ok, hub_error, refused (before or by a guard), validation.',
      })
      .addCallback((result) => {
        // A series appears once it counted something, as a synchronous counter's would.
        for (const { count, attributes } of this.tallies.values()) if (count > 0) result.observe(count, attributes);
      });
  }

  /** The tally of these attributes, made on first use; built by the package, so in a fixed key order. */
  tally(attributes: Attributes): Tally {
    const key = JSON.stringify(attributes);
    let tally = this.tallies.get(key);
    if (!tally) this.tallies.set(key, (tally = { count: 0, attributes }));
    return tally;
  }
}
