import { randomBytes } from 'node:crypto';
import { REDIS_SERVER_BINARY, RedisServer, redisServerInstalled } from '../../test/support/redis-process.js';
import { sendBackToBack } from './back-to-back.js';
import type { TargetId } from './options.js';
import { ServerProcess, WorkerPool, type WorkerCommand } from './processes.js';
import { openConnections, profileWindow, type Context, type Window } from './scenarios.js';
import { percentile } from './stats.js';

/**
 * The cross-node scenario: receivers of one group spread over the nodes, one sender on the first
 * node. `two-nodes` is the real thing; the single-node setups beside it tell what the backplane
 * itself costs (`one-node-redis`) and what a node costs without any (`one-node`).
 */
export const CROSS_NODE_SETUPS = ['one-node', 'one-node-redis', 'two-nodes'] as const;
export type CrossNodeSetup = (typeof CROSS_NODE_SETUPS)[number];

export const SETUP_LABELS: Record<CrossNodeSetup, string> = {
  'one-node': '1 node, in-process',
  'one-node-redis': '1 node, Redis backplane',
  'two-nodes': '2 nodes, Redis backplane',
};

export interface CrossNodeResult {
  /** Deliveries per second while broadcasts follow each other with `--cross-node-window` in flight. */
  readonly deliveriesPerSecond: number;
  readonly broadcastsPerSecond: number;
  /** Send → receipt over every receipt, one broadcast at a time. */
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** The same, for receivers on a node other than the sender's (two nodes only). */
  readonly remoteP50Ms?: number;
  readonly remoteP99Ms?: number;
  /** Send → receipt while broadcasts follow each other: queueing included. */
  readonly loadedP50Ms: number;
  readonly loadedP99Ms: number;
  /** CPU of every node (not Redis's) per delivery, in the throughput phase, microseconds. */
  readonly cpuPerDelivery: number;
  readonly note?: string;
}

const GROUP = 'bench';
const WARMUP_ROUNDS = 2;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const sum = (replies: readonly Record<string, unknown>[], field: string) => replies.reduce((total, reply) => total + Number(reply[field] ?? 0), 0);
const millis = (sorted: ArrayLike<number>, q: number) => percentile(sorted, q) / 1000;
const ascending = (values: Iterable<number>) => Float64Array.from(values).toSorted();
/** Every receipt reported by the load processes, or only by those that `only` picks. */
const latencies = (replies: readonly Record<string, unknown>[], only?: (worker: number) => boolean) =>
  ascending(replies.flatMap((reply, worker) => (only && !only(worker) ? [] : [...(reply.latencies as Float64Array)])));

export async function runCrossNode(context: Context, target: TargetId, receivers: number, setup: CrossNodeSetup): Promise<CrossNodeResult> {
  const { options } = context;
  if (setup !== 'one-node' && !redisServerInstalled()) throw new Error(`${REDIS_SERVER_BINARY} is not installed (apt-get install -y redis-server)`);
  const nodeCount = setup === 'two-nodes' ? 2 : 1;
  // A fresh, empty Redis per cell: nothing left subscribed or stored by the previous one.
  const redis = setup === 'one-node' ? undefined : await RedisServer.start();
  const env: Record<string, string> = { BENCH_JWT_SECRET: context.jwtSecret };
  if (redis) Object.assign(env, { BENCH_REDIS_URL: redis.url, BENCH_REDIS_PREFIX: `bench-${randomBytes(4).toString('hex')}` });
  const servers: ServerProcess[] = [];
  let workers: WorkerPool | undefined;
  try {
    for (let node = 0; node < nodeCount; node++) servers.push(await ServerProcess.start(target, env));
    workers = await WorkerPool.start(Math.max(options.workers, nodeCount));
    // Load process i talks to node i mod n; process 0 also holds the sender, so it sends to node 0.
    const nodeOf = (worker: number) => worker % nodeCount;
    await workers.each((index) => ({ cmd: 'setup', target, port: servers[nodeOf(index)].port, payloadBytes: options.payloadBytes, skipNegotiation: options.skipNegotiation }));
    // `--profile=<target>:cross-node:<setup>` profiles every node over the throughput run; with
    // `:sending` or `:receiving` after it, only the first node or only the others.
    const windows = servers.map((server, node) => profileWindow(context, server, `${target}:cross-node:${setup}:${node === 0 ? 'sending' : `receiving:${node + 1}`}`));
    const window: Window = {
      begin: async () => void (await Promise.all(windows.map((each) => each.begin()))),
      end: async () => void (await Promise.all(windows.map((each) => each.end()))),
    };
    return await measure(context, servers, workers, receivers, nodeOf, window);
  } finally {
    await Promise.all(servers.map((server) => server.stop()));
    await workers?.stop();
    await redis?.stop();
  }
}

async function measure(
  context: Context,
  servers: readonly ServerProcess[],
  workers: WorkerPool,
  receivers: number,
  nodeOf: (worker: number) => number,
  window: Window,
): Promise<CrossNodeResult> {
  const { options } = context;
  const { opened, note } = await openConnections(context, workers, receivers, true);
  const joined = sum(await workers.all({ cmd: 'join', group: GROUP }), 'joined');
  const armed = await workers.all({ cmd: 'fanout-arm', firstMeasuredRound: WARMUP_ROUNDS + 1 });
  const reporting = armed.filter((reply) => Number(reply.receivers) > 0).length;
  const timeoutMs = Math.max(10_000, receivers * 2);
  const send = async (round: number) => Number((await workers.call(0, { cmd: 'send', group: GROUP, round } satisfies WorkerCommand)).sentAt);
  let incompleteRounds = 0;

  // One at a time: latency without queueing.
  let round = 0;
  while (round < WARMUP_ROUNDS + options.rounds) {
    const done = workers.waitForRound(++round, reporting, timeoutMs);
    await send(round);
    if ((await done).length < reporting) incompleteRounds++;
    await sleep(50);
  }
  const calm = await workers.all({ cmd: 'latencies' });

  // Back to back, with a bounded number in flight: throughput.
  const firstRound = round + 1;
  await workers.all({ cmd: 'fanout-arm', firstMeasuredRound: firstRound });
  await window.begin();
  const cpuBefore = await cpuOf(servers);
  const throughput = await sendBackToBack(workers, {
    firstRound,
    broadcasts: options.crossNodeBroadcasts,
    window: options.crossNodeWindow,
    reporting,
    timeoutMs,
    send,
  });
  incompleteRounds += throughput.incompleteRounds;
  const cpuAfter = await cpuOf(servers);
  await window.end();
  const loaded = await workers.all({ cmd: 'latencies' });

  const all = latencies(calm);
  const remote = servers.length > 1 ? latencies(calm, (worker) => nodeOf(worker) !== 0) : undefined;
  const underLoad = latencies(loaded);
  const { seconds } = throughput;
  const expected = (options.rounds + options.crossNodeBroadcasts) * opened;
  const received = all.length + underLoad.length;
  const problems = [
    note,
    joined < opened ? `${opened - joined} never joined` : undefined,
    incompleteRounds > 0 ? `${incompleteRounds} rounds incomplete` : undefined,
    received < expected ? `${expected - received} of ${expected} receipts missing` : undefined,
    received > expected ? `${received - expected} receipts more than sent` : undefined,
  ].filter(Boolean);
  return {
    deliveriesPerSecond: underLoad.length / seconds,
    broadcastsPerSecond: options.crossNodeBroadcasts / seconds,
    p50Ms: millis(all, 0.5),
    p99Ms: millis(all, 0.99),
    remoteP50Ms: remote && millis(remote, 0.5),
    remoteP99Ms: remote && millis(remote, 0.99),
    loadedP50Ms: millis(underLoad, 0.5),
    loadedP99Ms: millis(underLoad, 0.99),
    cpuPerDelivery: (cpuAfter - cpuBefore) / Math.max(1, underLoad.length),
    note: problems.length > 0 ? problems.join('; ') : undefined,
  };
}

async function cpuOf(servers: readonly ServerProcess[]): Promise<number> {
  const stats = await Promise.all(servers.map((server) => server.stats()));
  return stats.reduce((total, { cpu }) => total + cpu, 0);
}
