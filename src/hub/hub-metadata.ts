import type { HubOptions } from '../options/hub-options.js';

export const HUB_METADATA = 'signalr:hub';
export const HUB_METHOD_METADATA = 'signalr:hub-method';
export const HUB_UPLOAD_STREAM_PARAMS_METADATA = 'signalr:upload-stream-params';

export interface HubMetadata {
  /** URL path of the hub, absolute from the server root (a global prefix does not apply). */
  readonly path: string;
  readonly options: HubOptions;
  /** The hub's name on the classic endpoint; undefined: the class name. */
  readonly classicName?: string;
  /** False: classic clients' hub state is refused. */
  readonly classicState?: boolean;
}

export interface HubMethodMetadata {
  /** Wire name; defaults to the method's own name. */
  readonly name?: string;
  /** Whether the method streams its result to the client (see `@HubMethod`). */
  readonly stream?: boolean;
  /** Set by `@HubMethod({ exclude: true })` on a public method the client must not call. */
  readonly exclude?: boolean;
}

/** The options bag the adapter receives for a hub from Nest's gateway machinery. */
export interface HubGatewayOptions {
  readonly path: string;
  readonly signalrHub: abstract new (...args: never[]) => unknown;
}

export function isHubGatewayOptions(options: unknown): options is HubGatewayOptions {
  return typeof options === 'object' && options !== null && 'signalrHub' in options;
}
