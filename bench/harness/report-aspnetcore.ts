import type { BenchOptions, TargetId } from './options.js';
import { fieldOf, key, type Outcome } from './report-cells.js';
import type { ConnectResult, FanoutResult, InvokeResult, MemoryResult } from './scenarios.js';

/** The results this section reads (report.ts's, by the same names). */
interface ComparedResults {
  readonly invoke: Map<string, Outcome<InvokeResult>>;
  readonly fanout: Map<string, Outcome<FanoutResult>>;
  readonly memory: Map<TargetId, Outcome<MemoryResult>>;
  readonly connect: Map<TargetId, Outcome<ConnectResult>>;
}

/** Each (d) row beside the (e) row of the same protocol. */
const PAIRS: readonly (readonly [TargetId, TargetId, string])[] = [
  ['signalr-json', 'aspnetcore-json', 'JSON'],
  ['signalr-msgpack', 'aspnetcore-msgpack', 'MessagePack'],
];

function ratio(ours: number | undefined, theirs: number | undefined): string {
  return ours !== undefined && theirs !== undefined && Number.isFinite(ours) && Number.isFinite(theirs) && theirs > 0 ? `${(ours / theirs).toFixed(2)}×` : 'n/a';
}

/** The package against ASP.NET Core on the same metrics, where both ran: above 1 is more throughput, or more latency or memory. */
export function renderAgainstAspNetCore(options: BenchOptions, results: ComparedResults): string[] {
  const pairs = PAIRS.filter(([ours, theirs]) => options.targets.includes(ours) && options.targets.includes(theirs));
  if (pairs.length === 0) return [];
  const lines = ['## nestjs-signalr against ASP.NET Core 10', '', 'Each (d) figure divided by the (e) figure of the same protocol: above 1 is more throughput, or more latency, memory or CPU.', ''];
  lines.push('| metric | ' + pairs.map(([, , protocol]) => protocol).join(' | ') + ' |', '|---|' + pairs.map(() => '---:').join('|') + '|');
  const row = (metric: string, value: (target: TargetId) => number | undefined) =>
    lines.push(`| ${metric} | ${pairs.map(([ours, theirs]) => ratio(value(ours), value(theirs))).join(' | ')} |`);
  if (options.scenarios.includes('invoke')) {
    for (const size of options.invokeConnections) {
      row(`round trips per second at ${size}`, (target) => fieldOf(results.invoke.get(key(target, size)), 'rate'));
      row(`server CPU per round trip at ${size}`, (target) => fieldOf(results.invoke.get(key(target, size)), 'cpuPerOp'));
    }
  }
  if (options.scenarios.includes('fanout')) {
    for (const size of options.fanout) {
      row(`fan-out to ${size}: p50`, (target) => fieldOf(results.fanout.get(key(target, size)), 'p50Ms'));
      row(`fan-out to ${size}: p99`, (target) => fieldOf(results.fanout.get(key(target, size)), 'p99Ms'));
      row(`fan-out to ${size}: server CPU per delivery`, (target) => fieldOf(results.fanout.get(key(target, size)), 'cpuPerDelivery'));
    }
  }
  if (options.scenarios.includes('memory')) row(`RSS per idle connection at ${options.idleConnections}`, (target) => fieldOf(results.memory.get(target), 'rssPerConnection'));
  if (options.scenarios.includes('connect')) row('connects per second', (target) => fieldOf(results.connect.get(target), 'plainPerSecond'));
  lines.push('');
  return lines;
}
