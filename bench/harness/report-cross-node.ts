import { CROSS_NODE_SETUPS, SETUP_LABELS, type CrossNodeResult } from './cross-node.js';
import type { BenchOptions } from './options.js';
import { crossNodeKey, fieldOf, LABELS, noteOf, number, withRatio, type Outcome } from './report-cells.js';

/**
 * The cross-node table: for each group size and protocol, the three setups one under the other,
 * ratios against the single in-process node of the same row group.
 */
export function renderCrossNode(options: BenchOptions, results: Map<string, Outcome<CrossNodeResult>>, notes: string[]): string[] {
  const lines = [
    '## Broadcast to one group across nodes (Redis backplane)',
    '',
    `One sender on the first node broadcasts to a group whose receivers are split evenly over the nodes. Latency: ` +
      `${options.rounds} broadcasts one at a time after 2 warm-up ones. Throughput: ${options.crossNodeBroadcasts} broadcasts ` +
      `back to back, at most ${options.crossNodeWindow} on their way at once. Ratios are against the single in-process node. ` +
      'Server CPU counts every node, not redis-server.',
    '',
    '| receivers | server | setup | deliveries per second | p50 send → receipt, ms | p99, ms | other node only: p50 / p99, ms | at full rate: p50 / p99, ms | server CPU µs per delivery |',
    '|---:|---|---|---:|---:|---:|---:|---:|---:|',
  ];
  const targets = options.targets.filter((target) => target === 'signalr-json' || target === 'signalr-msgpack');
  for (const size of options.crossNode) {
    for (const target of targets) {
      const base = results.get(crossNodeKey(target, size, 'one-node'));
      for (const setup of CROSS_NODE_SETUPS) {
        const outcome = results.get(crossNodeKey(target, size, setup));
        const value = (field: keyof CrossNodeResult) => fieldOf(outcome, field);
        const pair = (a: keyof CrossNodeResult, b: keyof CrossNodeResult) =>
          value(a) === undefined ? '–' : `${number(value(a)!, 1)} / ${number(value(b) ?? Number.NaN, 1)}`;
        lines.push(
          `| ${number(size)} | ${LABELS[target]} | ${SETUP_LABELS[setup]} | ` +
            `${withRatio(value('deliveriesPerSecond'), fieldOf(base, 'deliveriesPerSecond'))} | ` +
            `${withRatio(value('p50Ms'), fieldOf(base, 'p50Ms'), 1)} | ${withRatio(value('p99Ms'), fieldOf(base, 'p99Ms'), 1)} | ` +
            `${pair('remoteP50Ms', 'remoteP99Ms')} | ${pair('loadedP50Ms', 'loadedP99Ms')} | ${number(value('cpuPerDelivery') ?? Number.NaN, 2)} |`,
        );
        notes.push(noteOf(`${LABELS[target]}, ${size} receivers over ${SETUP_LABELS[setup]}`, outcome) ?? '');
      }
    }
  }
  lines.push('');
  return lines;
}
