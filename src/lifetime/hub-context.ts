import { Inject } from '@nestjs/common';
import type { GroupManager, HubClients } from './client-proxy.js';

/**
 * Sends to a hub's clients from anywhere in the application (a service, a controller, a job),
 * outside of any invocation. Inject it with `@InjectHubContext(MyHub)`.
 */
export class HubContext {
  constructor(
    readonly clients: HubClients,
    readonly groups: GroupManager,
  ) {}
}

const tokens = new WeakMap<Function, symbol>();

/** The injection token of a hub's `HubContext`; `SignalRModule.forFeature` provides it. */
export function getHubContextToken(hubClass: Function): symbol {
  let token = tokens.get(hubClass);
  if (!token) tokens.set(hubClass, (token = Symbol(`HubContext(${hubClass.name})`)));
  return token;
}

export const InjectHubContext = (hubClass: Function): ParameterDecorator & PropertyDecorator =>
  Inject(getHubContextToken(hubClass));
