import type { TargetId } from './options.js';

/** What the orchestrator asks a load process; each request is answered once with its `id`. */
export type WorkerRequest = { readonly id: number } & (
  | { readonly cmd: 'setup'; readonly target: TargetId; readonly port: number; readonly payloadBytes: number }
  | { readonly cmd: 'open'; readonly count: number; readonly concurrency: number; readonly sender: boolean }
  | { readonly cmd: 'echo-start'; readonly depth: number }
  | { readonly cmd: 'echo-count' }
  | { readonly cmd: 'echo-stop' }
  | { readonly cmd: 'join'; readonly group: string }
  | { readonly cmd: 'fanout-arm'; readonly firstMeasuredRound: number }
  | { readonly cmd: 'send'; readonly group: string; readonly round: number }
  | { readonly cmd: 'latencies' }
  | { readonly cmd: 'connect-rate'; readonly durationMs: number; readonly concurrency: number; readonly tokens: readonly string[] }
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
}

/** Monotonic microseconds, comparable between processes on one machine. */
export function nowMicros(): number {
  return Number(process.hrtime.bigint() / 1000n);
}
