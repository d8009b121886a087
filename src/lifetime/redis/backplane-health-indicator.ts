import { Inject, Injectable } from '@nestjs/common';
import type { SignalRModuleOptions } from '../../options/signalr-module-options.js';
import { SIGNALR_MODULE_OPTIONS } from '../../signalr.module-definition.js';
import type { RedisClusterHealth } from './cluster-state.js';
import type { RedisBackplaneHealthReport } from './redis-lifetime-manager-factory.js';

export const DEFAULT_BACKPLANE_HEALTH_KEY = 'signalr-backplane';

/** What a backplane's health reads as in a health-check response. */
export type BackplaneHealthDetails =
  | { readonly status: 'up'; readonly backplane: 'in-process' | 'custom' }
  | {
      readonly status: 'up' | 'down';
      readonly backplane: 'redis';
      /** When the status last changed, ISO 8601. */
      readonly since: string;
      /** Messages for other nodes dropped because Redis could not take them, all hubs together. */
      readonly droppedMessages: number;
      /** Times subscriptions were found dropped (what was published to them meanwhile was missed), all hubs together. */
      readonly subscriptionGaps: number;
      /** On a Redis Cluster: its state, masters and slots served, as it last said. */
      readonly cluster?: RedisClusterHealth;
      readonly hubs: Readonly<Record<string, { readonly status: 'up' | 'down'; readonly since: string }>>;
    };

/**
 * The shape of `@nestjs/terminus`' `HealthIndicatorResult`, spelled out here so that the library
 * needs no terminus at run time.
 */
export type BackplaneHealthIndicatorResult<Key extends string = string> = Record<Key, BackplaneHealthDetails>;

/** A lifetime manager factory that reports health, as `redisLifetimeManager(...)` does. */
interface HealthReporting {
  health(): RedisBackplaneHealthReport;
}

function reportsHealth(factory: unknown): factory is HealthReporting {
  return typeof (factory as Partial<HealthReporting> | undefined)?.health === 'function';
}

const iso = (epochMs: number) => new Date(epochMs).toISOString();

/** Turns a factory's `health()` report into a health indicator result under `key`. */
export function backplaneHealthResult<Key extends string>(
  report: RedisBackplaneHealthReport,
  key: Key,
): BackplaneHealthIndicatorResult<Key> {
  const hubs = Object.fromEntries(
    Object.entries(report.hubs).map(([hubPath, hub]) => [hubPath, { status: hub.status, since: iso(hub.since) }]),
  );
  const { status, droppedMessages, subscriptionGaps, cluster } = report;
  const details = { status, backplane: 'redis', since: iso(report.since), droppedMessages, subscriptionGaps, ...(cluster && { cluster }), hubs };
  return { [key]: details } as BackplaneHealthIndicatorResult<Key>;
}

/**
 * A health indicator of the module's backplane, for `@nestjs/terminus` 12 (tested with 12.1):
 * `health.check([() => backplane.isHealthy()])`. Terminus counts an indicator that returns
 * `down` as failed (503), so nothing is thrown. In-process hubs have no backplane to lose, and a
 * custom lifetime manager factory without `health()` cannot tell: both `up`.
 */
@Injectable()
export class SignalRBackplaneHealthIndicator {
  constructor(@Inject(SIGNALR_MODULE_OPTIONS) private readonly options: SignalRModuleOptions) {}

  isHealthy(): BackplaneHealthIndicatorResult<typeof DEFAULT_BACKPLANE_HEALTH_KEY>;
  isHealthy<Key extends string>(key: Key): BackplaneHealthIndicatorResult<Key>;
  isHealthy(key: string = DEFAULT_BACKPLANE_HEALTH_KEY): BackplaneHealthIndicatorResult {
    const factory = this.options.lifetimeManager;
    if (!reportsHealth(factory)) return { [key]: { status: 'up', backplane: factory ? 'custom' : 'in-process' } };
    return backplaneHealthResult(factory.health(), key);
  }
}
