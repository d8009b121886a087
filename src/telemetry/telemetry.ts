import type { HubLifecycle } from '../hub/hub-lifecycle.js';
import type { HubMethod } from '../hub/hub-methods.js';
import type { BackplaneMeter, HubConnectionsTelemetry, InvocationRefusals, RefusalMeter } from './meters.js';

/** The module's telemetry, bound at start-up to the application's registered SDK. */
export interface Telemetry {
  readonly refusals: RefusalMeter | undefined;
  /** What one hub reports; `hubName` is its class's name, as `rpc.service` gives it. */
  forHub(hubName: string): HubTelemetry;
}

/** One hub's telemetry: what its connection set, its dispatcher and its lifetime manager report. */
export interface HubTelemetry {
  readonly connections: HubConnectionsTelemetry;
  readonly invocationRefusals: InvocationRefusals | undefined;
  /** Present while metrics are on. */
  readonly backplane: BackplaneMeter | undefined;
  /** The hub's methods, each measured and traced around its invocation (and its stream's life). */
  methods(methods: ReadonlyMap<string, HubMethod>): Map<string, HubMethod>;
  lifecycle(lifecycle: HubLifecycle): HubLifecycle;
}
