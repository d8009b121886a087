import type { HubExceptionFilter } from '../errors/hub-exception-filter.js';
import type { ResolvedHubOptions } from '../options/hub-options.js';
import { CountingConnectionDispatcher } from '../telemetry/counting-dispatcher.js';
import type { ConnectionMeter, InvocationRefusals } from '../telemetry/meters.js';
import { ConnectionDispatcher } from './connection-dispatcher.js';
import type { HubConnectionContext } from './hub-connection-context.js';
import type { HubMethod, HubMethods } from './hub-methods.js';

/** The method table of one hub, built at start-up; lookups are case-insensitive as in ASP.NET Core. */
export class HubDispatcher implements HubMethods {
  constructor(
    private readonly methods: ReadonlyMap<string, HubMethod>,
    private readonly options: ResolvedHubOptions,
    readonly exceptionFilter: HubExceptionFilter,
    readonly invocationRefusals?: InvocationRefusals,
  ) {}

  findMethod(target: string): HubMethod | undefined {
    return this.methods.get(target.toLowerCase());
  }

  /** `meter`, while metrics are on, counts the messages the connection hands its dispatcher. */
  attach(connection: HubConnectionContext, meter?: ConnectionMeter): ConnectionDispatcher {
    return meter ? new CountingConnectionDispatcher(this, connection, this.options, meter) : new ConnectionDispatcher(this, connection, this.options);
  }
}
