import { fork, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { RoundEvent, ServerStats, WorkerReply, WorkerRequest } from './ipc.js';
import type { TargetId } from './options.js';

type Distribute<T> = T extends unknown ? Omit<T, 'id'> : never;
export type WorkerCommand = Distribute<WorkerRequest>;

const SERVER_SCRIPTS: Record<TargetId, string> = {
  'raw-ws': 'raw-ws.js',
  'nest-ws': 'nest-ws.js',
  'nest-socketio': 'nest-socketio.js',
  'signalr-json': 'signalr.js',
  'signalr-msgpack': 'signalr.js',
  'signalr-sse': 'signalr.js',
  'signalr-lp': 'signalr.js',
  'aspnetcore-json': 'aspnetcore.js',
  'aspnetcore-msgpack': 'aspnetcore.js',
};

const STARTUP_TIMEOUT_MS = 30_000;
const REQUEST_TIMEOUT_MS = 120_000;

/** A child process spoken to over IPC with numbered requests, each answered once. */
class Peer {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (value: WorkerReply) => void; reject: (error: Error) => void }>();
  private exited = false;

  constructor(
    readonly child: ChildProcess,
    private readonly name: string,
    onMessage: (message: Record<string, unknown>) => void = () => undefined,
  ) {
    child.on('message', (message: Record<string, unknown>) => {
      const id = message.id as number | undefined;
      const waiter = id === undefined ? undefined : this.pending.get(id);
      if (!waiter) return onMessage(message);
      this.pending.delete(id!);
      if (typeof message.error === 'string') waiter.reject(new Error(`${this.name}: ${message.error}`));
      else waiter.resolve(message as WorkerReply);
    });
    child.on('exit', (code, signal) => {
      this.exited = true;
      for (const { reject } of this.pending.values()) reject(new Error(`${this.name} exited (${code ?? signal}) with a request open`));
      this.pending.clear();
    });
  }

  request(body: Record<string, unknown>, timeoutMs = REQUEST_TIMEOUT_MS): Promise<WorkerReply> {
    if (this.exited) return Promise.reject(new Error(`${this.name} is not running`));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`${this.name} did not answer ${String(body.cmd)} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, {
        resolve: (value) => (clearTimeout(timer), resolve(value)),
        reject: (error) => (clearTimeout(timer), reject(error)),
      });
      this.child.send({ ...body, id });
    });
  }

  /** Asks politely (so that a CPU profile gets written), then kills after a grace period. */
  async stop(): Promise<void> {
    if (this.exited) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.request({ cmd: 'stop' }, 5_000).catch(() => undefined);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(timer);
  }

  kill(): Promise<void> {
    if (this.exited) return Promise.resolve();
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.kill('SIGKILL');
    return exited;
  }
}

/** One server under test, in a process of its own, measured from the inside. */
export class ServerProcess {
  private constructor(
    private readonly peer: Peer,
    readonly port: number,
  ) {}

  static async start(target: TargetId, env: Record<string, string>): Promise<ServerProcess> {
    const script = fileURLToPath(new URL(`./servers/${SERVER_SCRIPTS[target]}`, import.meta.url));
    const child = fork(script, [], {
      // BENCH_SERVER_FLAGS: Node and V8 flags for the servers alone (e.g. --trace-gc-nvp, read by bench/gc-promoted.mjs).
      execArgv: ['--expose-gc', ...(process.env.BENCH_SERVER_FLAGS?.split(' ').filter(Boolean) ?? [])],
      env: { ...process.env, NODE_ENV: 'production', ...env },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${target} server did not start in time`)), STARTUP_TIMEOUT_MS);
      child.once('message', (message: { ready?: boolean; port?: number }) => {
        clearTimeout(timer);
        if (message.ready && message.port) resolve(message.port);
        else reject(new Error(`${target} server sent ${JSON.stringify(message)} instead of ready`));
      });
      child.once('exit', (code) => reject(new Error(`${target} server exited (${code}) before it was ready`)));
    });
    return new ServerProcess(new Peer(child, `${target} server`), port);
  }

  /** The server's own figures; its RSS from outside when it had no descriptor left to read it. */
  async stats(gc = false, timeoutMs = REQUEST_TIMEOUT_MS): Promise<ServerStats> {
    const stats = (await this.peer.request({ cmd: 'stats', gc }, timeoutMs)) as unknown as ServerStats;
    // NaN travels as null over the JSON channel.
    return Number.isFinite(stats.rss) ? stats : { ...stats, rss: this.rssFromOutside() ?? Number.NaN };
  }

  /** Starts sampling the server's CPU (through the inspector, inside the server process). */
  async profileStart(): Promise<void> {
    await this.peer.request({ cmd: 'profile-start' });
  }

  /** Stops sampling and has the server write the profile to `file`. */
  async profileStop(file: string): Promise<void> {
    await this.peer.request({ cmd: 'profile-stop', file });
  }

  stop(): Promise<void> {
    return this.peer.stop();
  }

  /** Ends the server at once: it is past the memory the machine can spare. */
  kill(): Promise<void> {
    return this.peer.kill();
  }

  /**
   * Resident memory read from outside (/proc, Linux only), in bytes: it answers even while the
   * server is too busy to, and costs the server nothing.
   */
  rssFromOutside(): number | undefined {
    try {
      const line = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${this.peer.child.pid}/status`, 'utf8'));
      return line ? Number(line[1]) * 1024 : undefined;
    } catch {
      return undefined;
    }
  }

  /** File descriptors the server has open (/proc, Linux only): its sockets count against its limit. */
  openFiles(): number | undefined {
    try {
      return readdirSync(`/proc/${this.peer.child.pid}/fd`).length;
    } catch {
      return undefined;
    }
  }

  /** The server's own limit on open files (its soft `ulimit -n`). */
  openFileLimit(): number | undefined {
    try {
      const line = /^Max open files\s+(\d+)/m.exec(readFileSync(`/proc/${this.peer.child.pid}/limits`, 'utf8'));
      return line ? Number(line[1]) : undefined;
    } catch {
      return undefined;
    }
  }
}

/** The load generators: separate processes, so that client work is not charged to the server. */
export class WorkerPool {
  private readonly roundWaiters = new Map<number, { seen: number[]; expected: number; resolve: (lastAts: number[]) => void }>();

  private constructor(private readonly peers: Peer[]) {}

  static async start(count: number): Promise<WorkerPool> {
    const script = fileURLToPath(new URL('./load/worker.js', import.meta.url));
    const pool: WorkerPool = new WorkerPool([]);
    for (let i = 0; i < count; i++) {
      const child = fork(script, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], serialization: 'advanced' });
      pool.peers.push(new Peer(child, `load worker ${i}`, (message) => pool.onEvent(message as unknown as RoundEvent)));
    }
    return pool;
  }

  get size(): number {
    return this.peers.length;
  }

  call(index: number, command: WorkerCommand): Promise<WorkerReply> {
    return this.peers[index].request(command);
  }

  /** Sends each worker its own command (by index); resolves with every reply, in order. */
  each(command: (index: number) => WorkerCommand | undefined): Promise<WorkerReply[]> {
    return Promise.all(this.peers.map((peer, index) => {
      const body = command(index);
      return body ? peer.request(body) : Promise.resolve({ id: 0 } as WorkerReply);
    }));
  }

  all(command: WorkerCommand): Promise<WorkerReply[]> {
    return this.each(() => command);
  }

  /** Resolves with the last-receipt time reported by each of `expected` workers for `round`. */
  waitForRound(round: number, expected: number, timeoutMs: number): Promise<number[]> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        const waiter = this.roundWaiters.get(round);
        this.roundWaiters.delete(round);
        resolve(waiter?.seen ?? []);
      }, timeoutMs);
      this.roundWaiters.set(round, {
        seen: [],
        expected,
        resolve: (lastAts) => (clearTimeout(timer), resolve(lastAts)),
      });
    });
  }

  private onEvent(message: RoundEvent): void {
    if (message.event !== 'round') return;
    const waiter = this.roundWaiters.get(message.round);
    if (!waiter) return;
    waiter.seen.push(message.lastAt);
    if (waiter.seen.length === waiter.expected) {
      this.roundWaiters.delete(message.round);
      waiter.resolve(waiter.seen);
    }
  }

  async stop(): Promise<void> {
    await Promise.all(this.peers.map((peer) => peer.kill()));
  }
}

/** Splits `total` into `parts` near-equal whole shares, larger ones first. */
export function split(total: number, parts: number): number[] {
  return Array.from({ length: parts }, (_, index) => Math.floor(total / parts) + (index < total % parts ? 1 : 0));
}
