import { createHmac, randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { ServerStats } from './ipc.js';
import type { ConnectOptions } from './load/dialects.js';
import type { BenchOptions, ScenarioId, TargetId } from './options.js';
import { ServerProcess, split, WorkerPool, type WorkerCommand } from './processes.js';
import { percentile } from './stats.js';

export interface InvokeResult {
  /** Completed round trips per second. */
  readonly rate: number;
  /** Server CPU time per round trip, microseconds. */
  readonly cpuPerOp: number;
  readonly errors: number;
  readonly note?: string;
}

export interface FanoutResult {
  /** Median over rounds of send → last receipt, milliseconds. */
  readonly lastMs: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** Server CPU time per delivered message, microseconds. */
  readonly cpuPerDelivery: number;
  readonly note?: string;
}

export interface MemoryResult {
  readonly connections: number;
  readonly rssPerConnection: number;
  readonly heapPerConnection: number;
  readonly note?: string;
}

export interface ConnectResult {
  readonly plainPerSecond: number;
  /** Server CPU time per connection opened and closed, microseconds. */
  readonly plainCpu: number;
  /**
   * The load processes' CPU time per connection, microseconds: they share the machine's cores
   * with the server, so a client that does more per connect lowers the rate as well.
   */
  readonly plainLoadCpu: number;
  /** Negotiate + connect with a JWT (nestjs-signalr only). */
  readonly jwtPerSecond?: number;
  readonly jwtCpu?: number;
  /** Anonymous upgrade and handshake without negotiate (`skipNegotiation`, nestjs-signalr only): one HTTP exchange, as (a)'s. */
  readonly directPerSecond?: number;
  readonly directCpu?: number;
  /** (a) only: a SignalR connect's exchanges with nothing else (negotiate, upgrade, handshake), the least a SignalR server pays. */
  readonly floorPerSecond?: number;
  readonly floorCpu?: number;
  readonly note?: string;
}

export interface Context {
  readonly options: BenchOptions;
  readonly jwtSecret: string;
  readonly profileDir: string;
  readonly profiles: string[];
  log(line: string): void;
}

const FANOUT_WARMUP_ROUNDS = 2;
export const GROUP = 'bench';

export function newContext(options: BenchOptions, profileDir: string, log: (line: string) => void): Context {
  return { options, jwtSecret: randomBytes(32).toString('base64url'), profileDir, profiles: [], log };
}

/** Brackets the measured part of a scenario; records the server's CPU profile when asked to. */
export interface Window {
  begin(): Promise<void>;
  end(): Promise<void>;
}

/**
 * The measured window of a run named `key` (`target:scenario[:size]`): when `--profile` names
 * it, the server's CPU is profiled from `begin` to `end` and the profile kept for the report.
 */
export function profileWindow(context: Context, server: ServerProcess, key: string): Window {
  const { profile } = context.options;
  const profiled = profile !== undefined && (key === profile || key.startsWith(`${profile}:`));
  if (!profiled) return { begin: async () => undefined, end: async () => undefined };
  const file = join(context.profileDir, `${key.replaceAll(':', '-')}-${new Date().toISOString().replaceAll(/[:.]/g, '')}.cpuprofile`);
  return {
    begin: () => server.profileStart(),
    end: async () => {
      mkdirSync(context.profileDir, { recursive: true });
      await server.profileStop(file);
      context.profiles.push(file);
      context.log(`  CPU profile of the server in ${key}: ${file}`);
    },
  };
}

/**
 * Starts the target's server and the load processes, runs `body`, stops them all. When
 * `--profile` names this run (`target:scenario[:size]`), the server's CPU is profiled over the
 * window that `body` marks as measured. Messages carry `payloadBytes` of filler.
 */
export async function withServer<T>(
  context: Context,
  target: TargetId,
  scenario: ScenarioId,
  size: number | undefined,
  workerCount: number,
  body: (server: ServerProcess, workers: WorkerPool, window: Window) => Promise<T>,
  payloadBytes = context.options.payloadBytes,
): Promise<T> {
  const key = size === undefined ? `${target}:${scenario}` : `${target}:${scenario}:${size}`;
  // Idle connections cost what keeps them alive: the bare server then pings as SignalR's keep-alive does.
  const heartbeat: Record<string, string> = scenario === 'idle-hold' ? { BENCH_WS_HEARTBEAT_MS: '15000' } : {};
  const server = await ServerProcess.start(target, { BENCH_JWT_SECRET: context.jwtSecret, ...heartbeat });
  const workers = await WorkerPool.start(workerCount);
  const window = profileWindow(context, server, key);
  try {
    await workers.all({ cmd: 'setup', target, port: server.port, payloadBytes, skipNegotiation: context.options.skipNegotiation });
    return await body(server, workers, window);
  } finally {
    await server.stop();
    await workers.stop();
  }
}

export async function openConnections(context: Context, workers: WorkerPool, total: number, withSender = false): Promise<{ opened: number; note?: string }> {
  const shares = split(total, workers.size);
  const replies = await workers.each((index) => ({ cmd: 'open', count: shares[index], concurrency: context.options.openConcurrency, sender: withSender && index === 0 }));
  const opened = replies.reduce((sum, reply) => sum + Number(reply.opened ?? 0), 0);
  const failed = replies.reduce((sum, reply) => sum + Number(reply.failed ?? 0), 0);
  const firstError = replies.map((reply) => reply.firstError).find(Boolean);
  return failed === 0 ? { opened } : { opened, note: `${failed} of ${total} connections failed: ${String(firstError)}` };
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
export const sum = (replies: readonly Record<string, unknown>[], field: string) => replies.reduce((total, reply) => total + Number(reply[field] ?? 0), 0);

/** Readings this close to each other (bytes of RSS) count as the same. */
const SETTLED_RSS_BYTES = 256 * 1024;
/** Consecutive same readings, a second apart, that make memory settled. */
const SETTLED_READINGS = 3;
const SETTLE_LIMIT_MS = 60_000;

/**
 * The server's memory once it has settled: full GCs a second apart until RSS stops moving. A
 * Nest server keeps giving memory back for some 20 s after it starts, so a reading taken at once
 * would charge that to whatever is measured next (issue 21).
 */
export async function settledStats(server: ServerProcess): Promise<{ stats: ServerStats; seconds: number }> {
  const started = performance.now();
  let stats = await server.stats(true);
  for (let same = 0; same < SETTLED_READINGS && performance.now() - started < SETTLE_LIMIT_MS; ) {
    await sleep(1000);
    const next = await server.stats(true);
    same = Math.abs(next.rss - stats.rss) < SETTLED_RSS_BYTES ? same + 1 : 0;
    stats = next;
  }
  return { stats, seconds: (performance.now() - started) / 1000 };
}

/** Round trips per second with `depth` invocations in flight on each of `connections`. */
export async function runInvoke(context: Context, target: TargetId, connections: number): Promise<InvokeResult> {
  const { options } = context;
  return withServer(context, target, 'invoke', connections, Math.min(options.workers, connections), async (server, workers, window) => {
    const { opened, note } = await openConnections(context, workers, connections);
    if (opened === 0) throw new Error(note ?? 'no connection opened');
    await workers.all({ cmd: 'echo-start', depth: options.depth });
    await sleep(options.warmupMs);
    await window.begin();
    const countsBefore = await workers.all({ cmd: 'echo-count' });
    const statsBefore = await server.stats();
    const started = performance.now();
    await sleep(options.durationMs);
    const countsAfter = await workers.all({ cmd: 'echo-count' });
    const statsAfter = await server.stats();
    const elapsedMs = performance.now() - started;
    await window.end();
    const stopped = await workers.all({ cmd: 'echo-stop' });
    const completed = sum(countsAfter, 'count') - sum(countsBefore, 'count');
    const errors = sum(stopped, 'errors');
    const unanswered = sum(stopped, 'unanswered');
    const problems = [note, errors > 0 ? `${errors} errors (${String(stopped.find((reply) => reply.lastError)?.lastError)})` : undefined, unanswered > 0 ? `${unanswered} unanswered` : undefined].filter(Boolean);
    return {
      rate: (completed * 1000) / elapsedMs,
      cpuPerOp: (statsAfter.cpu - statsBefore.cpu) / Math.max(1, completed),
      errors,
      note: problems.length > 0 ? problems.join('; ') : undefined,
    };
  });
}

/** One sender broadcasts to a group of `receivers`; latencies from the send to each receipt. */
export async function runFanout(context: Context, target: TargetId, receivers: number): Promise<FanoutResult> {
  const { options } = context;
  return withServer(context, target, 'fanout', receivers, options.workers, async (server, workers, window) => {
    const { opened, note } = await openConnections(context, workers, receivers, true);
    const joins = await workers.all({ cmd: 'join', group: GROUP });
    const joined = sum(joins, 'joined');
    const armed = await workers.all({ cmd: 'fanout-arm', firstMeasuredRound: FANOUT_WARMUP_ROUNDS + 1 });
    const reporting = armed.filter((reply) => Number(reply.receivers) > 0).length;
    const lastReceipts: number[] = [];
    let incompleteRounds = 0;
    let statsBefore = await server.stats();
    const timeoutMs = Math.max(10_000, receivers * 2);
    for (let round = 1; round <= FANOUT_WARMUP_ROUNDS + options.rounds; round++) {
      if (round === FANOUT_WARMUP_ROUNDS + 1) {
        await window.begin();
        statsBefore = await server.stats();
      }
      const done = workers.waitForRound(round, reporting, timeoutMs);
      const sentAt = Number((await workers.call(0, { cmd: 'send', group: GROUP, round } satisfies WorkerCommand)).sentAt);
      const lastAts = await done;
      if (lastAts.length < reporting) incompleteRounds++;
      if (round > FANOUT_WARMUP_ROUNDS && lastAts.length > 0) lastReceipts.push(Math.max(...lastAts) - sentAt);
      await sleep(50);
    }
    const statsAfter = await server.stats();
    await window.end();
    const replies = await workers.all({ cmd: 'latencies' });
    const latencies: number[] = [];
    for (const reply of replies) for (const value of reply.latencies as Float64Array) latencies.push(value);
    latencies.sort((a, b) => a - b);
    const expected = options.rounds * opened;
    const problems = [
      note,
      joined < opened ? `${opened - joined} never joined` : undefined,
      incompleteRounds > 0 ? `${incompleteRounds} rounds incomplete` : undefined,
      latencies.length < expected ? `${expected - latencies.length} of ${expected} receipts missing` : undefined,
    ].filter(Boolean);
    return {
      lastMs: percentile(lastReceipts.toSorted((a, b) => a - b), 0.5) / 1000,
      p50Ms: percentile(latencies, 0.5) / 1000,
      p99Ms: percentile(latencies, 0.99) / 1000,
      cpuPerDelivery: (statsAfter.cpu - statsBefore.cpu) / Math.max(1, latencies.length),
      note: problems.length > 0 ? problems.join('; ') : undefined,
    };
  });
}

/**
 * Server RSS and heap growth for `count` idle connected clients, both readings settled (full GCs
 * until RSS stops moving): a baseline read at once would charge what the server gives back after
 * its start to the connections (issue 21).
 */
export async function runMemory(context: Context, target: TargetId, count: number): Promise<MemoryResult> {
  return withServer(context, target, 'memory', count, context.options.workers, async (server, workers, window) => {
    const { stats: before } = await settledStats(server);
    await window.begin();
    const { opened, note } = await openConnections(context, workers, count);
    await window.end();
    const { stats: after } = await settledStats(server);
    return {
      connections: opened,
      rssPerConnection: (after.rss - before.rss) / Math.max(1, opened),
      heapPerConnection: (after.heapUsed - before.heapUsed) / Math.max(1, opened),
      note,
    };
  });
}

/**
 * Connections opened and closed per second: negotiate + upgrade + handshake where those exist.
 * Each phase (anonymous, then with a JWT) first runs its loops for `--connect-warmup-ms`
 * unmeasured, as the invocation scenario warms up: a server that has been up a while has its
 * connect path compiled, and so do the load processes.
 * This package is also measured without negotiate (`skipNegotiation`), the one HTTP exchange of a
 * bare WebSocket server's connect, and (a) also with the exchanges of a SignalR connect and nothing
 * else. Profiled as `<target>:connect:anonymous`, `:jwt`, `:direct` and `:floor`.
 */
export async function runConnect(context: Context, target: TargetId): Promise<ConnectResult> {
  const { options } = context;
  const signalr = target === 'signalr-json' || target === 'signalr-msgpack';
  return withServer(context, target, 'connect', undefined, options.workers, async (server, workers) => {
    const lanes = split(options.connectConcurrency, workers.size);
    const loops = (tokens: string[], durationMs: number, how: ConnectOptions) =>
      workers.each((index) => (lanes[index] > 0 ? { cmd: 'connect-rate', durationMs, concurrency: lanes[index], tokens, ...how } : undefined));
    const rate = async (tokens: string[], phase: string, how: ConnectOptions = {}) => {
      if (options.connectWarmupMs > 0) await loops(tokens, options.connectWarmupMs, how);
      await sleep(300);
      const window = profileWindow(context, server, `${target}:connect:${phase}`);
      await window.begin();
      const before = await server.stats();
      const replies = await loops(tokens, options.connectMs, how);
      const completed = sum(replies, 'completed');
      const failed = sum(replies, 'failed');
      const ms = Math.max(...replies.map((reply) => Number(reply.ms ?? 0)));
      const error = replies.map((reply) => reply.firstError).find(Boolean);
      // Closes still under way are charged too: the pause lets the server finish them.
      await sleep(300);
      const after = await server.stats();
      await window.end();
      return {
        perSecond: (completed * 1000) / ms,
        cpu: (after.cpu - before.cpu) / Math.max(1, completed),
        loadCpu: sum(replies, 'cpu') / Math.max(1, completed),
        note: failed > 0 ? `${failed} failed (${String(error)})` : undefined,
      };
    };
    const plain = await rate([], 'anonymous');
    const jwt = signalr ? await rate(Array.from({ length: 100 }, (_, index) => signJwt(context.jwtSecret, `user-${index}`)), 'jwt') : undefined;
    const direct = signalr ? await rate([], 'direct', { skipNegotiation: true }) : undefined;
    const floor = target === 'raw-ws' ? await rate([], 'floor', { floor: true }) : undefined;
    const note = [plain.note, jwt?.note, direct?.note, floor?.note].filter(Boolean).join('; ') || undefined;
    return {
      plainPerSecond: plain.perSecond,
      plainCpu: plain.cpu,
      plainLoadCpu: plain.loadCpu,
      jwtPerSecond: jwt?.perSecond,
      jwtCpu: jwt?.cpu,
      directPerSecond: direct?.perSecond,
      directCpu: direct?.cpu,
      floorPerSecond: floor?.perSecond,
      floorCpu: floor?.cpu,
      note,
    };
  });
}

/**
 * Whether the server speaks MessagePack yet: one connection that negotiates and hands shakes with
 * `{"protocol":"messagepack","version":1}`. Returns the refusal, or undefined when it works.
 */
export async function probeMessagePack(context: Context): Promise<string | undefined> {
  return withServer(context, 'signalr-msgpack', 'connect', 0, 1, async (_server, workers) => {
    const [reply] = await workers.all({ cmd: 'open', count: 1, concurrency: 1, sender: false });
    return Number(reply.opened) === 1 ? undefined : String(reply.firstError);
  });
}

/** An HS256 JWT, as an identity provider would issue it, valid for an hour. */
export function signJwt(secret: string, subject: string): string {
  const issuedAt = Math.floor(Date.now() / 1000);
  const unsigned = `${encode({ alg: 'HS256', typ: 'JWT' })}.${encode({ sub: subject, roles: ['user'], iat: issuedAt, exp: issuedAt + 3600 })}`;
  return `${unsigned}.${createHmac('sha256', secret).update(unsigned).digest('base64url')}`;
}

function encode(value: object): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}
