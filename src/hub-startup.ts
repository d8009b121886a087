import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleInit, type WebSocketAdapter } from '@nestjs/common';
import { ApplicationConfig, ModulesContainer } from '@nestjs/core';
import { adapterMissing } from './errors/setup-errors.js';
import { SignalRError, SignalRErrorCode } from './errors/signalr-error-codes.js';
import { HubEndpoints } from './hub-endpoints.js';
import { HUB_METADATA, type HubMetadata } from './hub/hub-metadata.js';
import { PASSPORT_AUTHENTICATOR } from './security/passport-authenticator.provider.js';
import type { PassportAuthenticator } from './security/passport-authenticator.js';

/**
 * Stands in as the application's WebSocket adapter until `main.ts` sets its own. Without it, Nest
 * would load its default adapter for the hubs (socket.io, or exit telling the user to install
 * it); with it, a missing `useWebSocketAdapter` fails with the line to add.
 */
class AdapterNotSet implements WebSocketAdapter {
  constructor(private readonly hubs: string) {}

  create(): never {
    throw adapterMissing(this.hubs);
  }

  bindClientConnect(): void {}
  bindMessageHandlers(): void {}
  close(): void {}
  dispose(): void {}
}

/**
 * The checks a first start needs, each failing with what to change: two hubs on one path
 * (Nest would silently give it to the first), hubs without `SignalRAdapter`, and
 * `authStrategies` that name no registered Passport strategy.
 */
@Injectable()
export class HubStartup implements OnModuleInit, OnApplicationBootstrap {
  private readonly hubs: readonly { hubClass: Function; path: string }[];
  private readonly placeholder: AdapterNotSet | undefined;

  constructor(
    modules: ModulesContainer,
    private readonly config: ApplicationConfig,
    private readonly endpoints: HubEndpoints,
    @Inject(PASSPORT_AUTHENTICATOR) private readonly authenticator: PassportAuthenticator | null,
  ) {
    this.hubs = providedHubs(modules);
    assertDistinctPaths(this.hubs);
    // Built while NestFactory.create runs, before main.ts can call useWebSocketAdapter.
    if (this.hubs.length > 0 && !config.getIoAdapter()) {
      this.placeholder = new AdapterNotSet(this.hubs.map(({ hubClass }) => hubClass.name).join(', '));
      config.setIoAdapter(this.placeholder);
    }
  }

  /** Gateways are connected by now: every hub is served, unless another adapter took them. */
  onModuleInit(): void {
    const adapter = this.config.getIoAdapter();
    // Still the placeholder: an application context, which serves no gateways at all.
    if (!adapter || adapter === this.placeholder) return;
    const unserved = this.hubs.filter(({ hubClass }) => !this.endpoints.serves(hubClass));
    if (unserved.length > 0) throw adapterMissing(unserved.map(({ hubClass }) => hubClass.name).join(', '), adapter.constructor.name);
  }

  /** Strategies register themselves as their providers are built: all of them are by now. */
  onApplicationBootstrap(): void {
    if (!this.authenticator) return;
    const { unregistered, registered } = this.authenticator.unregisteredStrategies();
    if (unregistered.length === 0) return;
    const known = registered.length > 0 ? `registered are ${registered.map((name) => `'${name}'`).join(', ')}` : 'none is registered';
    throw new SignalRError(
      SignalRErrorCode.InvalidOption,
      `Option 'authStrategies' names ${unregistered.map((name) => `'${name}'`).join(', ')}, which no Passport strategy is registered as (${known}): ` +
        `list a class extending PassportStrategy(Strategy, '${unregistered[0]}') in a module's providers, or correct the name.`,
    );
  }
}

function providedHubs(modules: ModulesContainer): { hubClass: Function; path: string }[] {
  const hubs = new Map<Function, string>();
  for (const module of modules.values()) {
    for (const { metatype } of module.providers.values()) {
      const metadata: HubMetadata | undefined = typeof metatype === 'function' ? Reflect.getMetadata(HUB_METADATA, metatype) : undefined;
      if (metadata) hubs.set(metatype as Function, metadata.path);
    }
  }
  return [...hubs].map(([hubClass, path]) => ({ hubClass, path }));
}

/** Nest keeps one gateway server per path: a second hub on it would be dropped without a word. */
function assertDistinctPaths(hubs: readonly { hubClass: Function; path: string }[]): void {
  const byPath = new Map<string, { hubClass: Function; path: string }>();
  for (const hub of hubs) {
    const holder = byPath.get(hub.path.toLowerCase());
    if (holder) {
      throw new SignalRError(
        SignalRErrorCode.DuplicateHubPath,
        `Two hubs are mapped to one path: ${holder.hubClass.name} at ${holder.path} and ${hub.hubClass.name} at ${hub.path} (paths match case-insensitively).`,
      );
    }
    byPath.set(hub.path.toLowerCase(), hub);
  }
}
