import { Module, type DynamicModule, type Provider } from '@nestjs/common';
import { rootModuleMissing } from './errors/setup-errors.js';
import { getHubContextToken } from './lifetime/hub-context.js';
import { SignalRBackplaneHealthIndicator } from './lifetime/redis/backplane-health-indicator.js';
import { HubEndpoints } from './hub-endpoints.js';
import { HubStartup } from './hub-startup.js';
import { HUB_ARGUMENT_VALIDATOR, HubValidationPipe, hubValidationProviders } from './hub/hub-validation.pipe.js';
import { HubAuthorizationGuard } from './security/hub-authorization.guard.js';
import { HubAuthorizer } from './security/hub-authorizer.js';
import { passportAuthenticatorProvider } from './security/passport-authenticator.provider.js';
import { TokenService } from './security/token-service.js';
import { tokenServiceProvider } from './security/token-service.provider.js';
import { SignalRConfigurableModule } from './signalr.module-definition.js';
import { HubRequests } from './transport/hub-requests.js';
import { telemetryProvider } from './telemetry/telemetry-provider.js';

/** Holds hub contexts for one feature module; its own class, so it never duplicates the registry. */
@Module({})
class SignalRFeatureModule {}

/**
 * `SignalRModule.forRoot(options)` (or `forRootAsync`) once, in the root module; it is global.
 * Hubs are listed in the `providers` of the module that owns them, like gateways, so their
 * guards and pipes resolve there. `SignalRModule.forFeature([HubA])` makes `HubA`'s context
 * injectable with `@InjectHubContext(HubA)` in the module that imports it.
 */
@Module({
  providers: [
    HubEndpoints,
    HubStartup,
    HubRequests,
    HubAuthorizer,
    HubAuthorizationGuard,
    tokenServiceProvider,
    passportAuthenticatorProvider,
    ...hubValidationProviders,
    SignalRBackplaneHealthIndicator,
    telemetryProvider,
  ],
  exports: [
    HubEndpoints,
    HubAuthorizer,
    HubAuthorizationGuard,
    HubValidationPipe,
    HUB_ARGUMENT_VALIDATOR,
    TokenService,
    SignalRBackplaneHealthIndicator,
  ],
})
export class SignalRModule extends SignalRConfigurableModule {
  static forFeature(hubs: Function[]): DynamicModule {
    const contexts: Provider[] = hubs.map((hub) => ({
      provide: getHubContextToken(hub),
      useFactory: (registry: HubEndpoints | undefined) => {
        if (!registry) throw rootModuleMissing(`SignalRModule.forFeature([${hub.name}])`);
        return registry.contextFor(hub);
      },
      // Optional only so that forFeature without forRoot fails with what to add.
      inject: [{ token: HubEndpoints, optional: true }],
    }));
    return {
      module: SignalRFeatureModule,
      providers: contexts,
      exports: hubs.map(getHubContextToken),
    };
  }
}
