import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import type { ServerRequest, ServerStats } from '../ipc.js';

/**
 * (e) ASP.NET Core 10's own SignalR server (test/reference/ReferenceServer, built in Release by
 * the orchestrator: `BENCH_ASPNETCORE_DLL`), its bench hub at /hubs/bench, Server GC. This
 * process only stands between it and the orchestrator: the figures are the .NET process's own,
 * read from /proc (CPU, RSS) and, after full collections, from its /bench/gc endpoint (managed heap).
 */
const dll = process.env.BENCH_ASPNETCORE_DLL;
if (!dll) throw new Error('BENCH_ASPNETCORE_DLL is required (the orchestrator builds the server and sets it).');

const server = spawn('dotnet', [dll, '--urls', 'http://127.0.0.1:0', '--Bench=true', '--ExitWithStdin=true'], {
  env: { ...process.env, DOTNET_gcServer: '1', DOTNET_CLI_TELEMETRY_OPTOUT: '1', ASPNETCORE_ENVIRONMENT: 'Production' },
  stdio: ['pipe', 'pipe', 'inherit'],
});
server.on('exit', (code) => process.exit(code ?? 1));
const CLOCK_TICKS_PER_SECOND = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

const baseUrl = await new Promise<string>((resolve) => {
  createInterface({ input: server.stdout! }).on('line', (line) => {
    const address = /^listening on (http:\/\/\S+)$/.exec(line)?.[1];
    if (address) resolve(address);
  });
});

/** User and system CPU time of the server process, in microseconds. */
function cpuMicros(): number {
  // Fields after the command name (which is in parentheses and may hold spaces): utime and stime are the 12th and 13th.
  const fields = readFileSync(`/proc/${server.pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1_000_000) / CLOCK_TICKS_PER_SECOND;
}

function rssBytes(): number {
  const line = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${server.pid}/status`, 'utf8'));
  return line ? Number(line[1]) * 1024 : Number.NaN;
}

async function stats(collect: boolean): Promise<ServerStats> {
  const heapUsed = collect ? Number(await (await fetch(`${baseUrl}/bench/gc`, { method: 'POST' })).text()) : Number.NaN;
  return { rss: rssBytes(), heapUsed, external: Number.NaN, arrayBuffers: Number.NaN, cpu: cpuMicros(), connections: -1, oldSpaceCommitted: Number.NaN, oldSpaceUsed: Number.NaN };
}

process.on('message', (request: ServerRequest) => {
  if (request.cmd === 'stop') {
    server.removeAllListeners('exit');
    server.once('exit', () => process.send!({ id: request.id }, () => process.exit(0)));
    server.kill('SIGTERM');
    return;
  }
  const answer = request.cmd === 'stats' ? stats(request.gc) : Promise.reject(new Error('CPU profiles are taken of the Node servers only'));
  answer.then(
    (result) => process.send!({ id: request.id, ...result }),
    (error: Error) => process.send!({ id: request.id, error: error.message }),
  );
});
process.on('disconnect', () => server.kill('SIGKILL'));
process.send!({ ready: true, port: Number(new URL(baseUrl).port) });
