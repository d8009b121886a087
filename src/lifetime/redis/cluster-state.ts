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

/**
 * Asks one node of the cluster for CLUSTER INFO after each refresh of the slot map (ioredis
 * refreshes it every `slotsRefreshInterval`, 5 s by default, after a MOVED, and the backplane
 * while one of its channels is broken), so that health says what the cluster says of itself.
 */
export class ClusterStateWatch {
  private latest: RedisClusterHealth | undefined;
  private reading = false;

  constructor(
    private readonly cluster: Cluster,
    private readonly onChange: () => void,
  ) {
    cluster.on('refresh', () => void this.read());
  }

  get current(): RedisClusterHealth | undefined {
    return this.latest;
  }

  private async read(): Promise<void> {
    if (this.reading || this.cluster.status !== 'ready') return;
    this.reading = true;
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
      // Unanswered: the cluster's own status (not ready) tells the outage.
    } finally {
      this.reading = false;
    }
  }
}
