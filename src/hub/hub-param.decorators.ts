import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { HubCallerContext } from './hub-caller-context.js';
import type { HubInvocationContext } from './hub-invocation-context.js';
import { HUB_UPLOAD_STREAM_PARAMS_METADATA } from './hub-metadata.js';

// Context parameters are "custom" parameters to Nest, so validation pipes leave them alone
// and only the hub arguments are transformed and validated.
const callerOf = (context: ExecutionContext) => context.switchToWs().getClient<HubCallerContext>();
const invocationOf = (context: ExecutionContext) => context.switchToWs().getData<HubInvocationContext>();

type Factory = (data: unknown, context: ExecutionContext) => unknown;
type DirectValue = (caller: HubCallerContext, invocation: HubInvocationContext, data: unknown) => unknown;

const callerFactory: Factory = (_, context) => callerOf(context);
const userFactory: Factory = (_, context) => callerOf(context).user;
const itemsFactory: Factory = (_, context) => callerOf(context).items;
const requestFactory: Factory = (_, context) => callerOf(context).request;
const clientsFactory: Factory = (_, context) => invocationOf(context).clients;
const groupsFactory: Factory = (_, context) => invocationOf(context).groups;
const classicStateFactory: Factory = (_, context) => invocationOf(context).classicState;
const uploadStreamFactory: Factory = (parameterIndex, context) => invocationOf(context).uploadStreamFor(parameterIndex as number);

/**
 * The same values as the factories above, without an execution context: for the invoker's
 * direct path, which skips Nest's pipeline only when it would do nothing but call these.
 */
export const DIRECT_PARAMETER_VALUES: ReadonlyMap<Function, DirectValue> = new Map<Function, DirectValue>([
  [callerFactory, (caller) => caller],
  [userFactory, (caller) => caller.user],
  [itemsFactory, (caller) => caller.items],
  [requestFactory, (caller) => caller.request],
  [clientsFactory, (_, invocation) => invocation.clients],
  [groupsFactory, (_, invocation) => invocation.groups],
  [classicStateFactory, (_, invocation) => invocation.classicState],
  [uploadStreamFactory, (_, invocation, parameterIndex) => invocation.uploadStreamFor(parameterIndex as number)],
]);

/** The calling connection: its id, user, items, and a way to abort it. */
export const Caller = createParamDecorator(callerFactory);

/** The authenticated user of the calling connection (`undefined` when anonymous). */
export const HubUser = createParamDecorator(userFactory);

/** A per-connection map that lives as long as the connection, for the app's own state. */
export const HubItems = createParamDecorator(itemsFactory);

/**
 * The HTTP request behind the calling connection (`ConnectionRequest`): headers, cookies, query,
 * remote address, transport and user, credentials redacted unless `exposeRequestCredentials` lists them.
 */
export const HubRequest = createParamDecorator(requestFactory);

/** Senders relative to the caller: all, caller, others, groups, users, connections. */
export const Clients = createParamDecorator(clientsFactory);

/** Adds and removes connections to and from groups of this hub. */
export const Groups = createParamDecorator(groupsFactory);

/**
 * A classic (jQuery 2.x) caller's hub state: the proxy's `state`, sent with each call (`S`). Read
 * it and change it in place; what changed goes back with the result and updates the proxy's
 * `state`, as classic SignalR's `Clients.Caller.name` did. Undefined for a modern caller (its
 * protocol has no state) and on a hub that opts out (`@Hub(path, { classicState: false })`).
 * Its JSON is limited to 4096 characters both ways, as classic SignalR limited it.
 */
export const ClassicState = createParamDecorator(classicStateFactory);

const uploadStreamAt = createParamDecorator(uploadStreamFactory);

/**
 * A client-to-server stream: the client passes a `Subject` for this parameter and the method
 * receives its items as an `AsyncIterable` (or an rxjs `Observable` when the parameter is typed so).
 */
export function UploadStream(): ParameterDecorator {
  return (target, key, index) => {
    if (key === undefined) throw new TypeError('@UploadStream() belongs on a hub method parameter.');
    const indexes: number[] = Reflect.getMetadata(HUB_UPLOAD_STREAM_PARAMS_METADATA, target.constructor, key) ?? [];
    Reflect.defineMetadata(HUB_UPLOAD_STREAM_PARAMS_METADATA, [...indexes, index], target.constructor, key);
    uploadStreamAt(index)(target, key, index);
  };
}
