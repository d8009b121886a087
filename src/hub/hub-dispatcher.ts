import type { HubExceptionFilter } from '../errors/hub-exception-filter.js';
import type { ResolvedHubOptions } from '../options/hub-options.js';
import { ConnectionDispatcher } from './connection-dispatcher.js';
import type { HubConnectionContext } from './hub-connection-context.js';
import type { HubMethod, HubMethods } from './hub-methods.js';

/** The method table of one hub, built at start-up; lookups are case-insensitive as in ASP.NET Core. */
export class HubDispatcher implements HubMethods {
  constructor(
    private readonly methods: ReadonlyMap<string, HubMethod>,
    private readonly options: ResolvedHubOptions,
    readonly exceptionFilter: HubExceptionFilter,
  ) {}

  findMethod(target: string): HubMethod | undefined {
    return this.methods.get(target.toLowerCase());
  }

  attach(connection: HubConnectionContext): ConnectionDispatcher {
    return new ConnectionDispatcher(this, connection, this.options);
  }
}
