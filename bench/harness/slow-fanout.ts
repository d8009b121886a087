import { sendBackToBack } from './back-to-back.js';
import type { TargetId } from './options.js';
import { pausedClientsOutcome, type PausedClientsOutcome } from './paused-clients.js';
import { split, type WorkerCommand } from './processes.js';
import { GROUP, openConnections, sum, withServer, type Context } from './scenarios.js';
import { percentile } from './stats.js';

/**
 * The slow-fanout scenario: broadcasts back to back to a group of which a share of members has
 * stopped reading, against the same group all reading. Deliveries are counted at the members
 * that read; the slow ones are asked at the end whether the server closed them, and why.
 */
export interface SlowFanoutResult extends PausedClientsOutcome {
  readonly members: number;
  readonly slow: number;
  /** Deliveries per second to the reading members, from the first send to the last receipt. */
  readonly deliveriesPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly cpuPerDelivery: number;
  /** Highest server RSS seen while the broadcasts went out, and before them. */
  readonly peakRss: number;
  readonly rssBefore: number;
  readonly note?: string;
}

const RSS_SAMPLE_MS = 250;
/** Long enough for a slow member to read what the server still holds for it, and its Close. */
const RESUME_WAIT_MS = 5000;

export async function runSlowFanout(context: Context, target: TargetId, slowPercent: number): Promise<SlowFanoutResult> {
  const { options } = context;
  const members = options.slowFanout;
  const slow = Math.round((members * slowPercent) / 100);
  // Profiled as `<target>:slow-fanout:<slow members>`: `:0` is the all-reading cell.
  return withServer(context, target, 'slow-fanout', slow, options.workers, async (server, workers, window) => {
    const { opened, note } = await openConnections(context, workers, members, true);
    const joined = sum(await workers.all({ cmd: 'join', group: GROUP }), 'joined');
    const slowShares = split(slow, workers.size);
    if (slow > 0) await workers.each((index) => ({ cmd: 'pause', count: slowShares[index] }));
    const armed = await workers.all({ cmd: 'fanout-arm', firstMeasuredRound: 1 });
    const reporting = armed.filter((reply) => Number(reply.receivers) > 0).length;
    const send = async (round: number) => Number((await workers.call(0, { cmd: 'send', group: GROUP, round } satisfies WorkerCommand)).sentAt);

    const rssBefore = server.rssFromOutside() ?? Number.NaN;
    let peakRss = rssBefore;
    const sampler = setInterval(() => (peakRss = Math.max(peakRss, server.rssFromOutside() ?? 0)), RSS_SAMPLE_MS);
    await window.begin();
    const cpuBefore = (await server.stats()).cpu;
    const run = await sendBackToBack(workers, {
      firstRound: 1,
      broadcasts: options.slowFanoutBroadcasts,
      window: options.slowFanoutWindow,
      reporting,
      timeoutMs: Math.max(10_000, members * 2),
      send,
    }).finally(() => clearInterval(sampler));
    const cpuAfter = (await server.stats()).cpu;
    await window.end();

    const latencies = Float64Array.from((await workers.all({ cmd: 'latencies' })).flatMap((reply) => [...(reply.latencies as Float64Array)])).toSorted();
    const resumed = slow > 0 ? await workers.all({ cmd: 'resume-paused', waitMs: RESUME_WAIT_MS }) : undefined;
    const expected = options.slowFanoutBroadcasts * (opened - slow);
    const problems = [
      note,
      joined < opened ? `${opened - joined} never joined` : undefined,
      run.incompleteRounds > 0 ? `${run.incompleteRounds} rounds incomplete` : undefined,
      latencies.length < expected ? `${expected - latencies.length} of ${expected} receipts missing` : undefined,
    ].filter(Boolean);
    return {
      members: opened,
      slow,
      deliveriesPerSecond: latencies.length / run.seconds,
      p50Ms: percentile(latencies, 0.5) / 1000,
      p99Ms: percentile(latencies, 0.99) / 1000,
      cpuPerDelivery: (cpuAfter - cpuBefore) / Math.max(1, latencies.length),
      peakRss,
      rssBefore,
      ...pausedClientsOutcome(resumed),
      note: problems.length > 0 ? problems.join('; ') : undefined,
    };
  }, options.slowFanoutPayloadBytes);
}
