import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { buildDotnetProject, DOTNET_ENV } from './dotnet.js';

export interface RunningReferenceServer {
  /** `http://127.0.0.1:<port>` */
  readonly baseUrl: string;
  close(): Promise<void>;
}

export interface ReferenceServerOptions {
  readonly configuration?: 'Debug' | 'Release';
  /** Reaches the server process (`DOTNET_gcServer`, say). */
  readonly env?: Record<string, string>;
  /** Its SignalR timers in milliseconds; ASP.NET Core's defaults where not given. */
  readonly timers?: { readonly KeepAliveMs?: number; readonly ClientTimeoutMs?: number; readonly HandshakeTimeoutMs?: number };
}

/** ASP.NET Core's own SignalR server (test/reference/ReferenceServer), built once per run, on a free loopback port. */
export async function startReferenceServer({ configuration = 'Debug', env = {}, timers = {} }: ReferenceServerOptions = {}): Promise<RunningReferenceServer> {
  const dll = await buildDotnetProject('reference/ReferenceServer', configuration);
  const timerArgs = Object.entries(timers).map(([name, ms]) => `--${name}=${ms}`);
  const server = spawn('dotnet', [dll, '--urls', 'http://127.0.0.1:0', '--ExitWithStdin=true', ...timerArgs], {
    env: { ...DOTNET_ENV, ...env },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const exited = once(server, 'exit');
  const lines = createInterface({ input: server.stdout });
  const listening = new Promise<string>((resolve, reject) => {
    lines.on('line', (line) => {
      const address = /^listening on (http:\/\/\S+)$/.exec(line)?.[1];
      if (address) resolve(address);
    });
    void exited.then(([code]) => reject(new Error(`the reference server exited with ${String(code)} before it listened`)));
  });
  const baseUrl = await listening;
  return {
    baseUrl,
    close: async () => {
      if (server.exitCode === null) server.kill('SIGTERM');
      await exited;
    },
  };
}
