import type { TargetId } from './options.js';

/** What the orchestrator asks a load process; each request is answered once with its `id`. */
export type WorkerRequest = { readonly id: number } & (
  | { readonly cmd: 'setup'; readonly target: TargetId; readonly port: number; readonly payloadBytes: number; readonly skipNegotiation?: boolean }
  | { readonly cmd: 'open'; readonly count: number; readonly concurrency: number; readonly sender: boolean }
  | { readonly cmd: 'echo-start'; readonly depth: number }
  | { readonly cmd: 'echo-count' }
  | { readonly cmd: 'echo-stop' }
  | { readonly cmd: 'join'; readonly group: string }
  | { readonly cmd: 'fanout-arm'; readonly firstMeasuredRound: number }
  | { readonly cmd: 'send'; readonly group: string; readonly round: number }
  | { readonly cmd: 'latencies' }
  | { readonly cmd: 'connect-rate'; readonly durationMs: number; readonly concurrency: number; readonly tokens: readonly string[]; readonly skipNegotiation?: boolean; readonly floor?: boolean }
  /** Every connection of this process starts a server-to-client stream of `count` items. */
  | { readonly cmd: 'stream'; readonly count: number; readonly itemBytes: number; readonly intervalMs: number }
  /** The first `count` connections stop reading their sockets and leave the measured set. */
  | { readonly cmd: 'pause'; readonly count: number }
  /** The paused connections read again; the reply says which the server had closed, and why. */
  | { readonly cmd: 'resume-paused'; readonly waitMs: number }
  /** The connections send `ratePerSecond` broadcasts to `group` between them and count receipts. */
  | { readonly cmd: 'room-start'; readonly group: string; readonly ratePerSecond: number }
  | { readonly cmd: 'room-count' }
  | { readonly cmd: 'room-stop' }
  /** Connection i joins group `${prefix}${i}` (and waits for every join's completion). */
  | { readonly cmd: 'join-each'; readonly prefix: string }
  /**
   * Like room-start, but connection i sends to its own group `${prefix}${i}`, or with `toAll` to
   * every connection of the hub; stopped with room-stop.
   */
  | { readonly cmd: 'spread-start'; readonly prefix: string; readonly ratePerSecond: number; readonly toAll: boolean }
  /** Starts the measured window: the counts and latencies so far are dropped, the traffic goes on. */
  | { readonly cmd: 'room-mark' }
  /** Closes seen since the previous count-closes (the idle-hold scenario's drops). */
  | { readonly cmd: 'count-closes' }
  /** Closes every connection with a close frame and waits for them to end. */
  | { readonly cmd: 'close-all' }
);

export type WorkerReply = { readonly id: number; readonly error?: string } & Record<string, unknown>;

/** Sent unasked by a load process when each of its receivers has a round's broadcast. */
export interface RoundEvent {
  readonly event: 'round';
  readonly round: number;
  /** Monotonic clock (process.hrtime), microseconds, of the last receipt. */
  readonly lastAt: number;
}

export type ServerRequest = { readonly id: number } & (
  | { readonly cmd: 'stats'; readonly gc: boolean }
  | { readonly cmd: 'profile-start' }
  /** Ends the CPU profile begun by profile-start and writes it to `file` (.cpuprofile). */
  | { readonly cmd: 'profile-stop'; readonly file: string }
  | { readonly cmd: 'stop' }
);

export interface ServerStats {
  readonly rss: number;
  readonly heapUsed: number;
  readonly external: number;
  readonly arrayBuffers: number;
  /** Process CPU time (user + system), microseconds. */
  readonly cpu: number;
  /** Client connections the server holds now, by its own count (-1 where the server keeps none). */
  readonly connections: number;
  /**
   * V8's old space: the memory it holds for long-lived objects, and how much of it they fill. What
   * it holds beyond what they fill is free room within its pages, which a GC does not give back.
   */
  readonly oldSpaceCommitted: number;
  readonly oldSpaceUsed: number;
}

/** Monotonic microseconds, comparable between processes on one machine. */
export function nowMicros(): number {
  return Number(process.hrtime.bigint() / 1000n);
}
