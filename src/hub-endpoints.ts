import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { ExternalContextCreator, ModuleRef } from '@nestjs/core';
import { HubContext } from './lifetime/hub-context.js';
import type { HubLifetimeManager } from './lifetime/hub-lifetime-manager.js';
import { InProcessLifetimeManager } from './lifetime/in-process-lifetime-manager.js';
import { LifetimeManagerClients, LifetimeManagerGroups } from './lifetime/lifetime-manager-clients.js';
import { HubExceptionFilter } from './errors/hub-exception-filter.js';
import { SignalRError, SignalRErrorCode } from './errors/signalr-error-codes.js';
import { HubDispatcher } from './hub/hub-dispatcher.js';
import type { HubMethod } from './hub/hub-methods.js';
import { createHubInvoker } from './hub/hub-invoker.js';
import { hubLifecycleOf } from './hub/hub-lifecycle.js';
import { HUB_METADATA, type HubMetadata } from './hub/hub-metadata.js';
import { exploreHubMethods } from './hub/hub-method-explorer.js';
import { resolveHubOptions } from './options/hub-options.js';
import { connectionCaps, proxyUnknownGuards, tokenLifetimes, type SignalRModuleOptions, type UnknownGuards } from './options/signalr-module-options.js';
import { JsonHubProtocol } from './protocol/json-hub-protocol.js';
import { MessagePackHubProtocol } from './protocol/messagepack-hub-protocol.js';
import { HubProxyRenderer } from './proxies/hub-proxy-renderer.js';
import { ProxyVisibility, type ProxyMethod } from './proxies/proxy-visibility.js';
import { SIGNALR_MODULE_OPTIONS } from './signalr.module-definition.js';
import { ConnectionCaps } from './security/connection-caps.js';
import type { ConnectionRegistry } from './security/connection-registry.js';
import { ConnectionTokens } from './security/connection-tokens.js';
import { GroupsTokens } from './security/groups-tokens.js';
import { HubAuthorizer } from './security/hub-authorizer.js';
import { HostPolicy } from './security/host-policy.js';
import { HubGatekeeper } from './security/hub-gatekeeper.js';
import { InProcessConnectionRegistry } from './security/in-process-connection-registry.js';
import { OriginPolicy } from './security/origin-policy.js';
import { PASSPORT_AUTHENTICATOR } from './security/passport-authenticator.provider.js';
import type { PassportAuthenticator } from './security/passport-authenticator.js';
import { TokenService } from './security/token-service.js';
import { TransportSecurity } from './security/transport-security.js';
import { AuthenticationRefresh } from './connection/authentication-refresh.js';
import { HubConnections } from './connection/hub-connections.js';
import type { ConnectionRelay, RelayedExchange } from './lifetime/connection-relay.js';
import { RefreshEndpoint } from './transport/refresh-endpoint.js';
import { ConnectionRequestCapture } from './transport/connection-request-capture.js';
import { HubEndpoint } from './transport/hub-endpoint.js';
import { HttpTransport } from './transport/http-transport.js';
import { HubPaths } from './transport/hub-paths.js';
import { offeredTransports } from './transport/negotiate-response.js';
import { WebSocketTransport } from './transport/websocket-transport.js';
import { SIGNALR_TELEMETRY } from './telemetry/telemetry-provider.js';
import { resolveClassicEndpointOptions } from './options/classic-endpoint-options.js';
import { DEFAULT_PROXY_UNKNOWN_GUARDS } from './options/signalr-module-options.js';
import { ClassicEndpoint } from './transport/classic/classic-endpoint.js';
import { ClassicHubs } from './transport/classic/classic-hub.js';
import { ClassicGroupsTokens } from './security/classic-groups-tokens.js';
import type { HubTelemetry, Telemetry } from './telemetry/telemetry.js';

const logger = new Logger('SignalR:Module');

/**
 * Builds, once per hub class, what serving it takes: the lifetime manager shared by the hub and
 * its injectable context, and the endpoint the adapter routes connections to.
 */
@Injectable()
export class HubEndpoints implements OnApplicationBootstrap, OnApplicationShutdown {
  /** The hubs the adapter serves, by path: its upgrades and the application's HTTP pipeline route by it. */
  readonly served = new HubPaths();
  /** The classic SignalR 2.x endpoint, while the `classic` option turns it on; it serves the hubs of `served`. */
  readonly classic: ClassicEndpoint | undefined;
  private readonly classicHubs = new ClassicHubs();
  private readonly lifetimeManagers = new Map<Function, HubLifetimeManager>();
  private readonly connectionRegistries: ConnectionRegistry[] = [];
  private readonly endpoints = new Map<Function, HubEndpoint>();
  private readonly hubTelemetry = new Map<Function, HubTelemetry>();

  private readonly transportSecurity: TransportSecurity;
  private readonly hostPolicy: HostPolicy;
  private readonly originPolicy: OriginPolicy;
  private readonly connectionTokens: ConnectionTokens;
  private readonly groupsTokens: GroupsTokens;
  private readonly lifetimes: ReturnType<typeof tokenLifetimes>;
  /** One count for every hub of the module: the caps are the node's. */
  private readonly caps: ConnectionCaps;
  private readonly exceptionFilter: HubExceptionFilter;
  private readonly requestCapture: ConnectionRequestCapture;
  /** Undefined while client proxies are off. */
  private readonly proxyUnknownGuards: UnknownGuards | undefined;

  constructor(
    @Inject(SIGNALR_MODULE_OPTIONS) private readonly options: SignalRModuleOptions,
    private readonly contextCreator: ExternalContextCreator,
    private readonly moduleRef: ModuleRef,
    private readonly authorizer: HubAuthorizer,
    @Inject(PASSPORT_AUTHENTICATOR) private readonly authenticator: PassportAuthenticator | null,
    tokenService: TokenService,
    @Inject(SIGNALR_TELEMETRY) private readonly telemetry: Telemetry | null,
  ) {
    // Built at start-up so that a bad host or origin list or proxy address fails the application early.
    this.transportSecurity = new TransportSecurity(options);
    this.hostPolicy = new HostPolicy(options);
    this.originPolicy = new OriginPolicy(options);
    this.connectionTokens = new ConnectionTokens(tokenService);
    this.groupsTokens = new GroupsTokens(tokenService);
    this.lifetimes = tokenLifetimes(options);
    this.caps = new ConnectionCaps(connectionCaps(options), undefined, telemetry?.refusals);
    this.exceptionFilter = new HubExceptionFilter(options.detailedErrors ?? false);
    this.proxyUnknownGuards = proxyUnknownGuards(options);
    this.requestCapture = new ConnectionRequestCapture(options);
    if (process.env.NODE_ENV === 'production') warnOfProductionRisks(options);
    this.classic = this.createClassicEndpoint(tokenService);
  }

  contextFor(hubClass: Function): HubContext {
    // A context of a hub no module serves would send into nothing.
    this.resolveHubInstance(hubClass);
    const manager = this.lifetimeManagerFor(hubClass);
    return new HubContext(new LifetimeManagerClients(manager), new LifetimeManagerGroups(manager));
  }

  /** Whether the adapter serves `hubClass`. */
  serves(hubClass: Function): boolean {
    return this.endpoints.has(hubClass);
  }

  endpointFor(hubClass: Function): HubEndpoint {
    let endpoint = this.endpoints.get(hubClass);
    if (!endpoint) this.endpoints.set(hubClass, (endpoint = this.createEndpoint(hubClass)));
    return endpoint;
  }

  /** Hubs were served during init; a shared registry must answer before the first client comes. */
  async onApplicationBootstrap(): Promise<void> {
    await Promise.all(this.connectionRegistries.map((registry) => registry.ready?.()));
  }

  /** Before the adapter closes the hubs' endpoints: classic clients are told to stop, not left to reconnect. */
  beforeApplicationShutdown(): void {
    this.classic?.close();
  }

  async onApplicationShutdown(): Promise<void> {
    // The adapter closes endpoints it served; this catches managers of hubs never served.
    await Promise.all([...this.lifetimeManagers.values()].map((manager) => manager.dispose()));
  }

  private lifetimeManagerFor(hubClass: Function): HubLifetimeManager {
    let manager = this.lifetimeManagers.get(hubClass);
    if (!manager) {
      const { path } = hubMetadataOf(hubClass);
      manager = this.options.lifetimeManager?.(path) ?? new InProcessLifetimeManager();
      const backplane = this.telemetryOf(hubClass)?.backplane;
      if (backplane) manager.observeBackplane?.(backplane);
      this.lifetimeManagers.set(hubClass, manager);
    }
    return manager;
  }

  private createEndpoint(hubClass: Function): HubEndpoint {
    const metadata = hubMetadataOf(hubClass);
    const hub = this.resolveHubInstance(hubClass);
    const options = resolveHubOptions([this.options, metadata.options], `@Hub('${metadata.path}') over the module's`);
    const methods = new Map<string, HubMethod>();
    const proxyMethods: ProxyMethod[] = [];
    for (const [key, descriptor] of exploreHubMethods(hubClass)) {
      const { invoke, guards } = createHubInvoker(this.contextCreator, hub, hubClass, descriptor, options.maximumQueuedObservableItems);
      methods.set(key, { descriptor, invoke });
      proxyMethods.push({ descriptor, handler: (hubClass.prototype as Record<string, Function>)[descriptor.methodName], guards });
    }
    const lifetimeManager = this.lifetimeManagerFor(hubClass);
    const telemetry = this.telemetryOf(hubClass);
    const { path } = metadata;
    const registry = this.connectionRegistryFor(path, lifetimeManager);
    const protocols = [
      new JsonHubProtocol({ maxDepth: options.maximumNestingDepth, maxMessageSize: options.maximumReceiveMessageSize }),
      new MessagePackHubProtocol({ maxDepth: options.maximumNestingDepth, maxMessageSize: options.maximumReceiveMessageSize }),
    ];
    const connections = new HubConnections({
      path,
      options,
      allowStatefulReconnect: this.options.allowStatefulReconnect ?? true,
      protocols,
      dispatcher: new HubDispatcher(telemetry ? telemetry.methods(methods) : methods, options, this.exceptionFilter, telemetry?.invocationRefusals),
      lifetimeManager,
      groups: new LifetimeManagerGroups(lifetimeManager),
      lifecycle: telemetry ? telemetry.lifecycle(hubLifecycleOf(hub)) : hubLifecycleOf(hub),
      registry,
      groupsTokens: this.groupsTokens,
      groupsTokenLifetimeMs: this.lifetimes.groupsTokenLifetimeMs,
      canRejoin: this.options.canRejoin ?? (() => true),
      telemetry: telemetry?.connections,
    });
    const gatekeeper = new HubGatekeeper({
      hubClass,
      hubPath: path,
      transport: this.transportSecurity,
      hosts: this.hostPolicy,
      origins: this.originPolicy,
      authenticator: this.authenticator ?? undefined,
      authorizer: this.authorizer,
      refusals: this.telemetry?.refusals,
      maximumAuthenticationLifetimeMs: this.options.maximumAuthenticationLifetimeMs,
    });
    const closeOnCredentialExpiry = this.options.closeOnCredentialExpiry ?? true;
    const { relay } = lifetimeManager;
    const refresh =
      closeOnCredentialExpiry && options.authenticationRefresh
        ? this.refreshEndpoint(hubClass, path, connections, gatekeeper, options.maximumAuthenticationRefreshesPerMinute, relay)
        : undefined;
    // What every transport checks a connection's requests with.
    const transportParts = {
      path,
      connections,
      gatekeeper,
      connectionTokens: this.connectionTokens,
      registry,
      caps: this.caps,
      negotiateTokenLifetimeMs: this.lifetimes.negotiateTokenLifetimeMs,
      closeOnCredentialExpiry,
      requestCapture: this.requestCapture,
    };
    const webSocket = new WebSocketTransport({
      ...transportParts,
      groupsTokens: this.groupsTokens,
      allowSkipNegotiation: this.options.allowSkipNegotiation ?? true,
      maximumReceiveFrameSize: options.maximumReceiveFrameSize,
      enabled: options.transports.includes('WebSockets'),
      holdForRefresh: refresh && relay && ((connectionId: string) => refresh.holdForRelay(relay, connectionId)),
    });
    const refreshRelayed = refresh && ((connectionId: string, exchange: RelayedExchange) => refresh.runRelayed(connectionId, exchange));
    const http = new HttpTransport({ ...transportParts, options, relay, refreshRelayed });
    const proxies = this.proxyRenderer(hubClass, path, proxyMethods);
    if (this.classic) {
      const listing = new HubProxyRenderer(hubClass, path, proxyMethods, new ProxyVisibility(hubClass, path, this.authorizer, this.proxyUnknownGuards ?? DEFAULT_PROXY_UNKNOWN_GUARDS));
      const name = metadata.classicName ?? hubClass.name;
      const acceptsState = metadata.classicState ?? true;
      this.classicHubs.add({ name, path, acceptsState, connections, gatekeeper, registry, visibleMethods: (user) => listing.visibleTo(user) });
    }
    const strategies = this.options.authStrategies?.length ? `Passport ${this.options.authStrategies.join(', ')}` : 'none (anonymous)';
    logger.log(
      `Serving ${hubClass.name} at ${path}: transports ${offeredTransports(options.transports).map(({ transport }) => transport).join(', ')}; ` +
        `protocols ${protocols.map(({ name }) => name).join(', ')}; authentication ${strategies}; connects ${this.authorizer.describeHubAccess(hubClass)}.`,
    );
    return new HubEndpoint({ path, connections, webSocket, http, gatekeeper, connectionTokens: this.connectionTokens, caps: this.caps, proxies, refresh });
  }

  private refreshEndpoint(
    hubClass: Function,
    path: string,
    connections: HubConnections,
    gatekeeper: HubGatekeeper,
    maximumRefreshesPerMinute: number,
    relay: ConnectionRelay | undefined,
  ): RefreshEndpoint {
    const refresh = new AuthenticationRefresh({
      hubPath: path,
      maximumRefreshesPerMinute,
      policy: this.options.onAuthenticationRefresh,
      identifierOf: this.authorizer.identity.identifierOf,
      authorizeHub: (user) => this.authorizer.authorizeHub(hubClass, user, path),
      refreshed: (caller) => connections.onAuthenticationRefreshed(caller),
    });
    return new RefreshEndpoint({ path, connections, gatekeeper, connectionTokens: this.connectionTokens, refresh, relay });
  }

  private createClassicEndpoint(tokenService: TokenService): ClassicEndpoint | undefined {
    const options = resolveClassicEndpointOptions(this.options.classic);
    if (!options) return undefined;
    const { transportSecurity: transport, hostPolicy: hosts, originPolicy: origins, authorizer } = this;
    // Ping and the proxy name no hub: the endpoint's own checks (Host, Origin, authentication) admit them.
    const gatekeeper = new HubGatekeeper({
      hubClass: ClassicEndpoint,
      hubPath: options.path,
      transport,
      hosts,
      origins,
      authenticator: this.authenticator ?? undefined,
      authorizer,
      refusals: this.telemetry?.refusals,
      maximumAuthenticationLifetimeMs: this.options.maximumAuthenticationLifetimeMs,
    });
    const { caps, connectionTokens, requestCapture } = this;
    const closeOnCredentialExpiry = this.options.closeOnCredentialExpiry ?? true;
    const { negotiateTokenLifetimeMs, groupsTokenLifetimeMs } = this.lifetimes;
    const groupsTokens = new ClassicGroupsTokens(tokenService);
    return new ClassicEndpoint({ options, hubs: this.classicHubs, gatekeeper, caps, connectionTokens, requestCapture, closeOnCredentialExpiry, negotiateTokenLifetimeMs, groupsTokens, groupsTokenLifetimeMs });
  }

  /** One per hub class, shared by its lifetime manager and its endpoint; undefined without an SDK. */
  private telemetryOf(hubClass: Function): HubTelemetry | undefined {
    if (!this.telemetry) return undefined;
    let hub = this.hubTelemetry.get(hubClass);
    if (!hub) this.hubTelemetry.set(hubClass, (hub = this.telemetry.forHub(hubClass.name)));
    return hub;
  }

  private proxyRenderer(hubClass: Function, path: string, methods: ProxyMethod[]): HubProxyRenderer | undefined {
    if (this.proxyUnknownGuards === undefined) return undefined;
    return new HubProxyRenderer(hubClass, path, methods, new ProxyVisibility(hubClass, path, this.authorizer, this.proxyUnknownGuards));
  }

  /** A lifetime manager that spans nodes brings a registry that does too. */
  private connectionRegistryFor(hubPath: string, lifetimeManager: HubLifetimeManager): ConnectionRegistry {
    const registry = this.options.connectionRegistry?.(hubPath) ?? lifetimeManager.connectionRegistry ?? new InProcessConnectionRegistry();
    this.connectionRegistries.push(registry);
    return registry;
  }

  private resolveHubInstance(hubClass: Function): object {
    try {
      return this.moduleRef.get(hubClass, { strict: false });
    } catch {
      throw new SignalRError(
        SignalRErrorCode.HubNotProvided,
        `Hub ${hubClass.name} is in no module's providers, so nothing serves it (SignalRModule.forFeature([${hubClass.name}]) only makes its ` +
          `context injectable): add it to the providers of the module that owns it, as in @Module({ providers: [${hubClass.name}] }).`,
      );
    }
  }
}

function warnOfProductionRisks(options: SignalRModuleOptions): void {
  if (options.detailedErrors) logger.warn('detailedErrors is on in production: clients see the messages of server errors.');
  if (options.allowedHosts === undefined) {
    logger.warn(
      'allowedHosts is not set: hubs answer to any Host header, so a page on a DNS-rebinding name passes their same-origin ' +
        "check. List the names this server is reached under, or ['*'] to accept any Host knowingly.",
    );
  }
}

function hubMetadataOf(hubClass: Function): HubMetadata {
  const metadata: HubMetadata | undefined = Reflect.getMetadata(HUB_METADATA, hubClass);
  if (!metadata) {
    throw new SignalRError(SignalRErrorCode.InvalidHubDefinition, `${hubClass.name} is not decorated with @Hub().`);
  }
  return metadata;
}
