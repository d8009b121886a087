/**
 * Every knob of the harness, read from `--name=value` arguments first, then `BENCH_NAME`
 * environment variables (dashes become underscores), then the defaults below: sized so that the
 * whole run takes a few minutes on two cores.
 */
export const OPENTELEMETRY_CASES = ['absent', 'api', 'sdk', 'sdk-metrics', 'sdk-traces', 'sdk-sampled', 'sdk-lean', 'sdk-package-off'] as const;
export type OpenTelemetryCase = (typeof OPENTELEMETRY_CASES)[number];

export const TARGET_IDS = [
  'raw-ws',
  'nest-ws',
  'nest-socketio',
  'signalr-json',
  'signalr-msgpack',
  'signalr-sse',
  'signalr-lp',
  'aspnetcore-json',
  'aspnetcore-msgpack',
] as const;
export type TargetId = (typeof TARGET_IDS)[number];

/**
 * This package over Server-Sent Events and long polling (JSON): only when named in --targets,
 * and only in the invoke and fan-out scenarios.
 */
export const HTTP_TRANSPORT_TARGETS: readonly TargetId[] = ['signalr-sse', 'signalr-lp'];
/**
 * ASP.NET Core 10's own SignalR server (test/reference/ReferenceServer, Release, Server GC), with
 * JSON and MessagePack clients: only when named in --targets, as it needs the .NET SDK.
 */
export const ASPNETCORE_TARGETS: readonly TargetId[] = ['aspnetcore-json', 'aspnetcore-msgpack'];
const DEFAULT_TARGETS = TARGET_IDS.filter((target) => !HTTP_TRANSPORT_TARGETS.includes(target) && !ASPNETCORE_TARGETS.includes(target));

export const SCENARIO_IDS = ['invoke', 'fanout', 'memory', 'connect', 'cross-node', 'shards', 'slow-consumers', 'idle-hold', 'slow-fanout'] as const;
export type ScenarioId = (typeof SCENARIO_IDS)[number];
/**
 * The others run only when named in --scenarios: cross-node and shards need Debian's redis-server, and the
 * flow-control scenarios take minutes each (and before the package bounds its buffers, gigabytes).
 */
export const DEFAULT_SCENARIOS: readonly ScenarioId[] = ['invoke', 'fanout', 'memory', 'connect'];

/** The flow-control scenarios drive (a), the limit, and this package; the Nest gateways have no streams here. */
export const FLOW_CONTROL_SCENARIOS: readonly ScenarioId[] = ['slow-consumers', 'idle-hold', 'slow-fanout'];
export const drivesFlowControl = (target: TargetId) => target === 'raw-ws' || target === 'signalr-json' || target === 'signalr-msgpack';
/** Holding idle connections needs no flow control: Nest's platform-ws gateway can do it too (with (a)'s heartbeat). */
export const holdsIdleConnections = (target: TargetId) => drivesFlowControl(target) || target === 'nest-ws';

export interface BenchOptions {
  readonly targets: readonly TargetId[];
  readonly scenarios: readonly ScenarioId[];
  /** Load generator processes; connections and connect loops are spread over them. */
  readonly workers: number;
  /** Connection counts of the invocation scenario. */
  readonly invokeConnections: readonly number[];
  /** Invocations in flight per connection. */
  readonly depth: number;
  readonly warmupMs: number;
  readonly durationMs: number;
  /** Group sizes of the fan-out scenario. */
  readonly fanout: readonly number[];
  /** Broadcasts per group size. */
  readonly rounds: number;
  /** Group sizes of the cross-node scenario (receivers over all nodes). */
  readonly crossNode: readonly number[];
  /** Broadcasts sent back to back in the cross-node throughput phase. */
  readonly crossNodeBroadcasts: number;
  /** At most this many of them on their way at once. */
  readonly crossNodeWindow: number;
  /** Node counts of the shards scenario. */
  readonly shardNodes: readonly number[];
  /** Groups of the shards scenario, each with one member on every node. */
  readonly shardGroups: number;
  /** Group messages per second the members send between them, all nodes together. */
  readonly shardRate: number;
  /** `Clients.All` messages per second the members send between them. */
  readonly shardAllRate: number;
  /** How long each shards cell is measured, after `warmupMs` of the same traffic. */
  readonly shardMs: number;
  /** Idle connections held for the memory scenario. */
  readonly idleConnections: number;
  /** Clients of the slow-consumers scenario that start a stream each, then stop reading. */
  readonly slowClients: number;
  /** Clients beside them that keep reading while they send room traffic. */
  readonly slowReaders: number;
  /** How long the slow-consumers scenario samples the server (once a second). */
  readonly slowDurationMs: number;
  /** Broadcasts per second to the room, sent by the reading clients together. */
  readonly slowRoomRate: number;
  /** Filler bytes of each of them: chat messages rather than ticks. */
  readonly slowRoomPayloadBytes: number;
  /** Filler bytes of each server-to-client stream item. */
  readonly streamItemBytes: number;
  /** Pause of each stream between two items (0: the next turn of the event loop). */
  readonly streamIntervalMs: number;
  /** The server is stopped once its RSS passes this (MiB): before flow control it grows to GBs. */
  readonly rssCapMb: number;
  /** Idle connections opened and held by the idle-hold scenario. */
  readonly holdConnections: number;
  /** How long they are held, with the clients' keep-alives. */
  readonly holdMs: number;
  /** Group size of the slow-fanout scenario. */
  readonly slowFanout: number;
  /** Share of its members, in percent, that stop reading in the slow cell. */
  readonly slowFanoutPercent: number;
  /** Broadcasts sent back to back in each cell. */
  readonly slowFanoutBroadcasts: number;
  /** Filler bytes of each of them: the slow members must fall behind by more than any buffer. */
  readonly slowFanoutPayloadBytes: number;
  /** At most this many broadcasts on their way at once. */
  readonly slowFanoutWindow: number;
  readonly connectMs: number;
  /**
   * The connect loops run this long unmeasured first, in each phase: a connect path is compiled
   * by V8 only after thousands of connections, and a server that has been up a while has it so.
   */
  readonly connectWarmupMs: number;
  /** Concurrent negotiate+connect loops. */
  readonly connectConcurrency: number;
  /** Connections opened at once while building up a scenario's load. */
  readonly openConcurrency: number;
  /** This package's connections are opened without negotiate (`skipNegotiation`) while building up the load. */
  readonly skipNegotiation: boolean;
  /** Bytes of filler text in each echo and broadcast payload. */
  readonly payloadBytes: number;
  /** Runs of each cell; the run with the median headline number is reported. */
  readonly repeat: number;
  /**
   * `target:scenario[:size]` (e.g. `signalr-json:invoke:1000`) records a CPU profile of that
   * server over the measured window, summarized in the report (written with a `-profile` suffix,
   * since sampling slows the profiled server a little).
   */
  readonly profile: string | undefined;
  /**
   * The package under test, when not this tree's src: a checkout's folder or a git revision of
   * this repository (compiled by bench/launch.mjs; read here for the report only).
   */
  readonly src: string;
  /** Folder for the markdown results; empty to write none. */
  readonly out: string;
  /**
   * Appended to the results file's name (`2026-11-29-<label>.md`), so that a second run on the
   * same day does not replace the first. Letters, digits and dashes.
   */
  readonly label: string;
  /**
   * What the SignalR servers find of OpenTelemetry: `absent` (the API not installed), `api`
   * (installed, no SDK registered), `sdk` (the SDK registered), or a part of it (`sdk-metrics`,
   * `sdk-traces`, `sdk-sampled`). See servers/open-telemetry.ts.
   */
  readonly opentelemetry: OpenTelemetryCase;
}

const DEFAULTS = {
  targets: DEFAULT_TARGETS.join(','),
  scenarios: DEFAULT_SCENARIOS.join(','),
  workers: '2',
  'invoke-connections': '1,100,1000',
  depth: '8',
  'warmup-ms': '1000',
  'duration-ms': '3000',
  fanout: '1000,10000',
  rounds: '10',
  'cross-node': '1000',
  'cross-node-broadcasts': '300',
  'cross-node-window': '8',
  'shard-nodes': '2,3',
  'shard-groups': '100',
  'shard-rate': '3000',
  'shard-all-rate': '20',
  'shard-ms': '5000',
  'idle-connections': '5000',
  'slow-clients': '20',
  'slow-readers': '20',
  'slow-duration-ms': '60000',
  'slow-room-rate': '200',
  'slow-room-payload-bytes': '1024',
  'stream-item-bytes': '1024',
  'stream-interval-ms': '1',
  'rss-cap-mb': '3072',
  'hold-connections': '20000',
  'hold-ms': '120000',
  'slow-fanout': '1000',
  'slow-fanout-percent': '1',
  'slow-fanout-broadcasts': '800',
  'slow-fanout-payload-bytes': '16384',
  'slow-fanout-window': '8',
  'connect-ms': '3000',
  'connect-warmup-ms': '5000',
  'connect-concurrency': '32',
  'open-concurrency': '200',
  'skip-negotiation': 'false',
  'payload-bytes': '32',
  repeat: '1',
  profile: '',
  src: '',
  out: 'bench/results',
  label: '',
  opentelemetry: 'api',
} satisfies Record<string, string>;

type Key = keyof typeof DEFAULTS;

export function readOptions(argv: readonly string[] = process.argv.slice(2), env: NodeJS.ProcessEnv = process.env): BenchOptions {
  const cli = new Map<string, string>();
  for (const argument of argv) {
    const match = /^--([a-z-]+)(?:=(.*))?$/.exec(argument);
    if (!match) throw new Error(`Unknown argument ${argument}: use --name=value (see bench/README.md).`);
    if (!(match[1] in DEFAULTS)) throw new Error(`Unknown option --${match[1]}.`);
    cli.set(match[1], match[2] ?? 'true');
  }
  const get = (key: Key): string => cli.get(key) ?? env[`BENCH_${key.toUpperCase().replaceAll('-', '_')}`] ?? DEFAULTS[key];
  const int = (key: Key): number => {
    const value = Number(get(key));
    if (!Number.isInteger(value) || value < 0) throw new Error(`--${key} must be a whole number, not ${get(key)}.`);
    return value;
  };
  const ints = (key: Key): number[] => list(get(key)).map((item) => {
    const value = Number(item.replaceAll('_', ''));
    if (!Number.isInteger(value) || value < 1) throw new Error(`--${key} takes positive whole numbers, not ${item}.`);
    return value;
  });
  const percent = (key: Key): number => {
    const value = Number(get(key));
    if (!(value > 0 && value < 100)) throw new Error(`--${key} takes a percentage above 0 and below 100, not ${get(key)}.`);
    return value;
  };
  const oneOf = <T extends string>(key: Key, allowed: readonly T[]): T[] => list(get(key)).map((item) => {
    if (!(allowed as readonly string[]).includes(item)) throw new Error(`--${key}: ${item} is none of ${allowed.join(', ')}.`);
    return item as T;
  });
  return {
    targets: oneOf('targets', TARGET_IDS),
    scenarios: oneOf('scenarios', SCENARIO_IDS),
    workers: Math.max(1, int('workers')),
    invokeConnections: ints('invoke-connections'),
    depth: Math.max(1, int('depth')),
    warmupMs: int('warmup-ms'),
    durationMs: Math.max(100, int('duration-ms')),
    fanout: ints('fanout'),
    rounds: Math.max(1, int('rounds')),
    crossNode: ints('cross-node'),
    crossNodeBroadcasts: Math.max(1, int('cross-node-broadcasts')),
    crossNodeWindow: Math.max(1, int('cross-node-window')),
    shardNodes: ints('shard-nodes'),
    shardGroups: Math.max(1, int('shard-groups')),
    shardRate: Math.max(1, int('shard-rate')),
    shardAllRate: Math.max(1, int('shard-all-rate')),
    shardMs: Math.max(500, int('shard-ms')),
    idleConnections: Math.max(1, int('idle-connections')),
    slowClients: Math.max(1, int('slow-clients')),
    slowReaders: Math.max(1, int('slow-readers')),
    slowDurationMs: Math.max(1000, int('slow-duration-ms')),
    slowRoomRate: Math.max(1, int('slow-room-rate')),
    slowRoomPayloadBytes: int('slow-room-payload-bytes'),
    streamItemBytes: int('stream-item-bytes'),
    streamIntervalMs: int('stream-interval-ms'),
    rssCapMb: Math.max(64, int('rss-cap-mb')),
    holdConnections: Math.max(1, int('hold-connections')),
    holdMs: int('hold-ms'),
    slowFanout: Math.max(1, int('slow-fanout')),
    slowFanoutPercent: percent('slow-fanout-percent'),
    slowFanoutBroadcasts: Math.max(1, int('slow-fanout-broadcasts')),
    slowFanoutPayloadBytes: int('slow-fanout-payload-bytes'),
    slowFanoutWindow: Math.max(1, int('slow-fanout-window')),
    connectMs: Math.max(100, int('connect-ms')),
    connectWarmupMs: int('connect-warmup-ms'),
    connectConcurrency: Math.max(1, int('connect-concurrency')),
    openConcurrency: Math.max(1, int('open-concurrency')),
    skipNegotiation: oneOf('skip-negotiation', ['true', 'false'])[0] === 'true',
    payloadBytes: int('payload-bytes'),
    repeat: Math.max(1, int('repeat')),
    profile: get('profile') || undefined,
    src: get('src'),
    out: get('out'),
    label: fileLabel(get('label')),
    opentelemetry: oneOf('opentelemetry', OPENTELEMETRY_CASES)[0],
  };
}

function fileLabel(value: string): string {
  if (!/^[A-Za-z0-9-]*$/.test(value)) throw new Error(`--label takes letters, digits and dashes, not ${value}.`);
  return value;
}

function list(value: string): string[] {
  return value
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);
}
