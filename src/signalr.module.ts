import { Module, type DynamicModule, type Provider } from '@nestjs/common';
import { getHubContextToken } from './clients/hub-context.js';
import { HubRegistry } from './hub-registry.js';
import { SignalRConfigurableModule } from './signalr.module-definition.js';

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
  providers: [HubRegistry],
  exports: [HubRegistry],
})
export class SignalRModule extends SignalRConfigurableModule {
  static forFeature(hubs: Function[]): DynamicModule {
    const contexts: Provider[] = hubs.map((hub) => ({
      provide: getHubContextToken(hub),
      useFactory: (registry: HubRegistry) => registry.contextFor(hub),
      inject: [HubRegistry],
    }));
    return {
      module: SignalRFeatureModule,
      providers: contexts,
      exports: hubs.map(getHubContextToken),
    };
  }
}
