export { SignalRModule } from './signalr.module.js';
export { SignalRAdapter } from './transport/signalr-adapter.js';
export { HubRequests } from './transport/hub-requests.js';
export { HubEndpoints } from './hub-endpoints.js';
export type { ProxyOptions, SignalRModuleOptions, UnknownGuards } from './options/signalr-module-options.js';
export type { ProxyAwareGuard } from './proxies/proxy-visibility.js';
export { DEFAULT_HUB_OPTIONS, type HubOptions } from './options/hub-options.js';
export type { InvocationSpans, TelemetryOptions } from './options/telemetry-options.js';

export { Hub } from './hub/hub.decorator.js';
export { HubMethod } from './hub/hub-method.decorator.js';
export { Caller, ClassicState, Clients, Groups, HubItems, HubRequest, HubUser, UploadStream } from './hub/hub-param.decorators.js';
export type { ConnectionRequest, TransportName } from './hub/connection-request.js';
export type { HubCallerContext } from './hub/hub-caller-context.js';
export type { HubInvocationContext } from './hub/hub-invocation-context.js';
export type { OnHubAuthenticationRefreshed, OnHubConnected, OnHubDisconnected } from './hub/hub-lifecycle.js';
export type { AuthenticationRefreshContext, AuthenticationRefreshPolicy } from './security/authentication-refresh-policy.js';
export type { HubMethodMetadata } from './hub/hub-metadata.js';

export { HubContext, InjectHubContext, getHubContextToken } from './lifetime/hub-context.js';
export type {
  ClientProxy,
  GroupManager,
  HubCallerClients,
  HubClients,
  SingleClientProxy,
} from './lifetime/client-proxy.js';
export type { HubLifetimeManager, HubLifetimeManagerFactory } from './lifetime/hub-lifetime-manager.js';
export type { HubConnectionHandle } from './lifetime/hub-connection-handle.js';
export { InProcessLifetimeManager } from './lifetime/in-process-lifetime-manager.js';
export { SerializedHubMessage } from './protocol/serialized-hub-message.js';

export { HubException } from './errors/hub-exception.js';
export { ArgumentValidationException, type ArgumentViolation } from './errors/argument-validation.exception.js';
export { HubValidationPipe } from './hub/hub-validation.pipe.js';
export { SignalRError, SignalRErrorCode } from './errors/signalr-error-codes.js';

export {
  Authorize,
  AllowAnonymous,
  type AuthorizeOptions,
  type AuthorizationContext,
  type AuthorizationPolicy,
  type AuthorizationPolicyFunction,
} from './security/authorize.decorator.js';
export { HubAuthorizer, type AuthorizationOutcome } from './security/hub-authorizer.js';
export { HubAuthorizationGuard } from './security/hub-authorization.guard.js';
export { TokenService } from './security/token-service.js';
export { parseKeyRing, KeyRingError } from './security/key-ring.js';
export { IDENTITY_CHANGED } from './security/connection-claim.js';
export type { ClaimOutcome, ConnectionRegistry, ConnectionRegistryFactory } from './security/connection-registry.js';
export { InProcessConnectionRegistry } from './security/in-process-connection-registry.js';
export type { CanRejoin } from './options/signalr-module-options.js';
export type { UserIdentityOptions } from './security/user-identity.js';
export type { HostPolicyOptions } from './security/host-policy.js';
export type { OriginPolicyOptions } from './security/origin-policy.js';
export type { TransportSecurityOptions } from './security/transport-security.js';
export type { ConnectionRequestOptions, RequestCredential } from './transport/connection-request-capture.js';

// The Redis backplane's public surface is listed in its own barrel.
export * from './lifetime/redis/index.js';
