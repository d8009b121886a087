import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createConnection, createServer } from 'node:net';

// No test framework in here: the cross-node benchmark (bench/harness) starts its Redis with it too.

export const REDIS_SERVER_BINARY = 'redis-server';

/** Whether Debian's redis-server binary can be run here. */
export function redisServerInstalled(): boolean {
  const probe = spawnSync(REDIS_SERVER_BINARY, ['--version'], { stdio: 'ignore' });
  return probe.error === undefined && probe.status === 0;
}

/**
 * A throw-away redis-server on 127.0.0.1 and a free port, without persistence, that a test can
 * kill and start again on the same port.
 */
export class RedisServer {
  private process: ChildProcess | undefined;

  private constructor(
    readonly port: number,
    /** Given after the defaults on every start: a cluster node's settings, kept across restarts. */
    private readonly extraArgs: readonly string[],
  ) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** The process id while it runs (the benchmark reads its CPU time from /proc). */
  get pid(): number | undefined {
    return this.process?.pid;
  }

  static async start(extraArgs: (port: number) => readonly string[] = () => []): Promise<RedisServer> {
    const port = await freePort();
    const server = new RedisServer(port, extraArgs(port));
    await server.start();
    return server;
  }

  /** Starts it (again) on its port, and resolves once it answers PING. */
  async start(): Promise<void> {
    if (this.process) throw new Error('redis-server is already running.');
    const child = spawn(
      REDIS_SERVER_BINARY,
      ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--protected-mode', 'yes', ...this.extraArgs],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    this.process = child;
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('error', (error) => (stderr += error.message));
    const deadline = Date.now() + 10_000;
    while (!(await answersPing(this.port))) {
      if (child.exitCode !== null || Date.now() > deadline) {
        this.process = undefined;
        child.kill('SIGKILL');
        throw new Error(`redis-server did not start on port ${this.port}: ${stderr.trim() || `exit ${child.exitCode}`}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }

  /** Kills it as a crash would (SIGKILL), and resolves once it has exited. */
  async kill(): Promise<void> {
    const child = this.process;
    if (!child) return;
    this.process = undefined;
    if (child.exitCode === null && child.signalCode === null) {
      const exited = once(child, 'exit');
      child.kill('SIGKILL');
      await exited;
    }
  }

  /** Stops it answering while its connections stay open (SIGSTOP), as a hung or swapped-out Redis would. */
  pause(): void {
    this.process?.kill('SIGSTOP');
  }

  /** Lets a paused server go on (SIGCONT). */
  resume(): void {
    this.process?.kill('SIGCONT');
  }

  async restart(): Promise<void> {
    await this.kill();
    await this.start();
  }

  stop(): Promise<void> {
    return this.kill();
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

function answersPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    let reply = '';
    const done = (answer: boolean) => {
      socket.destroy();
      resolve(answer);
    };
    socket.setTimeout(1_000, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      reply += chunk.toString();
      if (reply.includes('\r\n')) done(reply.startsWith('+PONG'));
    });
  });
}
