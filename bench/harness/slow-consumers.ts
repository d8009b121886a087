import type { TargetId } from './options.js';
import { pausedClientsOutcome, type PausedClientsOutcome } from './paused-clients.js';
import { split } from './processes.js';
import { GROUP, sleep, sum, withServer, type Context } from './scenarios.js';
import { percentile } from './stats.js';

/**
 * The slow-consumers scenario: clients that start a server-to-client stream each, then stop
 * reading their sockets, while reading clients in the same room keep broadcasting to it. The
 * server's RSS is read every second, from outside, with what the reading clients received.
 */
export interface SlowConsumersSample {
  /** Seconds since the slow clients stopped reading. */
  readonly second: number;
  readonly rss: number | undefined;
  /** Connections the server holds by its own count; undefined when it was too busy to answer. */
  readonly connections: number | undefined;
  /** Broadcasts sent and receipts counted by the reading clients so far. */
  readonly sent: number;
  readonly received: number;
  /** Reading clients closed so far. */
  readonly readerCloses: number;
}

export interface SlowConsumersResult extends PausedClientsOutcome {
  readonly samples: readonly SlowConsumersSample[];
  readonly startRss: number | undefined;
  /** The second at which RSS passed `--rss-cap-mb` and the server was stopped, if it did. */
  readonly cappedAt: number | undefined;
  readonly slowClients: number;
  readonly readers: number;
  /** Connections the server held when the slow clients stopped reading. */
  readonly connectionsAtStart: number;
  /** Send → receipt at the reading clients, over the whole run. */
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly note?: string;
}

/** Load process 0 holds the slow clients; the others hold the readers. */
const SLOW_PROCESS = 0;
/** Far more items than any run can send: the stream ends with the connection. */
const ENDLESS = 1_000_000_000;
/** How long the slow clients read at the end, to find out whether the server had closed them. */
const RESUME_WAIT_MS = 10_000;
/** A server this busy does not answer in time; its connection count is left out for that second. */
const SAMPLE_TIMEOUT_MS = 900;

export async function runSlowConsumers(context: Context, target: TargetId): Promise<SlowConsumersResult> {
  const { options } = context;
  const workerCount = Math.max(2, options.workers);
  return withServer(context, target, 'slow-consumers', undefined, workerCount, async (server, workers, window) => {
    const readerShares = split(options.slowReaders, workers.size - 1);
    const readerShare = (index: number) => readerShares[index - 1];
    const opened = await workers.each((index) => ({
      cmd: 'open',
      count: index === SLOW_PROCESS ? options.slowClients : readerShare(index),
      concurrency: options.openConcurrency,
      sender: false,
    }));
    const failed = sum(opened, 'failed');
    await workers.all({ cmd: 'join', group: GROUP });
    const connectionsAtStart = (await server.stats()).connections;
    const startRss = server.rssFromOutside();

    await window.begin();
    await workers.call(SLOW_PROCESS, { cmd: 'stream', count: ENDLESS, itemBytes: options.streamItemBytes, intervalMs: options.streamIntervalMs });
    await workers.call(SLOW_PROCESS, { cmd: 'pause', count: options.slowClients });
    const rateShares = split(options.slowRoomRate, workers.size - 1);
    await workers.each((index) => (index === SLOW_PROCESS ? undefined : { cmd: 'room-start', group: GROUP, ratePerSecond: rateShares[index - 1] }));

    const samples: SlowConsumersSample[] = [];
    const started = performance.now();
    const capBytes = options.rssCapMb * 2 ** 20;
    let cappedAt: number | undefined;
    for (let second = 1; second * 1000 <= options.slowDurationMs; second++) {
      await sleep(started + second * 1000 - performance.now());
      const rss = server.rssFromOutside();
      const stats = await server.stats(false, SAMPLE_TIMEOUT_MS).catch(() => undefined);
      const counts = await workers.each((index) => (index === SLOW_PROCESS ? undefined : { cmd: 'room-count' }));
      samples.push({ second, rss, connections: stats?.connections, sent: sum(counts, 'sent'), received: sum(counts, 'received'), readerCloses: sum(counts, 'closes') });
      if (rss !== undefined && rss > capBytes) {
        cappedAt = second;
        break;
      }
    }
    if (cappedAt !== undefined) await server.kill();
    else await window.end();
    const stopped = await workers.each((index) => (index === SLOW_PROCESS ? undefined : { cmd: 'room-stop' }));
    const resumed = cappedAt === undefined ? await workers.call(SLOW_PROCESS, { cmd: 'resume-paused', waitMs: RESUME_WAIT_MS }) : undefined;

    const latencies = Float64Array.from(stopped.flatMap((reply) => [...((reply.latencies as Float64Array | undefined) ?? [])])).toSorted();
    const readers = options.slowReaders;
    const expected = sum(stopped, 'sent') * readers;
    const received = sum(stopped, 'received');
    const problems = [
      failed > 0 ? `${failed} connections failed to open: ${String(opened.map((reply) => reply.firstError).find(Boolean))}` : undefined,
      cappedAt === undefined ? undefined : `server stopped at ${cappedAt} s, its RSS past ${options.rssCapMb} MiB${options.profile ? ' (no profile: it was killed)' : ''}`,
      received < expected ? `reading clients missed ${expected - received} of ${expected} receipts` : undefined,
    ].filter(Boolean);
    return {
      samples,
      startRss,
      cappedAt,
      slowClients: options.slowClients,
      readers,
      connectionsAtStart,
      p50Ms: percentile(latencies, 0.5) / 1000,
      p99Ms: percentile(latencies, 0.99) / 1000,
      // Not asked when the server was killed at the cap: every connection ended with it.
      ...pausedClientsOutcome(resumed && [resumed]),
      note: problems.length > 0 ? problems.join('; ') : undefined,
    };
  }, options.slowRoomPayloadBytes);
}
