import type { Cluster } from 'ioredis';

/** A Redis Cluster as it last described itself (CLUSTER INFO). */
export interface RedisClusterHealth {
  /** `ok` while every slot is served; `fail` while some are not (a master is down and not replaced yet). */
  readonly state: 'ok' | 'fail';
  /** Masters that serve slots. */
  readonly masters: number;
  /** Slots served, of 16384. */
  readonly slotsServed: number;
}

/** How soon the state is asked again while the cluster does not serve every slot. */
const RECHECK_MS = 1_000;

/**
 * Asks one node of the cluster for CLUSTER INFO after each refresh of the slot map (every
 * `slotsRefreshInterval`, after a MOVED, and while a channel of the backplane is broken), and
 * every second while the cluster does not serve every slot, so that health says what the cluster
 * says of itself, and is up again soon after it is whole.
 */
export class ClusterStateWatch {
  private latest: RedisClusterHealth | undefined;
  private reading = false;
  private recheck: NodeJS.Timeout | undefined;

  constructor(
    private readonly cluster: Cluster,
    private readonly onChange: () => void,
  ) {
    cluster.on('refresh', () => void this.read());
  }

  get current(): RedisClusterHealth | undefined {
    return this.latest;
  }

  dispose(): void {
    clearTimeout(this.recheck);
  }

  private async read(): Promise<void> {
    if (this.reading || this.cluster.status !== 'ready') return;
    this.reading = true;
    clearTimeout(this.recheck);
    this.recheck = undefined;
    try {
      const info = String(await this.cluster.cluster('INFO'));
      const field = (name: string) => new RegExp(`^${name}:(\\S*)`, 'm').exec(info)?.[1];
      const latest: RedisClusterHealth = {
        state: field('cluster_state') === 'ok' ? 'ok' : 'fail',
        masters: Number(field('cluster_size')),
        slotsServed: Number(field('cluster_slots_ok')),
      };
      const changed = latest.state !== this.latest?.state;
      this.latest = latest;
      if (changed) this.onChange();
    } catch {
      // Unanswered: asked again below, and the cluster's own status tells an outage.
    } finally {
      this.reading = false;
    }
    if (this.latest?.state !== 'ok') {
      this.recheck = setTimeout(() => void this.read(), RECHECK_MS);
      this.recheck.unref();
    }
  }
}
