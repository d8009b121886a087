import type { HubExceptionFilter } from '../errors/hub-exception-filter.js';
import type { InvocationRefusals } from '../telemetry/meters.js';
import type { HubInvoker } from './hub-invoker.js';
import type { HubMethodDescriptor } from './hub-method-explorer.js';

export interface HubMethod {
  readonly descriptor: HubMethodDescriptor;
  readonly invoke: HubInvoker;
}

/** What a connection's dispatcher asks of its hub: the method a client names, and what a failure may show. */
export interface HubMethods {
  findMethod(target: string): HubMethod | undefined;
  readonly exceptionFilter: HubExceptionFilter;
  /** Present while metrics are on: where calls refused before any hub code ran are counted. */
  readonly invocationRefusals?: InvocationRefusals;
}
