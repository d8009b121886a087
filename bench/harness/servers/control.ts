import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { getHeapSpaceStatistics, getHeapStatistics } from 'node:v8';
import type { ServerRequest, ServerStats } from '../ipc.js';

/**
 * The orchestrator's handle inside a server process: announces the port, answers memory and CPU
 * questions about this very process (after a full GC when asked) and how many clients it holds
 * (`liveConnections`, by the server's own count), records a CPU profile of just the measured
 * window when asked, and exits on request.
 */
export function serveControl(port: number, liveConnections: () => number = () => -1): void {
  connectionCount = liveConnections;
  process.on('message', (request: ServerRequest) => {
    if (request.cmd === 'stop') {
      process.send!({ id: request.id }, () => process.exit(0));
      return;
    }
    handle(request).then(
      (result) => process.send!({ id: request.id, ...result }),
      (error: Error) => process.send!({ id: request.id, error: error.message }),
    );
  });
  process.on('disconnect', () => process.exit(0));
  process.send!({ ready: true, port });
}

let profiler: Session | undefined;
let connectionCount: () => number = () => -1;
/** Microseconds between samples, as --cpu-prof by default: finer sampling slows the server visibly. */
const SAMPLING_INTERVAL_US = 1000;

async function handle(request: Exclude<ServerRequest, { cmd: 'stop' }>): Promise<object> {
  switch (request.cmd) {
    case 'stats':
      return stats(request.gc);
    case 'profile-start':
      profiler = new Session();
      profiler.connect();
      await profiler.post('Profiler.enable');
      await profiler.post('Profiler.setSamplingInterval', { interval: SAMPLING_INTERVAL_US });
      await profiler.post('Profiler.start');
      return {};
    case 'profile-stop': {
      if (!profiler) throw new Error('no profile was started');
      const { profile } = await profiler.post('Profiler.stop');
      profiler.disconnect();
      profiler = undefined;
      writeFileSync(request.file, JSON.stringify(profile));
      return {};
    }
  }
}

async function stats(collect: boolean): Promise<ServerStats> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (collect && gc) {
    // A few rounds with turns of the event loop between: weak references and finalizers settle.
    for (let i = 0; i < 4; i++) {
      gc();
      await new Promise((resolve) => setImmediate(resolve));
    }
  }
  const memory = memoryUsage();
  const cpu = process.cpuUsage();
  const oldSpace = getHeapSpaceStatistics().find((space) => space.space_name === 'old_space');
  return {
    rss: memory.rss,
    heapUsed: memory.heapUsed,
    external: memory.external,
    arrayBuffers: memory.arrayBuffers,
    cpu: cpu.user + cpu.system,
    connections: connectionCount(),
    oldSpaceCommitted: oldSpace?.space_size ?? Number.NaN,
    oldSpaceUsed: oldSpace?.space_used_size ?? Number.NaN,
  };
}

/**
 * With every file descriptor taken (a server holding as many sockets as it may), libuv cannot open
 * /proc/self/stat for the RSS: the heap is V8's to tell, and the orchestrator reads RSS from outside.
 */
function memoryUsage(): Pick<NodeJS.MemoryUsage, 'rss' | 'heapUsed' | 'external' | 'arrayBuffers'> {
  try {
    return process.memoryUsage();
  } catch {
    const heap = getHeapStatistics();
    return { rss: Number.NaN, heapUsed: heap.used_heap_size, external: heap.external_memory, arrayBuffers: Number.NaN };
  }
}

/** Nest's logger level for bench servers: errors only, so a failure is visible and a run is quiet. */
export const BENCH_LOGGER: ('error' | 'warn')[] = ['error'];
