import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { RedisCluster } from '../../test/support/redis-cluster-process.js';
import { REDIS_SERVER_BINARY, RedisServer, redisServerInstalled } from '../../test/support/redis-process.js';
import type { TargetId } from './options.js';
import { ServerProcess, WorkerPool } from './processes.js';
import { sleep, sum, type Context } from './scenarios.js';
import { percentile } from './stats.js';

/**
 * The shards scenario: nodes on one Redis (classic pub/sub) and on a Redis Cluster of one and of
 * three masters (sharded pub/sub), under group traffic (many groups, a member of each on every
 * node, every member sending to its own group) and under `Clients.All` traffic (every member
 * sending to all). Each cell gets fresh redis-server processes and fresh nodes.
 */
export const SHARD_BACKPLANES = ['redis', 'cluster-1', 'cluster-3'] as const;
export type ShardBackplane = (typeof SHARD_BACKPLANES)[number];
export const SHARD_TRAFFIC = ['groups', 'all'] as const;
export type ShardTraffic = (typeof SHARD_TRAFFIC)[number];

export const BACKPLANE_LABELS: Record<ShardBackplane, string> = {
  redis: 'one Redis (PUBLISH)',
  'cluster-1': 'cluster, 1 shard (SPUBLISH)',
  'cluster-3': 'cluster, 3 shards (SPUBLISH)',
};

export interface ShardCell {
  readonly traffic: ShardTraffic;
  readonly nodes: number;
  readonly backplane: ShardBackplane;
}

export interface ShardsResult {
  /** Messages the members sent per second in the measured window, all nodes together. */
  readonly offeredPerSecond: number;
  readonly deliveriesPerSecond: number;
  /** Deliveries against what the messages sent in the window should have given (about 1 when it keeps up). */
  readonly deliveredShare: number;
  /** Send → receipt over every receipt of the window (and those still under way when it ended). */
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** CPU of every node per delivery, microseconds. */
  readonly nodeCpuPerDelivery: number;
  /** CPU of every redis-server process per delivery, microseconds. */
  readonly redisCpuPerDelivery: number;
  /** The busiest redis-server process, in percent of one core. */
  readonly busiestRedisPercent: number;
  readonly note?: string;
}

const GROUP_PREFIX = 'g';
const TICKS_PER_SECOND = 100;

interface Backplane {
  readonly env: Record<string, string>;
  readonly servers: readonly RedisServer[];
  stop(): Promise<void>;
}

async function startBackplane(kind: ShardBackplane): Promise<Backplane> {
  const prefix = { BENCH_REDIS_PREFIX: `bench-${randomBytes(4).toString('hex')}` };
  if (kind === 'redis') {
    const redis = await RedisServer.start();
    return { env: { ...prefix, BENCH_REDIS_URL: redis.url }, servers: [redis], stop: () => redis.stop() };
  }
  const cluster = await RedisCluster.start({ masters: kind === 'cluster-1' ? 1 : 3 });
  return { env: { ...prefix, BENCH_REDIS_CLUSTER_NODES: cluster.startupNodes.join(',') }, servers: cluster.servers, stop: () => cluster.stop() };
}

/** CPU time (user + system) of a process, in clock ticks, from /proc. */
function cpuTicks(pid: number | undefined): number {
  if (pid === undefined) return 0;
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const [utime, stime] = stat.slice(stat.lastIndexOf(')') + 2).split(' ').slice(11, 13).map(Number);
  return utime + stime;
}

export async function runShards(context: Context, target: TargetId, cell: ShardCell): Promise<ShardsResult> {
  if (!redisServerInstalled()) throw new Error(`${REDIS_SERVER_BINARY} is not installed (apt-get install -y redis-server)`);
  const { options } = context;
  const backplane = await startBackplane(cell.backplane);
  const servers: ServerProcess[] = [];
  let workers: WorkerPool | undefined;
  try {
    for (let node = 0; node < cell.nodes; node++) servers.push(await ServerProcess.start(target, { BENCH_JWT_SECRET: context.jwtSecret, ...backplane.env }));
    // One load process per node, each holding one member of every group: a group has a member on every node.
    workers = await WorkerPool.start(cell.nodes);
    await workers.each((index) => ({ cmd: 'setup', target, port: servers[index].port, payloadBytes: options.payloadBytes, skipNegotiation: options.skipNegotiation }));
    const opened = await workers.all({ cmd: 'open', count: options.shardGroups, concurrency: options.openConcurrency, sender: false });
    const connections = sum(opened, 'opened');
    const joined = sum(await workers.all({ cmd: 'join-each', prefix: GROUP_PREFIX }), 'joined');
    const rate = cell.traffic === 'groups' ? options.shardRate : options.shardAllRate;
    await workers.all({ cmd: 'spread-start', prefix: GROUP_PREFIX, ratePerSecond: rate / cell.nodes, toAll: cell.traffic === 'all' });
    await sleep(options.warmupMs);

    await workers.all({ cmd: 'room-mark' });
    const nodeCpuBefore = await cpuOf(servers);
    const redisBefore = backplane.servers.map((server) => cpuTicks(server.pid));
    const startedAt = performance.now();
    await sleep(options.shardMs);
    const counts = await workers.all({ cmd: 'room-count' });
    const seconds = (performance.now() - startedAt) / 1000;
    const redisTicks = backplane.servers.map((server, index) => cpuTicks(server.pid) - redisBefore[index]);
    const nodeCpu = (await cpuOf(servers)) - nodeCpuBefore;
    const stopped = await workers.all({ cmd: 'room-stop' });

    const sent = sum(counts, 'sent');
    const received = sum(counts, 'received');
    const fanOut = cell.traffic === 'groups' ? cell.nodes : connections;
    const latencies = Float64Array.from(stopped.flatMap((reply) => [...(reply.latencies as Float64Array)])).toSorted();
    const closes = sum(stopped, 'closes');
    const problems = [
      connections < options.shardGroups * cell.nodes ? `${options.shardGroups * cell.nodes - connections} connections failed` : undefined,
      joined < connections ? `${connections - joined} never joined` : undefined,
      closes > 0 ? `${closes} connections closed by the server` : undefined,
    ].filter(Boolean);
    return {
      offeredPerSecond: sent / seconds,
      deliveriesPerSecond: received / seconds,
      deliveredShare: received / Math.max(1, sent * fanOut),
      p50Ms: percentile(latencies, 0.5) / 1000,
      p99Ms: percentile(latencies, 0.99) / 1000,
      nodeCpuPerDelivery: nodeCpu / Math.max(1, received),
      redisCpuPerDelivery: (redisTicks.reduce((total, ticks) => total + ticks, 0) * (1e6 / TICKS_PER_SECOND)) / Math.max(1, received),
      busiestRedisPercent: (Math.max(...redisTicks) / TICKS_PER_SECOND / seconds) * 100,
      note: problems.length > 0 ? problems.join('; ') : undefined,
    };
  } finally {
    await Promise.all(servers.map((server) => server.stop()));
    await workers?.stop();
    await backplane.stop();
  }
}

async function cpuOf(servers: readonly ServerProcess[]): Promise<number> {
  const stats = await Promise.all(servers.map((server) => server.stats()));
  return stats.reduce((total, { cpu }) => total + cpu, 0);
}
