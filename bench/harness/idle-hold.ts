import type { TargetId } from './options.js';
import { openConnections, profileWindow, settledStats, sleep, sum, withServer, type Context } from './scenarios.js';

/**
 * The idle-hold scenario: many idle connections opened, held with keep-alives, and let go, the
 * way an operator sizing a server would try it. Memory is read after full GCs against a settled
 * baseline; drops are the closes the load processes see while holding.
 */
export interface IdleHoldResult {
  readonly asked: number;
  readonly held: number;
  /** Connections opened per second (negotiate, upgrade and handshake for this package). */
  readonly connectsPerSecond: number;
  readonly baselineRss: number;
  /** Seconds of full GCs until the baseline stopped moving. */
  readonly settleSeconds: number;
  readonly rssPerConnection: number;
  readonly heapPerConnection: number;
  /** V8's old space while the connections are held, settled: committed, and filled by live objects. */
  readonly oldSpaceCommitted: number;
  readonly oldSpaceUsed: number;
  /** Descriptors the server had open before any client, and its limit. */
  readonly serverFiles: number | undefined;
  readonly serverFileLimit: number | undefined;
  /** Connections the load processes saw closed during the hold. */
  readonly drops: number;
  /** The server's own CPU during the hold, in percent of one core. */
  readonly idleCpuPercent: number;
  /** RSS after full GCs, 5 s after the last client left. */
  readonly rssAfterDisconnect: number;
  readonly connectionsAfterDisconnect: number;
  readonly note?: string;
}

/** Sockets per load process, well under its own open-file limit. */
const CONNECTIONS_PER_PROCESS = 10_000;
const AFTER_DISCONNECT_MS = 5000;
const DISCONNECT_LIMIT_MS = 30_000;

export async function runIdleHold(context: Context, target: TargetId): Promise<IdleHoldResult> {
  const { options } = context;
  const asked = options.holdConnections;
  const workerCount = Math.max(options.workers, Math.ceil(asked / CONNECTIONS_PER_PROCESS));
  return withServer(context, target, 'idle-hold', asked, workerCount, async (server, workers, window) => {
    const baseline = await settledStats(server);
    const serverFiles = server.openFiles();

    await window.begin();
    const opening = performance.now();
    const { opened, note } = await openConnections(context, workers, asked);
    const connectsPerSecond = (opened * 1000) / (performance.now() - opening);
    await window.end();
    const loaded = await settledStats(server);

    await workers.all({ cmd: 'count-closes' });
    // Its own window, so that `--profile=<target>:idle-hold:<size>:holding` profiles the hold alone.
    const holding = profileWindow(context, server, `${target}:idle-hold:${asked}:holding`);
    await holding.begin();
    const cpuBefore = (await server.stats()).cpu;
    const holdStarted = performance.now();
    await sleep(options.holdMs);
    const cpuAfter = (await server.stats()).cpu;
    await holding.end();
    const holdSeconds = (performance.now() - holdStarted) / 1000;
    const drops = sum(await workers.all({ cmd: 'count-closes' }), 'closes');

    await workers.all({ cmd: 'close-all' });
    const deadline = performance.now() + DISCONNECT_LIMIT_MS;
    while ((await server.stats()).connections > 0 && performance.now() < deadline) await sleep(100);
    await sleep(AFTER_DISCONNECT_MS);
    const after = await server.stats(true);

    const held = opened;
    const limit = server.openFileLimit();
    const problems = [
      note,
      held < asked && limit !== undefined ? `held ${held} of ${asked}: the server may have ${limit} files open and had ${serverFiles ?? '?'} before any client` : undefined,
    ].filter(Boolean);
    return {
      asked,
      held,
      connectsPerSecond,
      baselineRss: baseline.stats.rss,
      settleSeconds: baseline.seconds,
      rssPerConnection: (loaded.stats.rss - baseline.stats.rss) / Math.max(1, held),
      heapPerConnection: (loaded.stats.heapUsed - baseline.stats.heapUsed) / Math.max(1, held),
      oldSpaceCommitted: loaded.stats.oldSpaceCommitted,
      oldSpaceUsed: loaded.stats.oldSpaceUsed,
      serverFiles,
      serverFileLimit: limit,
      drops,
      idleCpuPercent: ((cpuAfter - cpuBefore) / 1e6 / holdSeconds) * 100,
      rssAfterDisconnect: after.rss,
      connectionsAfterDisconnect: after.connections,
      note: problems.length > 0 ? problems.join('; ') : undefined,
    };
  });
}
