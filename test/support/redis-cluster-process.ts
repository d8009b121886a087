import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { RedisServer } from './redis-process.js';

// No test framework in here: the cluster benchmark (bench/harness) starts its clusters with it too.

const SLOTS = 16_384;
const FORM_TIMEOUT_MS = 20_000;

/** One line of CLUSTER NODES, as far as the tests need it. */
export interface ClusterNodeView {
  readonly id: string;
  readonly port: number;
  readonly master: boolean;
  /** The node id of its master, for a replica. */
  readonly masterId: string | undefined;
  /** Marked failing (`fail` or `fail?`) by the node asked. */
  readonly failing: boolean;
  readonly slots: readonly (readonly [number, number])[];
}

/**
 * A throw-away Redis Cluster of Debian's redis-server on 127.0.0.1 and free ports: `masters`
 * nodes share the 16,384 slots evenly, each with `replicasPerMaster` replicas. No persistence; a
 * short node timeout, so that a master that dies is replaced within a few seconds. Its nodes can
 * be killed and started again on their ports, as a single `RedisServer` can.
 */
export class RedisCluster {
  private constructor(
    readonly servers: readonly RedisServer[],
    private readonly dir: string,
  ) {}

  /** `host:port` of every node: what ioredis's `Cluster` and `REDIS_CLUSTER_NODES` take. */
  get startupNodes(): string[] {
    return this.servers.map((server) => `127.0.0.1:${server.port}`);
  }

  static async start({ masters = 3, replicasPerMaster = 0, nodeTimeoutMs = 1_000 } = {}): Promise<RedisCluster> {
    const dir = await mkdtemp(join(tmpdir(), 'redis-cluster-'));
    const nodeArgs = (port: number) => [
      '--cluster-enabled', 'yes',
      '--cluster-config-file', join(dir, `nodes-${port}.conf`),
      '--cluster-node-timeout', String(nodeTimeoutMs),
      '--dir', dir,
      // A node learns its own address from the others; alone (one master) it would name none.
      '--cluster-announce-ip', '127.0.0.1',
      // A replica's first sync starts at once instead of after the default 5 s, and it has an
      // offset within a second (a replica at offset 0 counts as loading: CLUSTER SLOTS leaves it out).
      '--repl-diskless-sync-delay', '0',
      '--repl-ping-replica-period', '1',
    ];
    const started = await Promise.allSettled(Array.from({ length: masters * (1 + replicasPerMaster) }, () => RedisServer.start(nodeArgs)));
    const servers = started.flatMap((outcome) => (outcome.status === 'fulfilled' ? [outcome.value] : []));
    const cluster = new RedisCluster(servers, dir);
    try {
      const failed = started.find((outcome) => outcome.status === 'rejected');
      if (failed) throw (failed as PromiseRejectedResult).reason;
      await cluster.form(masters);
    } catch (error) {
      await cluster.stop();
      throw error;
    }
    return cluster;
  }

  server(port: number): RedisServer {
    const server = this.servers.find((each) => each.port === port);
    if (!server) throw new Error(`No node of this cluster listens on ${port}.`);
    return server;
  }

  /** Runs `work` with a connection to one node (the first that answers unless `port` is given). */
  async on<T>(work: (node: Redis) => Promise<T>, port?: number): Promise<T> {
    const ports = port === undefined ? this.servers.map((server) => server.port) : [port];
    let lastError: unknown;
    for (const each of ports) {
      const node = new Redis(each, '127.0.0.1', { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
      node.on('error', () => undefined);
      try {
        await node.connect();
        return await work(node);
      } catch (error) {
        lastError = error;
      } finally {
        node.disconnect();
      }
    }
    throw lastError;
  }

  /** The cluster as the node on `port` (or the first that answers) sees it. */
  nodes(port?: number): Promise<ClusterNodeView[]> {
    return this.on(async (node) => parseClusterNodes(String(await node.cluster('NODES'))), port);
  }

  /** The master that serves `name`'s slot (a key's or a shard channel's), and its replicas. */
  async shardOf(name: string): Promise<{ master: ClusterNodeView; replicas: ClusterNodeView[] }> {
    const slot = Number(await this.on((node) => node.cluster('KEYSLOT', name)));
    const nodes = await this.nodes();
    const master = nodes.find((node) => node.master && !node.failing && node.slots.some(([from, to]) => slot >= from && slot <= to));
    if (!master) throw new Error(`No live master serves slot ${slot}.`);
    return { master, replicas: nodes.filter((node) => node.masterId === master.id) };
  }

  /** Resolves once every running node reports `cluster_state:ok` and agrees on who the masters are. */
  async settled(timeoutMs = FORM_TIMEOUT_MS): Promise<void> {
    await until(async () => {
      const views = await Promise.all(this.servers.map((server) => this.nodes(server.port).then((nodes) => ({ server, nodes })).catch(() => undefined)));
      const live = views.filter((view) => view !== undefined);
      if (live.length === 0) return false;
      const states = await Promise.all(live.map((view) => this.on((node) => node.cluster('INFO'), view.server.port).then(String).catch(() => '')));
      return states.every((state) => state.includes('cluster_state:ok')) && live.every((view) => mastersOf(view.nodes) === mastersOf(live[0].nodes));
    }, timeoutMs, 'the cluster did not settle');
  }

  /**
   * Resolves once every node runs, the cluster has settled, and CLUSTER SLOTS lists every node (a
   * replica still loading is left out, and then ioredis does not know it).
   */
  async whole(timeoutMs = FORM_TIMEOUT_MS): Promise<void> {
    await this.settled(timeoutMs);
    const listsEveryNode = async (port: number) => {
      const slots = (await this.on((node) => node.cluster('SLOTS'), port)) as unknown[][];
      return slots.reduce((total, range) => total + range.length - 2, 0) === this.servers.length;
    };
    await until(
      async () => (await Promise.all(this.servers.map((server) => listsEveryNode(server.port)))).every(Boolean),
      timeoutMs,
      'CLUSTER SLOTS did not list every node on every node',
    );
  }

  /** A manual failover: the replica on `replicaPort` takes its master's slots over, without losing writes. */
  async failover(replicaPort: number): Promise<void> {
    await this.on((node) => node.cluster('FAILOVER'), replicaPort);
    await until(async () => (await this.nodes(replicaPort)).some((node) => node.port === replicaPort && node.master), FORM_TIMEOUT_MS, 'the failover did not happen');
    await this.settled();
  }

  /** Kills the master on `port` as a crash would, and resolves once one of its replicas serves its slots. */
  async crash(port: number): Promise<void> {
    const nodes = await this.nodes();
    const master = nodes.find((node) => node.port === port && node.master);
    const replicas = nodes.filter((node) => master !== undefined && node.masterId === master.id);
    if (replicas.length === 0) throw new Error(`${port} is not a master with a replica.`);
    await this.server(port).kill();
    const promoted = async () =>
      (await this.nodes(replicas[0].port)).some((node) => node.master && node.slots.length > 0 && replicas.some((replica) => replica.id === node.id));
    await until(promoted, FORM_TIMEOUT_MS, `no replica took over from ${port}`);
    await this.settled();
  }

  async stop(): Promise<void> {
    await Promise.all(this.servers.map((server) => server.stop()));
    await rm(this.dir, { recursive: true, force: true });
  }

  private async form(masters: number): Promise<void> {
    const ids = await Promise.all(this.servers.map((server) => this.on((node) => node.cluster('MYID'), server.port).then(String)));
    await Promise.all(
      this.servers.slice(0, masters).map((server, index) => {
        const from = Math.floor((SLOTS * index) / masters);
        const to = Math.floor((SLOTS * (index + 1)) / masters) - 1;
        return this.on((node) => node.cluster('ADDSLOTSRANGE', from, to), server.port);
      }),
    );
    const [first, ...others] = this.servers;
    await Promise.all(others.map((server) => this.on((node) => node.cluster('MEET', '127.0.0.1', first.port), server.port)));
    await until(
      async () => (await Promise.all(this.servers.map((server) => this.nodes(server.port)))).every((nodes) => nodes.length === this.servers.length),
      FORM_TIMEOUT_MS,
      'the nodes did not meet',
    );
    // Replica r of master m: servers[masters + m + r * masters].
    await Promise.all(
      this.servers.slice(masters).map((server, index) => this.on((node) => node.cluster('REPLICATE', ids[index % masters]), server.port)),
    );
    await until(
      async () => {
        const replicasSynced = await Promise.all(
          this.servers.slice(masters).map((server) => this.on((node) => node.info('replication'), server.port).then((info) => info.includes('master_link_status:up'))),
        );
        const views = await Promise.all(this.servers.map((server) => this.nodes(server.port)));
        const replicasKnown = views.every((nodes) => nodes.filter((node) => !node.master).length === this.servers.length - masters);
        return replicasSynced.every(Boolean) && replicasKnown;
      },
      FORM_TIMEOUT_MS,
      'the replicas did not attach',
    );
    await this.whole();
  }
}

/** The live masters that serve slots, as one node sees them. */
const mastersOf = (nodes: ClusterNodeView[]) =>
  nodes
    .filter((node) => node.master && node.slots.length > 0 && !node.failing)
    .map((node) => node.port)
    .toSorted()
    .join();

export function parseClusterNodes(text: string): ClusterNodeView[] {
  return text
    .trim()
    .split('\n')
    .map((line) => {
      const [id, address, flags, masterId, , , , , ...slots] = line.trim().split(' ');
      const flagList = flags.split(',');
      return {
        id,
        port: Number(address.split('@')[0].split(':')[1]),
        master: flagList.includes('master'),
        masterId: masterId === '-' ? undefined : masterId,
        failing: flagList.includes('fail') || flagList.includes('fail?'),
        slots: slots
          .filter((range) => !range.startsWith('['))
          .map((range) => {
            const [from, to = from] = range.split('-').map(Number);
            return [from, to] as const;
          }),
      };
    });
}

async function until(condition: () => Promise<boolean>, timeoutMs: number, failure: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await condition().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`${failure} within ${timeoutMs} ms.`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
