import type { ProfileSummary } from './profile-summary.js';
import { DEFAULT_SCENARIOS, drivesFlowControl, holdsIdleConnections, HTTP_TRANSPORT_TARGETS, type BenchOptions, type TargetId } from './options.js';
import type { CrossNodeResult } from './cross-node.js';
import type { IdleHoldResult } from './idle-hold.js';
import { fieldOf, key, LABELS, noteOf, number, withRatio, type Outcome } from './report-cells.js';
import { renderAgainstAspNetCore } from './report-aspnetcore.js';
import { renderCrossNode } from './report-cross-node.js';
import { renderShards } from './report-shards.js';
import { renderIdleHold, renderSlowConsumers, renderSlowFanout } from './report-flow-control.js';
import type { ConnectResult, FanoutResult, InvokeResult, MemoryResult } from './scenarios.js';
import type { ShardsResult } from './shards.js';
import type { SlowConsumersResult } from './slow-consumers.js';
import type { SlowFanoutResult } from './slow-fanout.js';

export interface Results {
  readonly invoke: Map<string, Outcome<InvokeResult>>;
  readonly fanout: Map<string, Outcome<FanoutResult>>;
  readonly memory: Map<TargetId, Outcome<MemoryResult>>;
  readonly connect: Map<TargetId, Outcome<ConnectResult>>;
  readonly crossNode: Map<string, Outcome<CrossNodeResult>>;
  readonly shards: Map<string, Outcome<ShardsResult>>;
  readonly slowConsumers: Map<TargetId, Outcome<SlowConsumersResult>>;
  readonly idleHold: Map<TargetId, Outcome<IdleHoldResult>>;
  /** By `slowFanoutKey`: the all-reading cell and the one with slow members. */
  readonly slowFanout: Map<string, Outcome<SlowFanoutResult>>;
}

export interface RunInfo {
  readonly startedAt: Date;
  readonly wallSeconds: number;
  readonly command: string;
  readonly machine: string;
  readonly commit: string;
  /** Anything else running on the machine skews every number: the load average at the start, and
   * the cores' worth of CPU that other processes used during the run. */
  readonly load: { readonly before: number; readonly otherCores: number | undefined };
  readonly profiles: readonly { readonly profile: string; readonly summary: ProfileSummary }[];
}

export function renderMarkdown(options: BenchOptions, results: Results, info: RunInfo): string {
  const targets = options.targets;
  const lines: string[] = [];
  const notes: string[] = [];
  const push = (...text: string[]) => lines.push(...text);
  const date = info.startedAt.toISOString();

  push(`# nestjs-signalr benchmark, ${date.slice(0, 10)}`, '');
  push(`- started ${date}, wall time ${number(info.wallSeconds)} s`);
  push(`- command: \`${info.command}\``);
  push(`- machine: ${info.machine}`);
  const others = info.load.otherCores === undefined ? 'unknown' : `${info.load.otherCores.toFixed(2)} cores on average`;
  push(`- other processes: load average ${info.load.before.toFixed(2)} at the start; CPU used by other processes during the run: ${others}`);
  push(`- package: ${info.commit}`);
  push(`- OpenTelemetry in the SignalR servers: ${options.opentelemetry}`);
  push(
    `- settings: ${options.workers} load processes; invocations ${options.depth} in flight per connection, ` +
      `${options.warmupMs} ms warm-up + ${options.durationMs} ms measured; fan-out ${options.rounds} rounds after 2 warm-up rounds; ` +
      `${number(options.idleConnections)} idle connections; connect loops ${options.connectConcurrency} × ${options.connectMs} ms after ${options.connectWarmupMs} ms unmeasured; ` +
      `payload filler ${options.payloadBytes} bytes; ${options.repeat === 1 ? 'one run per cell' : `median of ${options.repeat} runs per cell`}`,
  );
  push('');
  if (options.scenarios.some((scenario) => DEFAULT_SCENARIOS.includes(scenario))) {
    push('Ratios in parentheses are against (a), the bare `ws` server, on the same metric: above 1 is more throughput, or more latency or memory.', '');
  }

  if (options.scenarios.includes('invoke')) {
    const sizes = options.invokeConnections;
    push('## Invocation round trips per second', '');
    push(`| server | ${sizes.map((size) => `${number(size)} conn.`).join(' | ')} | server CPU µs per round trip (${sizes.map((size) => number(size)).join(' / ')}) |`);
    push(`|---|${sizes.map(() => '---:').join('|')}|---:|`);
    for (const target of targets) {
      const cells = sizes.map((size) => withRatio(fieldOf(results.invoke.get(key(target, size)), 'rate'), fieldOf(results.invoke.get(key('raw-ws', size)), 'rate')));
      const cpu = sizes.map((size) => number(fieldOf(results.invoke.get(key(target, size)), 'cpuPerOp') ?? Number.NaN, 1)).join(' / ');
      push(`| ${LABELS[target]} | ${cells.join(' | ')} | ${cpu} |`);
      for (const size of sizes) notes.push(noteOf(`${LABELS[target]}, invocations at ${size}`, results.invoke.get(key(target, size))) ?? '');
    }
    push('');
  }

  if (options.scenarios.includes('fanout')) {
    push('## Broadcast to one group', '');
    push('| group size | server | send → last receipt, ms | p50 send → receipt, ms | p99 send → receipt, ms | server CPU µs per delivery |');
    push('|---:|---|---:|---:|---:|---:|');
    for (const size of options.fanout) {
      const base = results.fanout.get(key('raw-ws', size));
      for (const target of targets) {
        const outcome = results.fanout.get(key(target, size));
        push(
          `| ${number(size)} | ${LABELS[target]} | ${withRatio(fieldOf(outcome, 'lastMs'), fieldOf(base, 'lastMs'), 1)} | ` +
            `${withRatio(fieldOf(outcome, 'p50Ms'), fieldOf(base, 'p50Ms'), 1)} | ${withRatio(fieldOf(outcome, 'p99Ms'), fieldOf(base, 'p99Ms'), 1)} | ` +
            `${number(fieldOf(outcome, 'cpuPerDelivery') ?? Number.NaN, 2)} |`,
        );
        notes.push(noteOf(`${LABELS[target]}, fan-out to ${size}`, outcome) ?? '');
      }
    }
    push('');
  }

  if (options.scenarios.includes('memory') || options.scenarios.includes('connect')) {
    push('## Connections', '');
    push(
      `| server | RSS KiB per idle connection (at ${number(options.idleConnections)}) | JS heap KiB per idle connection | connects per second | ` +
        'server CPU µs per connect | load CPU µs per connect | negotiate + connect per second with JWT | server CPU µs per JWT connect | ' +
        'connects per second without negotiate | server CPU µs per connect without negotiate |',
    );
    push('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
    const memoryBase = results.memory.get('raw-ws');
    const connectBase = results.connect.get('raw-ws');
    for (const target of targets.filter((id) => !HTTP_TRANSPORT_TARGETS.includes(id))) {
      const memory = results.memory.get(target);
      const connect = results.connect.get(target);
      push(
        `| ${LABELS[target]} | ${withRatio(kib(fieldOf(memory, 'rssPerConnection')), kib(fieldOf(memoryBase, 'rssPerConnection')), 1)} | ` +
          `${withRatio(kib(fieldOf(memory, 'heapPerConnection')), kib(fieldOf(memoryBase, 'heapPerConnection')), 1)} | ` +
          `${withRatio(fieldOf(connect, 'plainPerSecond'), fieldOf(connectBase, 'plainPerSecond'))} | ` +
          `${withRatio(fieldOf(connect, 'plainCpu'), fieldOf(connectBase, 'plainCpu'))} | ` +
          `${withRatio(fieldOf(connect, 'plainLoadCpu'), fieldOf(connectBase, 'plainLoadCpu'))} | ` +
          `${number(fieldOf(connect, 'jwtPerSecond') ?? Number.NaN)} | ${number(fieldOf(connect, 'jwtCpu') ?? Number.NaN)} | ` +
          `${withRatio(fieldOf(connect, 'directPerSecond'), fieldOf(connectBase, 'plainPerSecond'))} | ` +
          `${withRatio(fieldOf(connect, 'directCpu'), fieldOf(connectBase, 'plainCpu'))} |`,
      );
      notes.push(noteOf(`${LABELS[target]}, memory`, memory) ?? '', noteOf(`${LABELS[target]}, connects`, connect) ?? '');
    }
    push('');
    push(
      'Connects: (a) and (b) a WebSocket upgrade; (c) upgrade, Engine.IO open and Socket.IO connect; (d) anonymous negotiate, ' +
        'upgrade with the connection token and hub handshake. Each is measured after the same loops ran unmeasured for a ' +
        'while (V8 compiles a connect path only after thousands of connections). Load CPU is the load processes\' own: they share the cores with the server, so it lowers the rate too. ' +
        'The JWT column is (d) on an `@Authorize()` hub with a bearer token on negotiate and upgrade; the others have no equivalent (n/a). ' +
        'Without negotiate is (d) as `@microsoft/signalr` connects with `skipNegotiation: true`: the upgrade and the handshake, ' +
        'one HTTP exchange like (a)\'s, its ratios against (a)\'s connects.',
      '',
    );
    pushConnectFloor(push, results.connect);
  }

  push(...renderAgainstAspNetCore(options, results));
  if (options.scenarios.includes('cross-node')) push(...renderCrossNode(options, results.crossNode, notes));
  if (options.scenarios.includes('shards')) push(...renderShards(options, results.shards, notes));
  const flowTargets = targets.filter(drivesFlowControl);
  if (options.scenarios.includes('slow-consumers')) push(...renderSlowConsumers(options, flowTargets, results.slowConsumers, notes));
  if (options.scenarios.includes('idle-hold')) push(...renderIdleHold(options, targets.filter(holdsIdleConnections), results.idleHold, notes));
  if (options.scenarios.includes('slow-fanout')) push(...renderSlowFanout(options, flowTargets, results.slowFanout, notes));

  const verdicts = targetVerdicts(options, results);
  if (verdicts.length > 0) {
    push('## Against the targets', '', '| target | measured | met |', '|---|---|---|');
    for (const verdict of verdicts) push(`| ${verdict.target} | ${verdict.measured} | ${verdict.met} |`);
    push('');
  }

  const realNotes = notes.filter(Boolean);
  if (realNotes.length > 0) push('## Notes', '', ...realNotes.map((note) => `- ${note}`), '');

  for (const { profile, summary } of info.profiles) {
    push(`## Server CPU profile: \`${profile}\``, '');
    push(
      `Busy ${number(summary.busyMs)} ms over the measured window; garbage collector ${percent(summary.garbageCollector)}, ` +
        `unattributed (program) ${percent(summary.program)}. Self time by where the code lives: ` +
        `${summary.areas.slice(0, 8).map(({ area, share }) => `${area} ${percent(share)}`).join(', ')}.`,
      '',
    );
    push('| # | function (self time) | where | self ms | share of busy |', '|---:|---|---|---:|---:|');
    summary.functions.forEach((spot, index) => push(`| ${index + 1} | \`${spot.name}\` | ${spot.where || 'native'} | ${number(spot.ms)} | ${percent(spot.share)} |`));
    push('', 'This package\'s functions by total time (their own and everything they call):', '');
    push('| # | function (total time) | where | total ms | share of busy |', '|---:|---|---|---:|---:|');
    summary.packageTotals.forEach((spot, index) => push(`| ${index + 1} | \`${spot.name}\` | ${spot.where} | ${number(spot.ms)} | ${percent(spot.share)} |`));
    push('');
  }
  return lines.join('\n');
}

interface Verdict {
  readonly target: string;
  readonly measured: string;
  readonly met: string;
}

/** The targets of bench/README.md, checked for each (d) row that ran. */
function targetVerdicts(options: BenchOptions, results: Results): Verdict[] {
  const verdicts: Verdict[] = [];
  const ours = options.targets.filter((target) => target === 'signalr-json' || target === 'signalr-msgpack');
  for (const target of ours) {
    const label = LABELS[target];
    if (options.scenarios.includes('invoke')) {
      for (const size of options.invokeConnections) {
        const rate = fieldOf(results.invoke.get(key(target, size)), 'rate');
        const raw = fieldOf(results.invoke.get(key('raw-ws', size)), 'rate');
        const peers = (['nest-ws', 'nest-socketio'] as const).map((peer) => fieldOf(results.invoke.get(key(peer, size)), 'rate'));
        const ok = rate === undefined || raw === undefined ? undefined : rate >= 0.6 * raw && peers.every((peer) => peer === undefined || rate > peer);
        verdicts.push({
          target: `${label}: invocations at ${number(size)} conn. ≥ 0.6 × (a) and ahead of (b), (c)`,
          measured: rate === undefined || raw === undefined ? 'n/a' : `${(rate / raw).toFixed(2)} × (a); (b) ${ratioText(peers[0], raw)}, (c) ${ratioText(peers[1], raw)}`,
          met: yes(ok),
        });
      }
    }
    if (options.scenarios.includes('fanout')) {
      for (const size of options.fanout) {
        const p99 = fieldOf(results.fanout.get(key(target, size)), 'p99Ms');
        const raw = fieldOf(results.fanout.get(key('raw-ws', size)), 'p99Ms');
        verdicts.push({
          target: `${label}: fan-out p99 to ${number(size)} ≤ 1.5 × (a)`,
          measured: p99 === undefined || raw === undefined ? 'n/a' : `${(p99 / raw).toFixed(2)} × (a)`,
          met: yes(p99 === undefined || raw === undefined ? undefined : p99 <= 1.5 * raw),
        });
      }
    }
    if (options.scenarios.includes('memory')) {
      const rss = fieldOf(results.memory.get(target), 'rssPerConnection');
      const raw = fieldOf(results.memory.get('raw-ws'), 'rssPerConnection');
      verdicts.push({
        target: `${label}: memory per idle connection ≤ 2 × (a)`,
        measured: rss === undefined || raw === undefined ? 'n/a' : `${(rss / raw).toFixed(2)} × (a)`,
        met: yes(rss === undefined || raw === undefined ? undefined : rss <= 2 * raw),
      });
    }
  }
  return verdicts;
}

function percent(share: number): string {
  return `${(share * 100).toFixed(1)}%`;
}

function kib(value: number | undefined): number | undefined {
  return value === undefined ? undefined : value / 1024;
}

function yes(ok: boolean | undefined): string {
  return ok === undefined ? 'n/a' : ok ? 'yes' : 'no';
}

function ratioText(value: number | undefined, base: number): string {
  return value === undefined ? 'n/a' : `${(value / base).toFixed(2)} ×`;
}

/**
 * Server CPU per connect against what any SignalR server pays: (a) upgraded only, and (a) with a
 * SignalR connect's exchanges (negotiate, upgrade, handshake) and nothing else.
 */
function pushConnectFloor(push: (...lines: string[]) => void, connects: ReadonlyMap<TargetId, Outcome<ConnectResult>>): void {
  const base = connects.get('raw-ws');
  const upgrade = fieldOf(base, 'plainCpu');
  const floor = fieldOf(base, 'floorCpu');
  if (upgrade === undefined || floor === undefined) return;
  const rows: [string, number | undefined][] = [
    ['(a) bare ws: upgrade', upgrade],
    ["(a) with a SignalR connect's exchanges only: negotiate (fresh ids), upgrade, handshake", floor],
  ];
  for (const target of ['signalr-json', 'signalr-msgpack'] as const) {
    const connect = connects.get(target);
    if (!connect) continue;
    rows.push(
      [`${LABELS[target]}: without negotiate`, fieldOf(connect, 'directCpu')],
      [`${LABELS[target]}: anonymous`, fieldOf(connect, 'plainCpu')],
      [`${LABELS[target]}: with a JWT`, fieldOf(connect, 'jwtCpu')],
    );
  }
  push('| connect | server CPU µs | × (a) upgrade | × (a) with the exchanges |', '|---|---:|---:|---:|');
  for (const [label, cpu] of rows) {
    if (cpu !== undefined) push(`| ${label} | ${number(cpu)} | ${number(cpu / upgrade, 2)} × | ${number(cpu / floor, 2)} × |`);
  }
  push(
    '',
    'The second row is the least a SignalR connect costs on this machine: (a) answering negotiate with fresh ids and no ' +
      'framework, authentication or sealed token, then the upgrade and one handshake frame each way.',
    '',
  );
}
