import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, platform, release, totalmem } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { buildAspNetCoreServer } from './aspnetcore-build.js';
import { CROSS_NODE_SETUPS, runCrossNode, SETUP_LABELS } from './cross-node.js';
import { cpuSnapshot, otherCores } from './machine-load.js';
import { ASPNETCORE_TARGETS, DEFAULT_SCENARIOS, drivesFlowControl, holdsIdleConnections, HTTP_TRANSPORT_TARGETS, readOptions, type TargetId } from './options.js';
import { runIdleHold } from './idle-hold.js';
import { slowFanoutKey } from './report-flow-control.js';
import { runSlowConsumers } from './slow-consumers.js';
import { runSlowFanout } from './slow-fanout.js';
import { summarizeProfile } from './profile-summary.js';
import { crossNodeKey, key, LABELS, shardsKey, type Outcome } from './report-cells.js';
import { renderMarkdown, type Results } from './report.js';
import { BACKPLANE_LABELS, runShards, SHARD_BACKPLANES, SHARD_TRAFFIC } from './shards.js';
import { newContext, probeMessagePack, runConnect, runFanout, runInvoke, runMemory } from './scenarios.js';

/**
 * The orchestrator: runs each scenario against every server in turn, each server in a fresh
 * process and the load in separate processes, then writes and prints the markdown report.
 * Started by bench/launch.mjs (`npm run bench`), which compiles this folder first.
 */
const startedAt = new Date();
const loadBefore = loadavg()[0];
const cpuAtStart = cpuSnapshot();
const started = performance.now();
const root = process.env.BENCH_ROOT ?? process.cwd();
const options = readOptions();
// The servers read it from the environment they inherit.
process.env.BENCH_OPENTELEMETRY = options.opentelemetry;
const log = (line: string) => console.log(line);
if (loadBefore > 0.5) log(`Load average is ${loadBefore.toFixed(2)}: other work on this machine will skew the numbers.`);
const context = newContext(options, join(root, 'bench', 'results', 'profiles'), log);
const results: Results = {
  invoke: new Map(),
  fanout: new Map(),
  memory: new Map(),
  connect: new Map(),
  crossNode: new Map(),
  shards: new Map(),
  slowConsumers: new Map(),
  idleHold: new Map(),
  slowFanout: new Map(),
};
/** Only this package has a backplane to scale out over. */
const SCALE_OUT_TARGETS = options.targets.filter((target) => target === 'signalr-json' || target === 'signalr-msgpack');
const FLOW_TARGETS = options.targets.filter(drivesFlowControl);
const IDLE_HOLD_TARGETS = options.targets.filter(holdsIdleConnections);
/** Memory and connects are measured on WebSocket connections only. */
const SOCKET_TARGETS = options.targets.filter((target) => !HTTP_TRANSPORT_TARGETS.includes(target));
const MIB = 2 ** 20;

// The ASP.NET Core server processes inherit the path of its build.
if (options.targets.some((target) => ASPNETCORE_TARGETS.includes(target))) process.env.BENCH_ASPNETCORE_DLL = buildAspNetCoreServer(root);

let messagePackMissing: string | undefined;
if (options.targets.includes('signalr-msgpack')) {
  messagePackMissing = await probeMessagePack(context).catch((error: Error) => error.message);
  if (messagePackMissing) log(`MessagePack: n/a (${messagePackMissing})`);
}

const fixed = (value: number, digits = 0) => value.toLocaleString('en-US', { maximumFractionDigits: digits });
const sleep = (ms: number) => new Promise((wake) => setTimeout(wake, ms));
/** Between two cells: the kernel finishes closing the last one's sockets, the machine settles. */
const SETTLE_MS = 1000;

/**
 * Runs one scenario (at one size) against every target, `--repeat` times, in a rotated order on
 * each pass so that no server is always first or always follows the same one, and keeps for each
 * target the run whose `headline` number is the median. A failure (or a missing protocol) becomes
 * n/a with its reason instead of ending the whole run.
 */
async function row<T extends object>(
  what: string,
  run: (target: TargetId) => Promise<T>,
  headline: (result: T) => number,
  show: (result: T) => string,
  targets: readonly TargetId[] = options.targets,
): Promise<Map<TargetId, Outcome<T>>> {
  const runs = new Map<TargetId, T[]>();
  const outcomes = new Map<TargetId, Outcome<T>>();
  for (const target of targets) {
    if (target === 'signalr-msgpack' && messagePackMissing) outcomes.set(target, { na: `MessagePack handshake refused (${messagePackMissing})` });
  }
  for (let pass = 0; pass < options.repeat; pass++) {
    const order = targets.map((_, index) => targets[(index + pass) % targets.length]);
    for (const target of order) {
      if (outcomes.has(target)) continue;
      await sleep(SETTLE_MS);
      try {
        const result = await run(target);
        log(`${what.padEnd(22)} ${LABELS[target].padEnd(34)} ${show(result)}`);
        runs.set(target, [...(runs.get(target) ?? []), result]);
      } catch (error) {
        log(`${what.padEnd(22)} ${LABELS[target].padEnd(34)} FAILED: ${(error as Error).message}`);
        outcomes.set(target, { na: `failed: ${(error as Error).message.split('\n')[0]}` });
      }
    }
  }
  for (const [target, done] of runs) {
    if (!outcomes.has(target)) outcomes.set(target, done.toSorted((a, b) => headline(a) - headline(b))[Math.floor((done.length - 1) / 2)]);
  }
  return outcomes;
}

const note = (result: { note?: string }) => (result.note ? ` [${result.note}]` : '');

for (const scenario of options.scenarios) {
  switch (scenario) {
    case 'invoke':
      for (const size of options.invokeConnections) {
        const outcomes = await row(`invoke @${size}`, (target) => runInvoke(context, target, size), (r) => r.rate, (r) => `${fixed(r.rate)}/s, ${fixed(r.cpuPerOp, 1)} µs CPU/op${note(r)}`);
        for (const [target, outcome] of outcomes) results.invoke.set(key(target, size), outcome);
      }
      break;
    case 'fanout':
      for (const size of options.fanout) {
        const outcomes = await row(`fan-out to ${size}`, (target) => runFanout(context, target, size), (r) => r.p99Ms, (r) => `last ${fixed(r.lastMs, 1)} ms, p50 ${fixed(r.p50Ms, 1)} ms, p99 ${fixed(r.p99Ms, 1)} ms, ${fixed(r.cpuPerDelivery, 1)} µs CPU/delivery${note(r)}`);
        for (const [target, outcome] of outcomes) results.fanout.set(key(target, size), outcome);
      }
      break;
    case 'memory': {
      const outcomes = await row(`memory @${options.idleConnections}`, (target) => runMemory(context, target, options.idleConnections), (r) => r.rssPerConnection, (r) => `${fixed(r.rssPerConnection / 1024, 1)} KiB RSS, ${fixed(r.heapPerConnection / 1024, 1)} KiB heap per connection${note(r)}`, SOCKET_TARGETS);
      for (const [target, outcome] of outcomes) results.memory.set(target, outcome);
      break;
    }
    case 'connect': {
      const outcomes = await row('connect', (target) => runConnect(context, target), (r) => r.plainPerSecond, (r) => `${fixed(r.plainPerSecond)}/s (${fixed(r.plainCpu)} µs CPU, load ${fixed(r.plainLoadCpu)} µs)${r.jwtPerSecond === undefined ? '' : `, JWT ${fixed(r.jwtPerSecond)}/s (${fixed(r.jwtCpu ?? Number.NaN)} µs CPU)`}${r.directPerSecond === undefined ? '' : `, without negotiate ${fixed(r.directPerSecond)}/s (${fixed(r.directCpu ?? Number.NaN)} µs CPU)`}${r.floorPerSecond === undefined ? '' : `, SignalR's exchanges ${fixed(r.floorPerSecond)}/s (${fixed(r.floorCpu ?? Number.NaN)} µs CPU)`}${note(r)}`, SOCKET_TARGETS);
      for (const [target, outcome] of outcomes) results.connect.set(target, outcome);
      break;
    }
    case 'cross-node':
      for (const size of options.crossNode) {
        for (const setup of CROSS_NODE_SETUPS) {
          const outcomes = await row(
            `${size} over ${SETUP_LABELS[setup]}`,
            (target) => runCrossNode(context, target, size, setup),
            (r) => r.deliveriesPerSecond,
            (r) => `${fixed(r.deliveriesPerSecond)} deliveries/s, p50 ${fixed(r.p50Ms, 1)} ms, p99 ${fixed(r.p99Ms, 1)} ms, at full rate p99 ${fixed(r.loadedP99Ms, 1)} ms${note(r)}`,
            SCALE_OUT_TARGETS,
          );
          for (const [target, outcome] of outcomes) results.crossNode.set(crossNodeKey(target, size, setup), outcome);
        }
      }
      break;
    case 'shards':
      for (const traffic of SHARD_TRAFFIC) {
        for (const nodes of options.shardNodes) {
          for (const backplane of SHARD_BACKPLANES) {
            const cell = { traffic, nodes, backplane };
            const outcomes = await row(
              `${traffic}, ${nodes} nodes, ${backplane}`,
              (target) => runShards(context, target, cell),
              (r) => r.deliveriesPerSecond,
              (r) => `${fixed(r.deliveriesPerSecond)} deliveries/s (${fixed(r.deliveredShare * 100, 1)}% of expected), p99 ${fixed(r.p99Ms, 1)} ms, busiest redis ${fixed(r.busiestRedisPercent)}% on ${BACKPLANE_LABELS[backplane]}${note(r)}`,
              SCALE_OUT_TARGETS,
            );
            for (const [target, outcome] of outcomes) results.shards.set(shardsKey(target, cell), outcome);
          }
        }
      }
      break;
    case 'slow-consumers': {
      const outcomes = await row(
        'slow consumers',
        (target) => runSlowConsumers(context, target),
        (r) => Math.max(...r.samples.map((sample) => sample.rss ?? 0)),
        (r) => `RSS ${fixed((r.startRss ?? 0) / MIB)} → max ${fixed(Math.max(...r.samples.map((sample) => sample.rss ?? 0)) / MIB)} MiB, ${fixed((r.samples.at(-1)?.received ?? 0) / Math.max(1, r.samples.length))} deliveries/s to readers${note(r)}`,
        FLOW_TARGETS,
      );
      for (const [target, outcome] of outcomes) results.slowConsumers.set(target, outcome);
      break;
    }
    case 'idle-hold': {
      const outcomes = await row(
        `idle hold @${options.holdConnections}`,
        (target) => runIdleHold(context, target),
        (r) => r.rssPerConnection,
        (r) => `${fixed(r.held)} held, ${fixed(r.connectsPerSecond)}/s, ${fixed(r.rssPerConnection / 1024, 1)} KiB RSS and ${fixed(r.heapPerConnection / 1024, 1)} KiB heap each, ${r.drops} drops, ${fixed(r.rssAfterDisconnect / MIB)} MiB after${note(r)}`,
        IDLE_HOLD_TARGETS,
      );
      for (const [target, outcome] of outcomes) results.idleHold.set(target, outcome);
      break;
    }
    case 'slow-fanout':
      for (const cell of ['all', 'slow'] as const) {
        const outcomes = await row(
          `fan-out, ${cell === 'all' ? 'all reading' : `${options.slowFanoutPercent}% slow`}`,
          (target) => runSlowFanout(context, target, cell === 'all' ? 0 : options.slowFanoutPercent),
          (r) => r.deliveriesPerSecond,
          (r) => `${fixed(r.deliveriesPerSecond)} deliveries/s, p99 ${fixed(r.p99Ms, 1)} ms, peak RSS ${fixed(r.peakRss / MIB)} MiB${r.slowClosed === undefined ? '' : `, ${r.slowClosed} of ${r.slow} slow closed`}${note(r)}`,
          FLOW_TARGETS,
        );
        for (const [target, outcome] of outcomes) results.slowFanout.set(slowFanoutKey(target, cell), outcome);
      }
      break;
  }
}

const profiles = context.profiles.map((file) => ({ profile: relative(root, file), summary: summarizeProfile(file, 10) }));
const cpu = cpus();
const markdown = renderMarkdown(options, results, {
  startedAt,
  wallSeconds: (performance.now() - started) / 1000,
  command: process.env.BENCH_COMMAND ?? `node bench/launch.mjs ${process.argv.slice(2).join(' ')}`.trim(),
  machine: `${cpu.length} × ${cpu[0]?.model ?? 'unknown CPU'}, ${fixed(totalmem() / 2 ** 30)} GiB, Node ${process.version}, ${platform()} ${release()}`,
  commit: process.env.BENCH_PACKAGE ?? describeCommit(),
  load: { before: loadBefore, otherCores: otherCores(cpuAtStart, cpuSnapshot()) },
  profiles,
});

console.log(`\n${markdown}`);
if (options.out) {
  const folder = resolve(root, options.out);
  mkdirSync(folder, { recursive: true });
  // A profiled run is slowed a little by the sampling, and scenarios outside the default run
  // compare nothing with the day's comparison: neither becomes latest.md nor replaces it.
  const extraOnly = options.scenarios.every((scenario) => !DEFAULT_SCENARIOS.includes(scenario));
  const kind = options.profile ? '-profile' : extraOnly ? `-${options.scenarios.join('-')}` : '';
  const suffix = `${options.label ? `-${options.label}` : ''}${kind}`;
  const written = [join(folder, `${startedAt.toISOString().slice(0, 10)}${suffix}.md`), ...(kind ? [] : [join(folder, 'latest.md')])];
  for (const file of written) writeFileSync(file, `${markdown}\n`);
  console.log(`Written to ${written.map((file) => relative(root, file)).join(' and ')}.`);
}

function git(...args: string[]) {
  return spawnSync('git', args, { cwd: root, encoding: 'utf8' });
}

function describeCommit(): string {
  const head = git('rev-parse', '--short', 'HEAD');
  if (head.status !== 0) return 'unknown (not a git checkout)';
  const dirty = git('status', '--porcelain', '--', 'src').stdout.trim() !== '';
  return `${head.stdout.trim()}${dirty ? ' with uncommitted changes in src/' : ''}`;
}
