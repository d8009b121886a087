import type { ValidationPipeOptions } from '@nestjs/common';
import type { AuthenticationRefreshPolicy } from '../security/authentication-refresh-policy.js';
import type { HubLifetimeManagerFactory } from '../lifetime/hub-lifetime-manager.js';
import type { ConnectionRegistryFactory } from '../security/connection-registry.js';
import type { HostPolicyOptions } from '../security/host-policy.js';
import type { OriginPolicyOptions } from '../security/origin-policy.js';
import type { TransportSecurityOptions } from '../security/transport-security.js';
import type { ConnectionRequestOptions } from '../transport/connection-request-capture.js';
import type { UserIdentityOptions } from '../security/user-identity.js';
import { classicOptionRule, type ClassicEndpointOptions } from './classic-endpoint-options.js';
import type { HubOptions } from './hub-options.js';
import { telemetryOptionRule, type TelemetryOptions } from './telemetry-options.js';
import { callback, describeValue, flag, listOf, milliseconds, nested, oneOf, positiveInteger, type OptionRule, type OptionRules } from './option-rules.js';

/** Decides whether a resuming connection's user may be put back in a group. */
export type CanRejoin = (user: unknown, groupName: string, hubPath: string) => boolean | Promise<boolean>;

/** What a client proxy shows of a method behind a guard that is not a `ProxyAwareGuard`. */
export type UnknownGuards = 'hide' | 'list';

export interface ProxyOptions {
  /**
   * A method behind a guard that is not a `ProxyAwareGuard` (global, on the hub or on the
   * method): `'hide'` leaves it out of every proxy, since nothing tells whom the guard admits;
   * `'list'` lists it as if the guard admitted everyone (`@Authorize` still decides).
   * @default 'hide'
   */
  readonly unknownGuards?: UnknownGuards;
}

export const DEFAULT_PROXY_UNKNOWN_GUARDS: UnknownGuards = 'hide';

/** Options of `SignalRModule.forRoot()` / `forRootAsync()`; hub options here apply to every hub. */
export interface SignalRModuleOptions
  extends HubOptions, UserIdentityOptions, HostPolicyOptions, OriginPolicyOptions, TransportSecurityOptions, ConnectionRequestOptions {
  /**
   * The key ring that seals connection tokens: 32-byte keys, as Buffers or base64 strings, the
   * current key first. Older keys keep opening tokens, so keys rotate without dropping users.
   * Required unless NODE_ENV is `development` or `test`, where a random key is made (with a warning).
   */
  keys?: readonly (Buffer | string)[];
  /**
   * Names of the application's Passport strategies that authenticate negotiate and connect
   * requests, tried in order. None: every connection is anonymous.
   */
  authStrategies?: readonly string[];
  /**
   * Every hub requires an authenticated user unless it (or a method) has `@AllowAnonymous()`; a hub
   * with such a method admits anonymous connections, which may call only the marked methods.
   * @default false
   */
  requireAuthentication?: boolean;
  /**
   * Close a connection with `{"type":7,"allowReconnect":true}` when its credential expires.
   * @default true
   */
  closeOnCredentialExpiry?: boolean;
  /**
   * Caps the expiry of every credential at this long after it was presented (at negotiate, at
   * connect, at an authentication refresh), a credential that never expires too: a connection
   * then outlives it only through refreshes. ASP.NET Core's `MaximumAuthenticationExpiration`.
   * @default unset: each credential's own expiry counts
   */
  maximumAuthenticationLifetimeMs?: number;
  /**
   * Asked once an authentication refresh passed the built-in checks (same user, hub
   * authorization): `false`, or a throw, refuses it with 403 `{"error":"permission_change_rejected"}`
   * and the connection keeps its credential. ASP.NET Core's `OnAuthenticationRefresh`.
   * @default unset: every refresh that passes the built-in checks is accepted
   */
  onAuthenticationRefresh?: AuthenticationRefreshPolicy;
  /**
   * Append the error's name and message to the generic text a client receives when a hub
   * method fails. For development only: a warning is logged when on with NODE_ENV=production.
   * @default false
   */
  detailedErrors?: boolean;
  /**
   * Options of the ValidationPipe applied to hub arguments typed with class-validator DTOs
   * (merged over `{ transform: true, whitelist: true, forbidUnknownValues: true }`), or `false`
   * to turn it off and bring your own pipes.
   * @default on when class-validator and class-transformer are installed
   */
  validation?: false | Omit<ValidationPipeOptions, 'exceptionFactory'>;
  /**
   * Serve `GET {hub}/proxy.js` (an ES module of wrappers over `@microsoft/signalr`) and
   * `{hub}/proxy.d.ts`, listing only the methods the requesting user may call. Off: 404.
   * `true` is `{ unknownGuards: 'hide' }`.
   * @default false
   */
  proxies?: boolean | ProxyOptions;
  /**
   * Offer stateful reconnect to clients that ask for it (`withStatefulReconnect()`): a dropped
   * socket can come back within `reconnectWindowMs` with the same id, groups and messages.
   * @default true
   */
  allowStatefulReconnect?: boolean;
  /**
   * Accept a WebSocket that comes without negotiate (the client's `skipNegotiation: true`); the
   * server names its connection. Only negotiate passes the application's HTTP pipeline (its
   * middleware and global guards): when those must see every connection, turn this off, and an
   * upgrade without a token from negotiate is refused with 400 `Connection ID required`.
   * @default true
   */
  allowSkipNegotiation?: boolean;
  /**
   * How long a connection token from negotiate stays usable before its WebSocket arrives.
   * @default 15000 ms
   */
  negotiateTokenLifetimeMs?: number;
  /**
   * Creates each hub's lifetime manager (the router of group, user and broadcast sends).
   * @default one in-process manager per hub
   */
  lifetimeManager?: HubLifetimeManagerFactory;
  /**
   * Where each hub records which connection ids are live and which ended, so that a token is
   * refused once its connection ended. Shared between nodes, it refuses ended connections on
   * every node, and survives restarts (`redisConnectionRegistry`).
   * @default the lifetime manager's own when it has one (`redisLifetimeManager`), else one per process
   */
  connectionRegistry?: ConnectionRegistryFactory;
  /**
   * How long a groups token (sent to clients that opt in with the package's client extension)
   * lets its connection resume, with its groups, on a node that lost the connection's state.
   * Tokens are renewed at half their lifetime while the connection lives.
   * @default 600000 ms (10 minutes)
   */
  groupsTokenLifetimeMs?: number;
  /**
   * Asked for each group of a connection resuming on a node that lost its state: return false to
   * keep the user out (banned, role revoked). Refused groups are dropped and logged.
   * @default every group the token or the shared store names is rejoined
   */
  canRejoin?: CanRejoin;
  /**
   * Live connections this node serves, all hubs of the module together; one more is refused
   * with 503 at negotiate and at the WebSocket upgrade. Size it to the node's memory and file
   * descriptors.
   * @default unset: no cap
   */
  maximumConnections?: number;
  /**
   * Live connections of one user (by `userIdentifier`) on this node; one more is refused with 429.
   * Anonymous connections are not counted here.
   * @default unset: no cap
   */
  maximumConnectionsPerUser?: number;
  /**
   * Live connections from one client address on this node; one more is refused with 429. The
   * address is the peer's, or, from a `trustedProxies` peer, the last `X-Forwarded-For` entry.
   * @default unset: no cap
   */
  maximumConnectionsPerAddress?: number;
  /**
   * Serve the classic SignalR 2.x protocol to the unmodified jQuery client (npm `signalr` 2.4.3)
   * from the same hubs, at `/signalr` unless `path` says otherwise; `true` takes every default.
   * @default false (off)
   */
  classic?: boolean | ClassicEndpointOptions;
  /**
   * What is recorded per hub invocation while the application has an OpenTelemetry SDK
   * registered (nothing is, without one): the duration histogram and which invocations get spans.
   * `false` leaves the package out of the SDK altogether, as if the API were not installed.
   * @default { invocationDuration: true, invocationSpans: 'all' }
   */
  telemetry?: false | TelemetryOptions;
}

export type ConnectionCapOptions = Pick<SignalRModuleOptions, 'maximumConnections' | 'maximumConnectionsPerUser' | 'maximumConnectionsPerAddress'>;

export const DEFAULT_NEGOTIATE_TOKEN_LIFETIME_MS = 15_000;
export const DEFAULT_GROUPS_TOKEN_LIFETIME_MS = 600_000;

/** The options `SignalRModuleOptions` declares itself, beside those of the interfaces it extends. */
type ModuleOwnOptions = Omit<
  SignalRModuleOptions,
  keyof (HubOptions & UserIdentityOptions & HostPolicyOptions & OriginPolicyOptions & TransportSecurityOptions & ConnectionRequestOptions)
>;

/** A shell command that prints a new key, for messages about missing keys. */
export const KEY_GENERATION_COMMAND = `node -e "console.log(require('crypto').randomBytes(32).toString('base64'))"`;

/** Whether an entry of `keys` is key material at all; the ring itself (base64, 32 bytes, repeats) is checked by the token service. */
const keyMaterial: OptionRule = (value) =>
  typeof value === 'string' || Buffer.isBuffer(value) ? undefined : `must be a 32-byte Buffer or base64 string, got ${describeValue(value)}`;

const connections = positiveInteger('connections');

const PROXY_OPTION_RULES: OptionRules<ProxyOptions> = {
  unknownGuards: oneOf('hide', 'list'),
};


/** What each of the module's own options accepts. */
export const MODULE_OWN_OPTION_RULES: OptionRules<ModuleOwnOptions> = {
  keys: (value) => {
    const problem = listOf(keyMaterial, '32-byte keys')(value);
    // An unset environment variable, as in `keys: [process.env.SIGNALR_KEY!]`, is the usual cause.
    return problem?.includes('is undefined') ? `${problem} (an unset environment variable?); make a key with: ${KEY_GENERATION_COMMAND}` : problem;
  },
  authStrategies: listOf((value) => (typeof value === 'string' && value !== '' ? undefined : `must be a strategy name, got ${describeValue(value)}`), 'Passport strategy names'),
  requireAuthentication: flag,
  closeOnCredentialExpiry: flag,
  maximumAuthenticationLifetimeMs: milliseconds,
  onAuthenticationRefresh: callback,
  detailedErrors: flag,
  validation: (value) => (value === false || (typeof value === 'object' && value !== null && !Array.isArray(value)) ? undefined : `must be false or ValidationPipe options, got ${describeValue(value)}`),
  proxies: (value) => (typeof value === 'boolean' ? undefined : nested(PROXY_OPTION_RULES)(value)),
  allowStatefulReconnect: flag,
  allowSkipNegotiation: flag,
  negotiateTokenLifetimeMs: milliseconds,
  lifetimeManager: callback,
  connectionRegistry: callback,
  groupsTokenLifetimeMs: milliseconds,
  canRejoin: callback,
  maximumConnections: connections,
  maximumConnectionsPerUser: connections,
  maximumConnectionsPerAddress: connections,
  classic: classicOptionRule,
  telemetry: telemetryOptionRule,
};

/** The module's token lifetimes with their defaults. */
export function tokenLifetimes(options: SignalRModuleOptions): { negotiateTokenLifetimeMs: number; groupsTokenLifetimeMs: number } {
  return {
    negotiateTokenLifetimeMs: options.negotiateTokenLifetimeMs ?? DEFAULT_NEGOTIATE_TOKEN_LIFETIME_MS,
    groupsTokenLifetimeMs: options.groupsTokenLifetimeMs ?? DEFAULT_GROUPS_TOKEN_LIFETIME_MS,
  };
}

/** The module's connection caps, unset ones left undefined. */
export function connectionCaps(options: SignalRModuleOptions): Readonly<ConnectionCapOptions> {
  const { maximumConnections, maximumConnectionsPerUser, maximumConnectionsPerAddress } = options;
  return { maximumConnections, maximumConnectionsPerUser, maximumConnectionsPerAddress };
}

/** What client proxies show of methods behind unknown guards; undefined when proxies are off. */
export function proxyUnknownGuards(options: SignalRModuleOptions): UnknownGuards | undefined {
  const { proxies } = options;
  if (!proxies) return undefined;
  return (proxies === true ? undefined : proxies.unknownGuards) ?? DEFAULT_PROXY_UNKNOWN_GUARDS;
}
