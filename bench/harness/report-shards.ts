import type { BenchOptions } from './options.js';
import { fieldOf, LABELS, noteOf, number, shardsKey, withRatio, type Outcome } from './report-cells.js';
import { BACKPLANE_LABELS, SHARD_BACKPLANES, SHARD_TRAFFIC, type ShardsResult } from './shards.js';

/**
 * The shards table: for each protocol, traffic and node count, one Redis and the two clusters one
 * under the other, deliveries per second as ratios against one Redis.
 */
export function renderShards(options: BenchOptions, results: Map<string, Outcome<ShardsResult>>, notes: string[]): string[] {
  const lines = [
    '## Group traffic and `Clients.All` over one Redis and a Redis Cluster (sharded pub/sub)',
    '',
    `${number(options.shardGroups)} groups with one member on every node, every member sending to its own group ` +
      `(${number(options.shardRate)} messages a second offered between them), or to all (${number(options.shardAllRate)} a second); ` +
      `${options.warmupMs} ms of the same traffic unmeasured, then ${options.shardMs} ms measured. Each cell has fresh redis-server ` +
      'processes and nodes. Ratios are against one Redis with the same traffic and nodes. Redis CPU counts every redis-server ' +
      'process; the busiest one is what a single-threaded Redis runs out of first.',
    '',
    '| server | traffic | nodes | backplane | offered messages/s | deliveries/s | of expected | p50 send → receipt, ms | p99, ms | node CPU µs per delivery | Redis CPU µs per delivery | busiest redis-server, % of a core |',
    '|---|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  const targets = options.targets.filter((target) => target === 'signalr-json' || target === 'signalr-msgpack');
  for (const target of targets) {
    for (const traffic of SHARD_TRAFFIC) {
      for (const nodes of options.shardNodes) {
        const base = results.get(shardsKey(target, { traffic, nodes, backplane: 'redis' }));
        for (const backplane of SHARD_BACKPLANES) {
          const outcome = results.get(shardsKey(target, { traffic, nodes, backplane }));
          const value = (field: keyof ShardsResult) => fieldOf(outcome, field) ?? Number.NaN;
          lines.push(
            `| ${LABELS[target]} | ${traffic === 'groups' ? 'own group' : 'Clients.All'} | ${nodes} | ${BACKPLANE_LABELS[backplane]} | ` +
              `${number(value('offeredPerSecond'))} | ${withRatio(fieldOf(outcome, 'deliveriesPerSecond'), fieldOf(base, 'deliveriesPerSecond'))} | ` +
              `${number(value('deliveredShare') * 100, 1)}% | ${number(value('p50Ms'), 1)} | ${number(value('p99Ms'), 1)} | ` +
              `${number(value('nodeCpuPerDelivery'), 2)} | ${number(value('redisCpuPerDelivery'), 2)} | ${number(value('busiestRedisPercent'))}% |`,
          );
          notes.push(noteOf(`${LABELS[target]}, ${traffic} over ${nodes} nodes on ${BACKPLANE_LABELS[backplane]}`, outcome) ?? '');
        }
      }
    }
  }
  lines.push('');
  return lines;
}
