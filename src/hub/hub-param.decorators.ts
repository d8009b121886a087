import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { HubCallerContext } from './hub-caller-context.js';
import type { HubInvocationContext } from './hub-invocation-context.js';
import { HUB_UPLOAD_STREAM_PARAMS_METADATA } from './hub-metadata.js';

// Context parameters are "custom" parameters to Nest, so validation pipes leave them alone
// and only the hub arguments are transformed and validated.
const callerOf = (context: ExecutionContext) => context.switchToWs().getClient<HubCallerContext>();
const invocationOf = (context: ExecutionContext) => context.switchToWs().getData<HubInvocationContext>();

/** The calling connection: its id, user, items, and a way to abort it. */
export const Caller = createParamDecorator((_: unknown, context) => callerOf(context));

/** The authenticated user of the calling connection (`undefined` when anonymous). */
export const HubUser = createParamDecorator((_: unknown, context) => callerOf(context).user);

/** A per-connection map that lives as long as the connection, for the app's own state. */
export const HubItems = createParamDecorator((_: unknown, context) => callerOf(context).items);

/** Senders relative to the caller: all, caller, others, groups, users, connections. */
export const Clients = createParamDecorator((_: unknown, context) => invocationOf(context).clients);

/** Adds and removes connections to and from groups of this hub. */
export const Groups = createParamDecorator((_: unknown, context) => invocationOf(context).groups);

const uploadStreamAt = createParamDecorator((parameterIndex: number, context) =>
  invocationOf(context).uploadStreamFor(parameterIndex),
);

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
